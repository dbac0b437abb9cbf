"""Cases and the review queue on a real database: alerts into cases, the workflow, actions
through the domain services with maker-checker, outcomes that become labels, appeals."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.integration.casework import (
    NOW,
    case_harness,
    confirm_fraud,
    held_withdrawal,
    restored,
    work,
)
from tests.support import EventFactory, Harness
from walletguard.accounts.service import approve_unfreeze
from walletguard.accounts.service import freeze as service_freeze
from walletguard.audit.checkpoint import TrustedKeys
from walletguard.audit.verify import verify_log
from walletguard.cases import actions, service
from walletguard.cases.appeals import AppealResult, open_appeal, resolve_appeal
from walletguard.cases.model import CaseOutcome, CaseStatus
from walletguard.cases.queue import order_queue
from walletguard.cases.stats import rule_precision
from walletguard.composition import build_runtime
from walletguard.enrich.lists import ListEntity, ListEntry, ListKind
from walletguard.kernel.errors import Conflict, IllegalTransition, InvalidInput, NotFound, Refused
from walletguard.storage import tables as t
from walletguard.storage.repositories.audit import SqlAuditReader


@pytest.fixture
def h(db_url: str, tmp_path: Path) -> Harness:
    harness = case_harness(db_url, tmp_path)
    yield harness  # type: ignore[misc]
    harness.close()


@pytest.fixture
def events() -> EventFactory:
    """Plain event ids (ev-1, ev-2, ...): these stories refer to holds by their event's id."""
    return EventFactory()


def audit_actions(h: Harness) -> list[str]:
    reader = SqlAuditReader(h.runtime.database)
    return [r.action for head in reader.heads() for r in reader.records(head.chain)]


def test_alerts_of_one_account_join_its_open_case(h: Harness, events: EventFactory) -> None:
    case_id = held_withdrawal(h, events, "alice", "20000.00")
    events.advance(minutes=5)
    h.decide(events.login("alice"))
    with work(h) as uow:
        case = service.get_case(uow, case_id)
        assert case.status is CaseStatus.OPEN
        assert case.alert_count == 1
        assert case.amount_at_stake_units == 20000 * 10_000
        assert case.risk_level == "high"


def test_the_queue_puts_risk_money_and_overdue_cases_first(
    h: Harness, events: EventFactory
) -> None:
    small = held_withdrawal(h, events, "small", "10000.00")
    big = held_withdrawal(h, events, "big", "90000.00")
    with work(h) as uow:
        cases = uow.cases.list_cases()
    queue = order_queue(cases, NOW)
    assert [e.case.id for e in queue] == [big, small]
    # high risk: a day to act on each
    assert all(e.due_at == e.case.opened_at + timedelta(hours=24) for e in queue)


def test_workflow_moves_in_order_and_resolved_is_final(h: Harness, events: EventFactory) -> None:
    case_id = held_withdrawal(h, events, "alice", "20000.00")
    with work(h) as uow:
        assigned = service.assign(uow, case_id, "rita", actor="lead", at=NOW)
        assert assigned.status is CaseStatus.INVESTIGATING
        service.move(uow, case_id, CaseStatus.WAITING_CUSTOMER, actor="rita", at=NOW, note="asked")
        service.move(uow, case_id, CaseStatus.INVESTIGATING, actor="rita", at=NOW)
        service.add_note(uow, case_id, "customer sent ID", actor="rita", at=NOW)
        resolved, labels = service.resolve(
            uow,
            case_id,
            CaseOutcome.FALSE_POSITIVE,
            actor="rita",
            at=NOW,
            note="genuine customer",
            source=uow.cases,
            reports=uow.cases,
        )
    assert resolved.status is CaseStatus.RESOLVED
    assert [label.label for label in labels] == ["legit"]
    with work(h) as uow:
        with pytest.raises(IllegalTransition):
            service.move(uow, case_id, CaseStatus.INVESTIGATING, actor="rita", at=NOW)
        notes = [n.kind for n in uow.cases.notes_of(case_id)]
    assert notes == ["assign", "status", "status", "note", "resolve"]
    actions_logged = audit_actions(h)
    for action in ("case.assigned", "case.status_changed", "case.noted", "case.resolved"):
        assert action in actions_logged


