"""Evaluation on real databases: challenges answered in event time move or release money,
frozen customers get their account back through the support desk, and a simulated week
is measured end to end."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tests.support import EventFactory, Harness
from walletguard.composition import build_runtime, run_facts
from walletguard.enrich.lists import ListEntity, ListEntry, ListKind
from walletguard.evaluate.document import evaluation_document
from walletguard.evaluate.replay import parse_lines
from walletguard.evaluate.service import Evaluation, evaluate_events
from walletguard.evaluate.truth import Campaign, EventLabel, GroundTruth, load_truth
from walletguard.events.decode import decode_event
from walletguard.ledger.model import wallet_account
from walletguard.simulate import TYPOLOGIES, SimConfig, write_run


def evaluate_docs(
    db_url: str, docs: list[dict[str, object]], truth: GroundTruth, *, block_ip: str | None = None
) -> tuple[Evaluation, Harness]:
    harness = Harness(db_url)
    runtime = harness.runtime
    if block_ip is not None:
        with runtime.transaction() as uow:
            uow.lists.add(
                ListEntry(ListKind.BLOCK, ListEntity.IP, block_ip, "botnet exit"),
                at=datetime.now(UTC),
            )
        runtime.engine.refresh_soon()
    evaluation = evaluate_events(
        [decode_event(d) for d in docs],
        runtime.engine,
        truth,
        lambda: run_facts(runtime.database),
        support=runtime.transaction,
    )
    return evaluation, harness


def history(f: EventFactory, account: str) -> list[dict[str, object]]:
    """`settled` as documents: an account a month old with money and habits."""
    docs: list[dict[str, object]] = list(f.funded(account, "5000.00"))
    for _ in range(12):
        f.advance(days=2)
        docs += [f.login(account), f.payment(account, merchant="grocer", amount="35.00")]
    f.advance(days=1)
    return docs


def test_a_customer_passes_the_step_up_and_is_paid_an_intruder_fails_and_is_not(
    db_url: str,
) -> None:
    f = EventFactory()
    docs = history(f, "alice") + history(f, "bob")
    odd_phone = {"id": "emu-7", "is_emulator": True}
    docs.append(f.withdraw("alice", amount="500.00", token="card-alice", device=odd_phone))
    f.advance(minutes=10)
    stolen = f.withdraw("bob", amount="500.00", token="card-bob", device=odd_phone)
    docs.append(stolen)
    truth = GroundTruth(
        labels={stolen["event_id"]: EventLabel("c-1", "account_takeover", "cash_out")},
        campaigns={
            "c-1": Campaign(
                "c-1", "account_takeover", f.now, ("bob",), {"victim": ("bob",)}, 500_0000, "CNY"
            )
        },
    )
    evaluation, harness = evaluate_docs(db_url, docs, truth)
    try:
        by_id = {o.event_id: o for o in evaluation.observations}
        assert by_id[docs[-2]["event_id"]].decision == "challenge"  # type: ignore[index]
        assert by_id[docs[-2]["event_id"]].outcome == "passed"  # type: ignore[index]
        assert by_id[stolen["event_id"]].outcome == "failed"
        [typology] = [t for t in evaluation.typologies if t.typology == "account_takeover"]
        assert (typology.tried, typology.left) == (500_0000, 0)
        with harness.runtime.transaction() as uow:
            alice = uow.ledger.balance(wallet_account("alice"), "CNY")
            bob = uow.ledger.balance(wallet_account("bob"), "CNY")
        assert bob.held == 0  # the intruder's hold was released
        assert alice.available == bob.available - 500_0000  # the customer's was posted
        assert [a.who for a in evaluation.step_ups].count("intruder") == 3
    finally:
        harness.close()


def test_a_frozen_customer_appeals_and_pays_again_once_the_desk_lifts_the_freeze(
    db_url: str,
) -> None:
    f = EventFactory()
    docs = history(f, "alice")
    docs.append(f.login("alice", network={"ip": "203.0.113.9"}))
    f.advance(minutes=5)
    refused = f.payment("alice", amount="20.00")
    f.advance(hours=12)
    later = f.payment("alice", amount="20.00")
    docs += [refused, later]
    evaluation, harness = evaluate_docs(db_url, docs, GroundTruth(), block_ip="203.0.113.9")
    try:
        by_id = {o.event_id: o for o in evaluation.observations}
        assert by_id[refused["event_id"]].guard == "ACCOUNT_FROZEN"
        assert by_id[later["event_id"]].outcome == "allowed"
        assert evaluation.support is not None
        assert (evaluation.support.appeals, evaluation.support.lifted) == (1, 1)
        facts = run_facts(harness.runtime.database)
        [appeal] = facts.appeals()
        assert (appeal.account_id, appeal.result) == ("alice", "lifted")
        changes = [(c.to_state, c.actor) for c in facts.state_changes()]
        assert ("frozen", "rule:block_listed") in changes
        assert changes[-1][0] == "active"
        op = evaluation.operating
        assert op.appeals == 1
        assert op.mean_hours_to_unlock is not None
        assert 1 < op.mean_hours_to_unlock < 12
    finally:
        harness.close()


def test_a_simulated_week_is_measured_end_to_end(db_url: str, tmp_path: Path) -> None:
    config = SimConfig(seed=3, users=120, days=2, rates=dict.fromkeys(TYPOLOGIES, 150.0))
    summary = write_run(config, tmp_path / "sim")
    truth = load_truth(tmp_path / "sim" / "labels.jsonl")
    runtime = build_runtime(db_url)
    try:
        with (tmp_path / "sim" / "events.jsonl").open("rb") as source:
            evaluation = evaluate_events(
                parse_lines(source),
                runtime.engine,
                truth,
                lambda: run_facts(runtime.database),
                support=runtime.transaction,
                batch_size=700,
            )
    finally:
        runtime.close()
    doc = evaluation_document(evaluation)
    assert doc["events"] == summary.events
    assert sum(doc["decisions"].values()) == summary.events
    assert {t["typology"] for t in doc["typologies"]} == set(TYPOLOGIES)
    assert sum(t["campaigns"] for t in doc["typologies"]) == sum(summary.campaigns.values())
    for c in evaluation.campaigns:
        assert 0 <= c.left <= c.tried
    assert evaluation.latency.samples >= summary.events
    assert any(r.malicious for r in evaluation.rules)
    assert evaluation.step_ups, "some challenge was answered"
    assert doc["friction"]["legitimate_users"] > 100
    assert len(doc["targets"]) == len(TYPOLOGIES) + 2
