"""Alerts for a person: raised when the policy opens a case or a fake top-up is suspected."""

from __future__ import annotations

from walletguard.cases.model import Alert, AlertKind
from walletguard.cases.service import raise_alert
from walletguard.decisions.context import DecisionContext
from walletguard.decisions.effects.ledger import FAKE_TOPUP
from walletguard.decisions.model import Action, Verdict
from walletguard.decisions.outcome import Outcome
from walletguard.kernel.money import to_units
from walletguard.kernel.risk import RiskLevel


def _kind(out: Outcome) -> AlertKind:
    if FAKE_TOPUP in out.flags:
        return AlertKind.SUSPECTED_FAKE_TOPUP
    if any("mule" in rule.tags for rule in out.fired):
        return AlertKind.MULE_SIGNS
    if out.level is RiskLevel.CRITICAL:
        return AlertKind.CRITICAL
    return AlertKind.REVIEW


class CaseEffects:
    def guard(self, ctx: DecisionContext, out: Outcome) -> None:
        return None

    def apply(self, ctx: DecisionContext, out: Outcome) -> None:
        if Action.OPEN_CASE.value not in out.actions and out.verdict is not Verdict.REVIEW:
            return
        event = ctx.event
        amount = to_units(event.amount) if event.amount is not None and out.hold_id else 0
        alert = Alert(
            id="alert-" + event.event_id,
            account_id=event.account_id,
            kind=_kind(out),
            event_id=event.event_id,
            risk_level=out.level.value,
            score=out.score,
            amount_units=amount,
            currency=ctx.currency if event.amount is not None else None,
            summary=out.lead_reason,
            created_at=event.occurred_at,
        )
        case, opened = raise_alert(ctx.uow.cases, alert)
        out.case_id = case.id
        out.add_action(Action.OPEN_CASE.value)
        ctx.uow.audit.append(
            at=event.occurred_at,
            actor="engine",
            action="case.opened" if opened else "case.alert_added",
            subject=f"case:{case.id}",
            payload={"alert_id": alert.id, "kind": alert.kind.value, "event_id": event.event_id},
        )