def test_a_failed_step_changes_nothing(h: Harness, events: EventFactory) -> None:
    case_id = held_withdrawal(h, events, "alice", "20000.00")
    before = audit_actions(h)

    def assign_then_fail() -> None:
        with work(h) as uow:
            service.assign(uow, case_id, "rita", actor="lead", at=NOW)
            service.move(uow, case_id, CaseStatus.RESOLVED, actor="rita", at=NOW)

    with pytest.raises(InvalidInput, match="outcome") as refused:
        assign_then_fail()
    assert [p.path for p in refused.value.problems] == ["$.status"]
    with work(h) as uow:
        assert service.get_case(uow, case_id).assignee is None
    assert audit_actions(h) == before


def test_unfreezing_needs_a_second_person(h: Harness, events: EventFactory) -> None:
    case_id = held_withdrawal(h, events, "alice", "20000.00")
    with work(h) as uow:
        asked = actions.unfreeze(uow, case_id, reason="customer verified", actor="ann", at=NOW)
    assert not asked.done
    assert asked.approval is not None
    with work(h) as uow:
        assert uow.accounts.get("alice").state.value == "restricted"  # type: ignore[union-attr]
        with pytest.raises(Refused, match="maker-checker"):
            actions.approve_action(uow, asked.approval.id, approver="ann", at=NOW)
    with work(h) as uow:
        done = actions.approve_action(uow, asked.approval.id, approver="carl", at=NOW)
    assert done.done
    with work(h) as uow:
        assert uow.accounts.get("alice").state.value == "active"  # type: ignore[union-attr]
        # The approval was for that restriction: a new freeze needs a new one.
        actions.freeze(
            uow, case_id, reason="new evidence", actor="ann", at=NOW + timedelta(hours=1)
        )
    with work(h) as uow:
        again = actions.unfreeze(
            uow, case_id, reason="ok", actor="ann", at=NOW + timedelta(hours=2)
        )
    assert not again.done
    assert audit_actions(h).count("account.state_changed") >= 3


def test_held_money_does_not_leave_an_account_that_may_not_send_it(
    h: Harness, events: EventFactory
) -> None:
    """The review that held the withdrawal restricted the account: nothing goes out of it,
    from a case either, until the restriction is lifted (by two people)."""
    case_id = held_withdrawal(h, events, "alice", "12000.00")
    one_person = actions.QueueSettings(large_hold_units=15_000 * 10_000)

    def release() -> actions.ActionResult:
        with work(h) as uow:
            return actions.release_hold(
                uow, case_id, "hold-ev-5", reason="ok", actor="ann", at=NOW, settings=one_person
            )

    with pytest.raises(Refused) as refused:
        release()
    assert refused.value.reason_code == "ACCOUNT_RESTRICTED"
    with work(h) as uow:
        assert uow.ledger.hold("hold-ev-5").status.value == "pending"  # type: ignore[union-attr]
    restored(h, case_id)
    assert release().done


def test_an_unfreeze_approval_lifts_one_restriction_once(h: Harness, events: EventFactory) -> None:
    case_id = held_withdrawal(h, events, "alice", "12000.00")  # the review restricted alice
    with work(h) as uow:
        asked = actions.unfreeze(uow, case_id, reason="customer verified", actor="ann", at=NOW)
    assert asked.approval is not None
    later = NOW + timedelta(minutes=5)
    with work(h) as uow:
        actions.freeze(uow, case_id, reason="new evidence", actor="carol", at=later)
    # asked for the restriction: it does not lift the freeze that came after
    with work(h) as uow, pytest.raises(Conflict, match="changed since"):
        actions.approve_action(uow, asked.approval.id, approver="bob", at=later)
    with work(h) as uow:
        again = actions.unfreeze(uow, case_id, reason="all checked", actor="ann", at=later)
    assert again.approval is not None
    assert again.approval.id != asked.approval.id
    with work(h) as uow:
        assert actions.approve_action(uow, again.approval.id, approver="bob", at=later).done
    # used once: a new freeze needs a new approval, whoever asks
    much_later = later + timedelta(hours=1)
    with work(h) as uow:
        actions.freeze(uow, case_id, reason="more chargebacks", actor="carol", at=much_later)
    with work(h) as uow:
        third = actions.unfreeze(uow, case_id, reason="fine", actor="mallory", at=much_later)
    assert not third.done
    with work(h) as uow:
        assert uow.accounts.get("alice").state.value == "frozen"  # type: ignore[union-attr]


