"""The engine's ledger stage with limits, approvals and top-up deadlines (default policy
and ruleset, real databases)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.support import EventFactory, Harness, codes
from walletguard.cases import actions as cases
from walletguard.decisions.engine import Failure
from walletguard.enrich.lists import ListEntity, ListEntry, ListKind
from walletguard.events.decode import decode_event
from walletguard.ledger import withdrawals
from walletguard.ledger.model import HoldStatus, wallet_account
from walletguard.ledger.settings import load_ledger_settings
from walletguard.storage import tables as t
from walletguard.storage.ledger_invariants import check_ledger
from walletguard.storage.ledger_session import ledger_session

CONFIG = """
limits:
  tiers:
    standard:
      withdrawal: {per_transaction: "100000"}
      transfer: {daily: "1500"}
approvals:
  withdrawal: {one_approver_above: "5000", two_approvers_above: "20000"}
topups:
  confirm_within_hours: 2
"""


@pytest.fixture
def h(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    config = tmp_path / "ledger.yaml"
    config.write_text(CONFIG)
    monkeypatch.setenv("WALLETGUARD_LEDGER_CONFIG", str(config))
    harness = Harness(db_url)
    yield harness
    harness.close()


def sound(h: Harness) -> None:
    with h.runtime.database.reading() as conn:
        assert check_ledger(conn) == []


def test_a_refusal_names_the_limit(h: Harness, events: EventFactory) -> None:
    h.decide_all(events.funded("alice", "5000.00"))
    events.advance(days=3)
    h.decide(events.register("bob"))
    assert h.decide(events.transfer(to="bob", amount="1000.00")).decision == "allow"
    events.advance(hours=1)
    refused = h.decide(events.transfer(to="bob", amount="600.00"))
    assert refused.decision == "block"
    assert "LIMIT_DAILY_TRANSFER" in codes(refused)
    message = next(r.message for r in refused.reasons if r.code == "LIMIT_DAILY_TRANSFER")
    assert "limit of 1500.00 CNY" in message
    assert "1000.00 CNY used today" in message
    sound(h)


def test_an_allowed_transfer_posts_once_under_its_event_id(
    h: Harness, events: EventFactory
) -> None:
    h.decide_all(events.funded("alice", "5000.00"))
    events.advance(days=3)
    h.decide(events.register("bob"))
    doc = events.transfer(to="bob", amount="400.00")
    assert h.decide(doc).decision == "allow"
    assert h.decide(doc).decision == "allow"  # the same event again: stored answer, no posting
    with h.runtime.database.reading() as conn:
        posted = (
            conn.execute(
                select(t.ledger_transactions.c.id).where(
                    t.ledger_transactions.c.event_id == doc["event_id"]
                )
            )
            .scalars()
            .all()
        )
        kept = conn.execute(select(t.transfers.c.id)).scalars().all()
    assert posted == ["evt:" + doc["event_id"]]
    assert kept == []  # the decision is the once-only record of an engine movement
    with ledger_session(h.runtime.database) as session:
        assert session.ledger.balance(wallet_account("bob"), "CNY").posted == 400_0000
    events.advance(hours=1)
    refused = h.decide(events.transfer(to="bob", amount="1200.00"))
    assert "LIMIT_DAILY_TRANSFER" in codes(refused)  # the 400.00 counted against the day
    sound(h)


def test_limits_hold_inside_one_replay_batch(h: Harness, events: EventFactory) -> None:
    docs = events.funded("alice", "5000.00")
    events.advance(days=3)
    docs.append(events.register("bob"))
    docs += [events.transfer(to="bob", amount="700.00") for _ in range(3)]
    results = list(h.engine.decide_batch([decode_event(d) for d in docs]))
    outcomes = [r.decision for r in results[-3:] if not isinstance(r, Failure)]
    assert outcomes == ["allow", "allow", "block"]
    sound(h)


def test_a_large_withdrawal_waits_for_two_approvers(h: Harness, events: EventFactory) -> None:
    h.decide_all(events.funded("alice", "30000.00"))
    events.advance(days=3)
    held = h.decide(events.withdraw(token="card-alice", amount="25000.00"))
    assert held.decision == "review"
    assert "APPROVAL_REQUIRED" in codes(held)
    assert held.hold_id is not None
    assert "step_up" not in " ".join(held.actions)
    database = h.runtime.database
    settings = load_ledger_settings()
    now = datetime.now(UTC)
    for approver in ("operator:ann", "operator:bob"):
        with ledger_session(database) as session:
            hold, request = withdrawals.approve_withdrawal(
                session, settings, held.hold_id, approver=approver, at=now
            )
    assert request.approvers == ("operator:ann", "operator:bob")
    assert hold.status is HoldStatus.POSTED
    with ledger_session(database) as session:
        assert session.ledger.balance(wallet_account("alice"), "CNY").posted == 5000_0000
    sound(h)


def test_voiding_a_withdrawal_from_its_case_rejects_it(h: Harness, events: EventFactory) -> None:
    """Its approval request closes (it would wait in the checkers' queue forever) and the
    user is told, as `ledger withdrawal reject` does."""
    h.decide_all(events.funded("alice", "30000.00"))
    events.advance(days=3)
    held = h.decide(events.withdraw(token="card-alice", amount="25000.00"))
    assert held.hold_id is not None
    assert held.case_id is not None
    with h.runtime.transaction() as uow:
        cases.void_hold(uow, held.case_id, held.hold_id, reason="not the owner", actor="ann",
                        at=datetime.now(UTC))  # fmt: skip
    with h.runtime.transaction() as uow:
        hold = uow.ledger.hold(held.hold_id)
        assert hold is not None
        assert hold.status is HoldStatus.VOIDED
        assert hold.approval_id is not None
        request = uow.approvals.get(hold.approval_id)
        assert request is not None
        assert request.status.value == "rejected"
    with h.runtime.database.reading() as conn:
        templates = (
            conn.execute(select(t.outbox.c.template).where(t.outbox.c.account_id == "alice"))
            .scalars()
            .all()
        )
    assert "withdrawal.rejected" in templates
    sound(h)


def test_a_late_confirmation_never_makes_a_topup_spendable(
    h: Harness, events: EventFactory
) -> None:
    h.decide(events.register())
    h.decide(events.topup(amount="800.00", ref="late"))
    events.advance(hours=3)
    decision = h.decide(events.confirm(amount="800.00", ref="late"))
    assert decision.decision == "block"
    assert "TOPUP_CONFIRMED_LATE" in codes(decision)
    assert decision.case_id is not None
    with h.runtime.database.reading() as conn:
        status = conn.execute(select(t.topups.c.status)).scalar()
        posted = conn.execute(
            select(t.balances.c.posted).where(t.balances.c.account == "wallet:alice")
        ).scalar()
    assert status == "suspected_fake"
    assert posted == 0
    sound(h)


def test_a_blocked_confirmation_credits_nothing_spendable(h: Harness, events: EventFactory) -> None:
    """The channel has the money, so the top-up is confirmed; but the confirmation was
    blocked (the account was listed meanwhile), so all of it is held for a person, with a
    case: voiding the hold gives it to the wallet, posting it refunds it through suspense."""
    h.decide_all(events.funded("alice", "1000.00"))
    h.decide(events.topup(amount="500.00", ref="then-listed"))
    with h.runtime.transaction() as uow:
        uow.lists.add(
            ListEntry(ListKind.BLOCK, ListEntity.ACCOUNT, "alice", "stolen identity", None, "t"),
            at=events.now,
        )
    h.engine.refresh_soon()
    events.advance(minutes=5)
    decision = h.decide(events.confirm(amount="500.00", ref="then-listed"))
    assert decision.decision == "block"
    assert decision.hold_id is not None
    assert decision.case_id is not None
    with ledger_session(h.runtime.database) as session:
        balance = session.ledger.balance(wallet_account("alice"), "CNY")
        hold = session.ledger.hold(decision.hold_id)
    assert (balance.posted, balance.held, balance.available) == (1500_0000, 500_0000, 1000_0000)
    assert hold is not None
    assert hold.status is HoldStatus.PENDING
    assert hold.on_expiry.value == "keep"
    sound(h)
