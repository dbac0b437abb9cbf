"""Tell the user: queue a message in the outbox when the policy says so."""

from __future__ import annotations

from walletguard.decisions.context import DecisionContext
from walletguard.decisions.model import Action
from walletguard.decisions.outcome import Outcome
from walletguard.events.decode import client_time
from walletguard.kernel.money import format_amount
from walletguard.notify.model import ALL_CHANNELS, Notification


def template_for(event_type: str, verdict: str, account_state: str) -> str:
    """Which message a decision sends, e.g. `withdrawal.review` or `account.frozen`."""
    if account_state in ("frozen", "restricted"):
        return f"account.{account_state}"
    return f"{event_type}.{verdict}"


class NotifyEffects:
    def guard(self, ctx: DecisionContext, out: Outcome) -> None:
        return None

    def apply(self, ctx: DecisionContext, out: Outcome) -> None:
        if Action.NOTIFY_USER.value not in out.actions:
            return
        event = ctx.event
        template = template_for(event.type.value, out.verdict.value, out.account.state.value)
        ctx.uow.outbox.add(
            Notification(
                dedupe_key=f"{event.event_id}:{template}",
                account_id=event.account_id,
                template=template,
                params={
                    "event_id": event.event_id,
                    "event_type": event.type.value,
                    "decision": out.verdict.value,
                    "occurred_at": client_time(event).isoformat(),  # as the user's clock
                    "amount": format_amount(event.amount) if event.amount is not None else None,
                    "currency": ctx.currency if event.amount is not None else None,
                    "device": event.device.model or event.device.os or event.device.id
                    if event.device
                    else None,
                    "country": ctx.located.country,
                    "reason": out.lead_reason,
                    "account_state": out.account.state.value,
                },
                created_at=event.occurred_at,
                channels=ALL_CHANNELS,
            )
        )