def test_a_cases_unfreeze_approval_is_approved_from_the_case(
    h: Harness, events: EventFactory
) -> None:
    """One approval, two ways in: the account's own `approve-unfreeze` points to the case
    rather than calling a case's request stale."""
    case_id = held_withdrawal(h, events, "alice", "12000.00")
    with work(h) as uow:
        service_freeze(uow, "alice", reason="new evidence", actor="carol", at=NOW)
    with work(h) as uow:
        asked = actions.unfreeze(uow, case_id, reason="customer verified", actor="ann", at=NOW)
    assert asked.approval is not None
    with work(h) as uow, pytest.raises(Refused) as refused:
        approve_unfreeze(uow, asked.approval.id, approver="bob", at=NOW)
    assert refused.value.reason_code == "CASE_APPROVAL"
    assert f"cases approve {asked.approval.id}" in str(refused.value)
    with work(h) as uow:
        assert actions.approve_action(uow, asked.approval.id, approver="bob", at=NOW).done
        assert uow.accounts.get("alice").state.value == "active"  # type: ignore[union-attr]


def test_held_money_is_not_released_into_a_frozen_wallet(h: Harness, events: EventFactory) -> None:
    h.decide_all(events.funded("bob", "10.00"))
    h.decide_all(events.funded("alice", "300000.00"))
    events.advance(days=2)
    held = h.decide(events.transfer("alice", to="bob", amount="12000.00"))
    assert held.hold_id is not None, held
    assert held.case_id is not None
    restored(h, held.case_id)
    with work(h) as uow:
        service_freeze(uow, "bob", reason="mule signs", actor="analyst:kim", at=NOW)
    one_person = actions.QueueSettings(large_hold_units=15_000 * 10_000)
    with work(h) as uow, pytest.raises(Refused) as refused:
        actions.release_hold(uow, held.case_id, held.hold_id, reason="ok", actor="ann", at=NOW,
                             settings=one_person)  # fmt: skip
    assert refused.value.reason_code == "ACCOUNT_FROZEN"


def test_large_holds_need_approval_small_ones_do_not(h: Harness, events: EventFactory) -> None:
    big_case = held_withdrawal(h, events, "alice", "20000.00")
    small_case = held_withdrawal(h, events, "bob", "12000.00")
    restored(h, big_case)
    restored(h, small_case)
    small_settings = actions.QueueSettings(large_hold_units=15_000 * 10_000)
    with work(h) as uow:
        waiting = actions.release_hold(
            uow,
            big_case,
            "hold-ev-5",
            reason="checked",
            actor="ann",
            at=NOW,
            settings=small_settings,
        )
        released = actions.release_hold(
            uow,
            small_case,
            "hold-ev-10",
            reason="checked",
            actor="ann",
            at=NOW,
            settings=small_settings,
        )
    assert not waiting.done
    assert released.done
    with work(h) as uow:
        assert uow.ledger.hold("hold-ev-5").status.value == "pending"  # type: ignore[union-attr]
        done = actions.approve_action(uow, waiting.approval.id, approver="carl", at=NOW)  # type: ignore[union-attr]
    assert done.done
    with work(h) as uow:
        assert uow.ledger.hold("hold-ev-5").status.value == "posted"  # type: ignore[union-attr]
        with pytest.raises(Conflict):
            actions.void_hold(uow, big_case, "hold-ev-5", reason="too late", actor="ann", at=NOW)


