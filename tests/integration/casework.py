"""Helpers for case, audit, evidence and notification tests: a small ruleset whose
decisions are easy to predict, and a harness that also does case work."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path

from tests.support import EventFactory, Harness
from walletguard.cases import service
from walletguard.cases.model import CaseOutcome
from walletguard.composition import unit_of_work
from walletguard.storage.uow import SqlUnitOfWork

RULES = """
name: casework
description: Predictable rules for case tests.
rules:
  - id: big_money_out
    code: BIG_MONEY_OUT
    on: [withdrawal, transfer]
    when: event.amount >= 10000
    score: 650
    reason: "A large amount: {event.amount}"
  - id: payee_reported
    code: PAYEE_REPORTED
    on: transfer
    when: counterparty.fraud_reports >= 1
    score: 650
    reason: "The payee was named in fraud"
  - id: device_reported
    code: DEVICE_REPORTED
    on: [login, transfer, withdrawal]
    when: device.fraud_reports >= 1
    score: 300
    reason: "The device was named in fraud"
  - id: blocked
    code: ON_BLOCK_LIST
    on: [login, transfer, withdrawal]
    when: lists.blocked
    score: 900
    reason: "On a block list"
  - id: huge_money_out
    code: HUGE_MONEY_OUT
    on: [withdrawal, transfer]
    when: event.amount >= 100000
    score: 300
    reason: "A huge amount: {event.amount}"
"""

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def ruleset_file(directory: Path) -> Path:
    path = directory / "casework-rules.yaml"
    path.write_text(RULES)
    return path


def case_harness(db_url: str, directory: Path) -> Harness:
    return Harness(db_url, ruleset_path=ruleset_file(directory), exclusive=False)


def work(h: Harness) -> AbstractContextManager[SqlUnitOfWork]:
    """A shared-mode unit of work on the harness's database, committed at the end."""
    return unit_of_work(h.runtime.database)


def held_withdrawal(h: Harness, events: EventFactory, account: str, amount: str) -> str:
    """Fund `account` and have a large withdrawal held for review; returns the case id."""
    h.decide_all(events.funded(account, "300000.00"))
    events.advance(days=2)
    decision = h.decide(events.withdraw(account, amount, token=f"card-{account}"))
    assert decision.decision == "review", decision
    assert decision.hold_id is not None
    assert decision.case_id is not None
    return decision.case_id


def restored(h: Harness, case_id: str) -> None:
    """Lift the restriction a review put on the case's account (asked by one analyst,
    approved by another), as an analyst does before releasing its held money."""
    from walletguard.cases import actions

    with work(h) as uow:
        asked = actions.unfreeze(uow, case_id, reason="customer verified", actor="ann", at=NOW)
    assert asked.approval is not None
    with work(h) as uow:
        assert actions.approve_action(uow, asked.approval.id, approver="carl", at=NOW).done


def confirm_fraud(h: Harness, case_id: str) -> None:
    """An analyst resolves the case as confirmed fraud (its reports feed the features)."""
    with work(h) as uow:
        service.resolve(
            uow,
            case_id,
            CaseOutcome.FRAUD_CONFIRMED,
            actor="ann",
            at=NOW,
            note="cash-out",
            source=uow.cases,
            reports=uow.cases,
        )
