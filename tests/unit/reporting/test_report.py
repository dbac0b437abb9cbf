"""The risk report says plainly where a target was missed, in both formats."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from tests.unit.evaluate.test_measures import campaign, obs
from walletguard.evaluate.document import evaluation_document
from walletguard.evaluate.observe import Observer
from walletguard.evaluate.ports import AppealFact, StateChange
from walletguard.evaluate.service import Evaluation, measure
from walletguard.evaluate.truth import GroundTruth
from walletguard.reporting.content import Paragraph, build_content
from walletguard.reporting.report import write_report


class NoFacts:
    def rule_hits(self) -> Iterator[tuple[str, str, str]]:
        return iter(())

    def state_changes(self) -> list[StateChange]:
        return []

    def appeals(self) -> list[AppealFact]:
        return []

    def suspected_topups(self) -> set[str]:
        return set()

    def case_counts(self) -> dict[str, int]:
        return {"alerts": 0}


def leaky_week() -> Evaluation:
    out = ("c1", "mule_ring", "cash_out")
    truth = GroundTruth(
        campaigns={"c1": campaign("c1", "mule_ring", {"mule": ("mule",)})},
    )
    observer = Observer(truth)
    observer.observations += [
        obs("payment", "bob", amount="20"),
        obs(
            "withdrawal",
            "mule",
            minutes=5,
            amount="400",
            label=out,
            level="low",
            codes=("FIRST_WITHDRAWAL_NEW_ACCOUNT",),
        ),
        obs(
            "withdrawal",
            "mule",
            minutes=9,
            amount="600",
            label=out,
            decision="review",
            level="high",
        ),
    ]
    for o in observer.observations:
        if o.label is not None:
            truth.labels[o.event_id] = o.label
    return measure(
        observer,
        [],
        truth,
        NoFacts(),
        engine_seconds=[5e-5, 8e-5],
        seconds=1.0,
        cpu_seconds=1.0,
        ruleset_version="test",
    )


def test_a_missed_typology_gets_a_note_with_the_leaking_events_and_what_would_catch_it() -> None:
    ev = leaky_week()
    doc = evaluation_document(ev)
    _, blocks = build_content(ev, doc, title="t")
    warnings = [b.text for b in blocks if isinstance(b, Paragraph) and b.tone == "warn"]
    assert len(warnings) == 1
    assert warnings[0].startswith("mule ring: 60.0 % of the money tried was stopped")
    assert "400.00 CNY left in 1 of 1 campaigns" in warnings[0]
    assert "FIRST_WITHDRAWAL_NEW_ACCOUNT" in warnings[0]
    assert "fund-flow graph" in warnings[0]


def test_the_report_is_written_as_html_and_pdf(tmp_path: Path) -> None:
    ev = leaky_week()
    html, pdf = write_report(ev, evaluation_document(ev), tmp_path)
    text = html.read_text()
    assert "Where a target was missed" in text
    assert "MISSED" in text
    assert pdf.read_bytes().startswith(b"%PDF")
    assert sorted(p.name for p in (tmp_path / "charts").iterdir()) == [
        "decisions_over_time.png",
        "latency.png",
        "money.png",
        "rules.png",
        "typologies.png",
        "wallet_metrics.png",
    ]