def test_voiding_a_hold_returns_the_money(h: Harness, events: EventFactory) -> None:
    case_id = held_withdrawal(h, events, "alice", "20000.00")
    with work(h) as uow:
        before = uow.ledger.balance("wallet:alice", "CNY")
        actions.void_hold(uow, case_id, "hold-ev-5", reason="fraud", actor="ann", at=NOW)
        after = uow.ledger.balance("wallet:alice", "CNY")
    assert after.available - before.available == 20000 * 10_000
    # a withdrawal is rejected, as `ledger withdrawal reject` does: the user is told why
    with h.runtime.database.reading() as conn:
        told = (
            conn.execute(
                select(t.outbox.c.template).where(
                    t.outbox.c.dedupe_key == "hold-ev-5:withdrawal.rejected"
                )
            )
            .scalars()
            .all()
        )
    assert told == ["withdrawal.rejected"]
    other = held_withdrawal(h, events, "bob", "12000.00")
    with work(h) as uow, pytest.raises(Refused, match="not on account"):
        actions.void_hold(uow, other, "hold-ev-5", reason="x", actor="ann", at=NOW)


def test_listing_from_a_case_reaches_the_engine(h: Harness, events: EventFactory) -> None:
    case_id = held_withdrawal(h, events, "alice", "20000.00")
    with work(h) as uow:
        entry = ListEntry(
            ListKind.BLOCK, ListEntity.DEVICE, "phone-alice", "takeover", created_by="ann"
        )
        actions.add_to_list(uow, case_id, entry, actor="ann", at=NOW)
    events.advance(minutes=1)
    decision = h.decide(events.login("alice"))
    assert decision.decision == "block"
    assert "list.added" in audit_actions(h)


def test_confirmed_fraud_labels_feed_features_and_rule_precision(
    h: Harness, events: EventFactory, db_url: str, tmp_path: Path
) -> None:
    mule = held_withdrawal(h, events, "mule", "20000.00")
    honest = held_withdrawal(h, events, "honest", "30000.00")
    with work(h) as uow:
        service.resolve(
            uow,
            mule,
            CaseOutcome.FRAUD_CONFIRMED,
            actor="ann",
            at=NOW,
            note="cash-out",
            source=uow.cases,
            reports=uow.cases,
        )
        service.resolve(
            uow,
            honest,
            CaseOutcome.FALSE_POSITIVE,
            actor="ann",
            at=NOW,
            note="salary",
            source=uow.cases,
            reports=uow.cases,
        )
        labels = uow.cases.labels()
    stats = {s.rule: s for s in rule_precision(labels)}
    assert stats["big_money_out"].fraud == 1
    assert stats["big_money_out"].legit == 1
    assert stats["big_money_out"].precision == 0.5
    # A runtime started after the resolution knows the mule as a payee named in fraud...
    h.runtime.save_features()
    later = build_runtime(db_url, ruleset_path=tmp_path / "casework-rules.yaml", exclusive=False)
    try:
        assert later.features.reports.get("c:account:mule") == 1
        assert later.features.reports.get("d:phone-mule") == 1
        # ...and a live one picks it up, once.
        assert h.runtime.catch_up_reports() == 1
        assert h.runtime.catch_up_reports() == 0
        events.advance(hours=1)
        h.decide_all(events.funded("carol", "100.00"))
        paying = h.decide(events.transfer("carol", to="mule", amount="10.00"))
        assert "PAYEE_REPORTED" in {r.code for r in paying.reasons}
    finally:
        later.close()


def test_a_checkpointed_store_does_not_count_a_report_twice(
    h: Harness, events: EventFactory, db_url: str, tmp_path: Path
) -> None:
    mule = held_withdrawal(h, events, "mule", "20000.00")
    confirm_fraud(h, mule)
    rules = tmp_path / "casework-rules.yaml"
    first = build_runtime(db_url, ruleset_path=rules, exclusive=False)
    first.save_features()
    first.close()
    second = build_runtime(db_url, ruleset_path=rules, exclusive=False)
    try:
        assert second.features.reports.get("c:account:mule") == 1
    finally:
        second.close()


