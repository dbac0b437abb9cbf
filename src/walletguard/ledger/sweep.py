"""The sweep: what time alone decides. Run by `walletguard ledger sweep` (e.g. from cron),
with "now" given explicitly so a replay can sweep at event time.

- a top-up still unconfirmed `topup_confirm_within` after it was requested is flagged a
  suspected fake (its credit stays pending, never spendable) and a case is opened;
- a pending hold past its expiry does what it said when it was placed: `void` releases
  the money, `escalate` raises an alert for a person (once), `keep` leaves it held.

The engine flags the same top-ups when their confirmation finally arrives too late
(`topup_problem`), so a late confirmation never makes one spendable.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from walletguard.cases.model import Alert, AlertKind
from walletguard.cases.service import raise_alert
from walletguard.ledger import service
from walletguard.ledger.model import ExpiryAction, wallet_owner
from walletguard.ledger.ports import LedgerCaseWork, LedgerQueries
from walletguard.ledger.settings import LedgerSettings


@dataclass
class SweepReport:
    flagged_topups: list[str] = field(default_factory=list)
    voided_holds: list[str] = field(default_factory=list)
    escalated_holds: list[str] = field(default_factory=list)
    kept_holds: list[str] = field(default_factory=list)


def sweep(
    uow: LedgerCaseWork,
    queries: LedgerQueries,
    settings: LedgerSettings,
    *,
    now: datetime,
    actor: str = "system:sweep",
) -> SweepReport:
    """Flag overdue top-ups and act on expired holds, as of `now`."""
    report = SweepReport()
    hours = settings.topup_confirm_within.total_seconds() / 3600
    for topup in queries.pending_topups_requested_before(now - settings.topup_confirm_within):
        problem = f"not confirmed within {hours:g} h of the request"
        service.suspect_topup(uow.ledger, topup, at=now, event_id=None, problem=problem)
        case, _ = raise_alert(
            uow.cases,
            Alert(
                id=f"alert-topup-{topup.channel}-{topup.channel_ref}",
                account_id=topup.account_id,
                kind=AlertKind.SUSPECTED_FAKE_TOPUP,
                event_id=topup.request_event_id,
                risk_level="high",
                score=0,
                amount_units=topup.amount,
                currency=topup.currency,
                summary=f"top-up {topup.channel}/{topup.channel_ref} {problem}",
                created_at=now,
            ),
        )
        uow.audit.append(
            at=now, actor=actor, action="ledger.topup_suspected",
            subject=f"account:{topup.account_id}",
            payload={"channel": topup.channel, "ref": topup.channel_ref, "problem": problem,
                     "case_id": case.id},
        )  # fmt: skip
        report.flagged_topups.append(f"{topup.channel}/{topup.channel_ref}")
    for hold in queries.expired_pending_holds(now):
        if hold.on_expiry is ExpiryAction.VOID:
            service.void_hold(uow.ledger, hold.id, at=now, note="expired")
            uow.audit.append(
                at=now, actor=actor, action="ledger.hold_expired", subject=f"hold:{hold.id}",
                payload={"on_expiry": "void", "amount": hold.amount},
            )  # fmt: skip
            report.voided_holds.append(hold.id)
        elif hold.on_expiry is ExpiryAction.ESCALATE:
            if hold.escalated_at is not None:
                continue  # a person already has it
            account_id = wallet_owner(hold.account)
            case, _ = raise_alert(
                uow.cases,
                Alert(
                    id=f"alert-{hold.id}-expired",
                    account_id=account_id,
                    kind=AlertKind.REVIEW,
                    event_id=hold.decision_event_id,
                    risk_level="medium",
                    score=0,
                    amount_units=hold.amount,
                    currency=hold.currency,
                    summary=f"hold {hold.id} ({hold.purpose}) expired without a decision",
                    created_at=now,
                ),
            )
            uow.ledger.save_hold(replace(hold, escalated_at=now, case_id=hold.case_id or case.id))
            uow.audit.append(
                at=now, actor=actor, action="ledger.hold_escalated", subject=f"hold:{hold.id}",
                payload={"case_id": case.id, "amount": hold.amount},
            )  # fmt: skip
            report.escalated_holds.append(hold.id)
        else:
            report.kept_holds.append(hold.id)
    return report
