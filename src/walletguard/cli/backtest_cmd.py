"""`walletguard backtest EVENTS LABELS --candidate RULESET`: what promoting it would change."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from walletguard.cli.common import err, failing_cleanly, markup, out, plain, writable_file
from walletguard.cli.evaluate_cmd import (
    CampaignsOption,
    EventsArg,
    LabelsArg,
    PopulationOption,
    SupportOption,
)
from walletguard.cli.evaluation_view import advance_on_input, count_lines, event_progress
from walletguard.cli.replay_cmd import BatchOption, PolicyOption
from walletguard.composition import build_runtime, run_facts, tune_gc_for_throughput
from walletguard.evaluate.backtest import compare, comparison_document
from walletguard.evaluate.replay import parse_lines
from walletguard.evaluate.service import Evaluation, evaluate_events
from walletguard.evaluate.truth import GroundTruth, load_truth


def _ruleset_file(help_text: str, **options: Any) -> Any:
    """An option naming a ruleset file, checked to exist before anything is replayed."""
    return typer.Option(help=help_text, exists=True, dir_okay=False, readable=True, **options)


def backtest_command(
    events: EventsArg,
    labels: LabelsArg,
    candidate: Annotated[
        Path, _ruleset_file("The ruleset YAML that might be promoted.", show_default=False)
    ],
    current: Annotated[
        Path | None, _ruleset_file("The ruleset in force (default: the bundled default ruleset).")
    ] = None,
    campaigns: CampaignsOption = None,
    population: PopulationOption = None,
    policy: PolicyOption = None,
    support: SupportOption = True,
    json_out: Annotated[
        Path | None,
        typer.Option("--json", help="Write the comparison as JSON here.", callback=writable_file),
    ] = None,
    batch: BatchOption = 5000,
) -> None:
    """Run EVENTS through the current and the candidate ruleset, each on a scratch
    database with every effect, and show the difference side by side."""
    with failing_cleanly():
        truth = load_truth(labels, campaigns, population)
        total = count_lines(events)
        with tempfile.TemporaryDirectory(prefix="walletguard-backtest-") as scratch:
            runs = []
            for name, ruleset in (("current", current), ("candidate", candidate)):
                url = f"sqlite:///{Path(scratch) / f'{name}.db'}"
                runs.append(_run(name, events, total, truth, url, ruleset, policy, support, batch))
        comparison = compare(*runs)
        doc = comparison_document(comparison)
    print_comparison(doc)
    if json_out is not None:
        json_out.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        out.print(markup("comparison written to [bold]{}[/]", json_out))


def _run(
    name: str,
    events: Path,
    total: int,
    truth: GroundTruth,
    url: str,
    ruleset: Path | None,
    policy: Path | None,
    support: bool,
    batch: int,
) -> Evaluation:
    runtime = build_runtime(url, ruleset_path=ruleset, policy_path=policy)
    tune_gc_for_throughput()
    try:
        with events.open("rb") as source, event_progress(err, name, total) as (bar, task):
            return evaluate_events(
                parse_lines(source),
                runtime.engine,
                truth,
                lambda: run_facts(runtime.database),
                support=runtime.transaction if support else None,
                batch_size=batch,
                progress=advance_on_input(bar, task),
            )
    finally:
        runtime.close()


def _delta(a: Any, b: Any) -> str:
    if isinstance(a, int) and isinstance(b, int):
        return f"{b - a:+,}" if a != b else ""
    if isinstance(a, float) and isinstance(b, float):
        return f"{(b - a) * 100:+.2f} pt" if a != b else ""
    return ""


def _show(value: Any, key: str) -> Text:
    if value is None:
        return plain("–")
    if isinstance(value, float) and (key.startswith(("share", "precision", "recall", "false"))):
        return plain(f"{value * 100:.2f} %")
    if isinstance(value, int):
        return plain(f"{value:,}")
    return plain(value)  # a ruleset's version, as its file has it


def print_comparison(doc: dict[str, Any]) -> None:
    current, candidate = doc["current"], doc["candidate"]
    table = Table(title="back-test: current vs candidate", title_justify="left")
    for column in ("", "current", "candidate", "change"):
        table.add_column(column, justify="left" if not column else "right")
    keys = [
        "ruleset_version",
        "alerts",
        "cases",
        "precision",
        "recall",
        "precision_at_medium",
        "recall_at_medium",
        "false_positive_rate",
        "money_tried",
        "money_stopped",
        "money_left",
        "share_money_stopped",
        "legit_users_challenged_or_held",
        "share_legit_users_challenged_or_held",
        "legit_money_movements_blocked_by_risk",
        "share_legit_money_blocked_by_risk",
        "targets_met",
        "targets_missed",
    ]
    for verdict in ("allow", "challenge", "review", "block"):
        a = current["decisions"].get(verdict, 0)
        b = candidate["decisions"].get(verdict, 0)
        table.add_row(f"decisions: {verdict}", f"{a:,}", f"{b:,}", _delta(a, b))
    for key in keys:
        a, b = current[key], candidate[key]
        table.add_row(key.replace("_", " "), _show(a, key), _show(b, key), _delta(a, b))
    out.print(table)

    typ = Table(title="money stopped by typology", title_justify="left")
    for column in (
        "typology",
        "tried",
        "left now",
        "left with candidate",
        "stopped now",
        "with candidate",
    ):
        typ.add_column(column, justify="left" if column == "typology" else "right")
    for name, now in current["by_typology"].items():
        then = candidate["by_typology"].get(name, {})
        typ.add_row(
            plain(name),
            plain(now["money_tried"]),
            plain(now["money_left"]),
            plain(then.get("money_left", "–")),
            _show(now["share_stopped"], "share"),
            _show(then.get("share_stopped"), "share"),
        )
    out.print(typ)
    out.print(
        f"decisions that change: [bold]{doc['decisions_changed']:,}[/] "
        f"({doc['changed_on_attacks']:,} on attack events, {doc['changed_on_legit']:,} on legit)"
    )
    if doc["changes"]:
        out.print(
            "  " + ", ".join(f"{c['from']} → {c['to']}: {c['events']:,}" for c in doc["changes"])
        )
    if doc["examples"]:
        ex = Table(title="examples", title_justify="left")
        for column in ("event", "type", "label", "now", "candidate", "candidate's reasons"):
            ex.add_column(column)
        for e in doc["examples"][:12]:
            ex.add_row(
                plain(e["event_id"]),
                plain(e["type"]),
                plain(e["label"]),
                plain(e["current"]),
                plain(e["candidate"]),
                plain(", ".join(e["candidate_reasons"][:3])),
            )
        out.print(ex)