def test_appeals_are_tracked_to_resolution(h: Harness, events: EventFactory) -> None:
    case_id = held_withdrawal(h, events, "alice", "20000.00")
    with work(h) as uow:
        appeal = open_appeal(
            uow, "alice", restriction="restricted", text="it was me", actor="support", at=NOW
        )
        assert appeal.case_id == case_id
        with pytest.raises(Conflict):
            open_appeal(uow, "alice", restriction="restricted", text="again", actor="s", at=NOW)
        with pytest.raises(Refused):
            open_appeal(uow, "bob", restriction="active", text="?", actor="s", at=NOW)
    with work(h) as uow:
        with pytest.raises(InvalidInput, match="before it opened") as early:
            resolve_appeal(
                uow, appeal.id, AppealResult.LIFTED, note="ok", actor="ann", at=NOW - timedelta(1)
            )
        assert [p.path for p in early.value.problems] == ["$"]  # no field: the request's time
        done = resolve_appeal(
            uow,
            appeal.id,
            AppealResult.LIFTED,
            note="verified",
            actor="ann",
            at=NOW + timedelta(hours=5),
        )
        assert done.time_to_resolution == timedelta(hours=5)
        with pytest.raises(Conflict):
            resolve_appeal(uow, appeal.id, AppealResult.UPHELD, note="x", actor="ann", at=NOW)
        assert [a.id for a in uow.appeals.list_appeals()] == [appeal.id]
        assert any("appeal" in n.text for n in uow.cases.notes_of(case_id))


def test_every_case_change_is_in_a_verifiable_chain(h: Harness, events: EventFactory) -> None:
    case_id = held_withdrawal(h, events, "alice", "20000.00")
    with work(h) as uow:
        service.assign(uow, case_id, "rita", actor="lead", at=NOW)
        actions.void_hold(uow, case_id, "hold-ev-5", reason="fraud", actor="rita", at=NOW)
    report = verify_log(SqlAuditReader(h.runtime.database), TrustedKeys())
    assert report.ok
    with h.runtime.database.reading() as conn:
        subjects = set(conn.execute(select(t.audit_log.c.subject)).scalars())
    assert f"case:{case_id}" in subjects


def test_unbinding_from_a_case_works_on_a_frozen_account(h: Harness, events: EventFactory) -> None:
    case_id = held_withdrawal(h, events, "alice", "20000.00")
    with work(h) as uow:
        actions.freeze(uow, case_id, reason="fraud", actor="ann", at=events.now)
    with work(h) as uow:
        result = actions.unbind(
            uow, case_id, "card-alice", reason="card reported stolen", actor="ann", at=events.now
        )
    assert result.done
    with work(h) as uow:
        assert not uow.accounts.bindings.is_bound("alice", "card-alice")
        assert any(
            "unbind" in n.text and "card-alice" in n.text for n in uow.cases.notes_of(case_id)
        )
        with pytest.raises(NotFound, match="no active binding"):
            actions.unbind(uow, case_id, "card-alice", reason="again", actor="ann", at=events.now)


def test_an_unfreeze_approval_is_used_once_even_for_a_restriction_that_reads_the_same(
    h: Harness, events: EventFactory
) -> None:
    """Approving lifts the restriction; the approval is then spent. A second review at the
    same event time restricts the account again with the same `restricted since …` text:
    lifting that needs a second person again, not the first approval once more."""
    case_id = held_withdrawal(h, events, "alice", "20000.00")
    with work(h) as uow:
        asked = actions.unfreeze(uow, case_id, reason="customer verified", actor="ann", at=NOW)
    assert asked.approval is not None
    with work(h) as uow:
        assert actions.approve_action(uow, asked.approval.id, approver="carl", at=NOW).done
    again = h.decide(events.withdraw("alice", "20000.00", token="card-alice"))
    assert again.decision == "review", again
    with work(h) as uow:
        account = uow.accounts.get("alice")
        assert account is not None
        assert account.state.value == "restricted"
        assert account.restriction == asked.approval.payload["state"]  # reads the same
    with work(h) as uow:
        second = actions.unfreeze(uow, case_id, reason="verified again", actor="ann", at=NOW)
    assert not second.done
    assert second.approval is not None
    assert second.approval.id != asked.approval.id
    with work(h) as uow:
        assert uow.accounts.get("alice").state.value == "restricted"  # type: ignore[union-attr]
