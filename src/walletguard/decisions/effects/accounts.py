"""Account state: refuse what the state forbids; restrict or freeze when the policy says."""

from __future__ import annotations

from walletguard.accounts.model import AccountSecurity, AccountState
from walletguard.decisions.context import DecisionContext
from walletguard.decisions.model import Action
from walletguard.decisions.outcome import Outcome
from walletguard.events.model import BINDING_CHANGES, LABELS, MONEY_OUT, EventType

_STATE_REFUSALS = {
    AccountState.RESTRICTED: "the account is restricted to read-only: nothing may go out",
    AccountState.FROZEN: "the account is frozen: no money moves and no bindings change",
    AccountState.CLOSED: "the account is closed",
}


def _forbidden(kind: EventType, account: AccountSecurity) -> bool:
    """Whether the account's state forbids this kind of event."""
    if kind in MONEY_OUT:
        return not account.can_send_money
    if kind in BINDING_CHANGES:
        return not account.can_change_bindings
    if kind is EventType.TOPUP:
        return not account.can_receive_money
    return False


class AccountEffects:
    def guard(self, ctx: DecisionContext, out: Outcome) -> None:
        account = out.account
        kind = ctx.event.type
        if kind in LABELS or kind is EventType.LOGOUT:
            return
        state = account.state
        if state is AccountState.CLOSED:
            out.refuse("ACCOUNT_CLOSED", _STATE_REFUSALS[state])
        elif _forbidden(kind, account):
            out.refuse(f"ACCOUNT_{state.value.upper()}", _STATE_REFUSALS[state])

    def apply(self, ctx: DecisionContext, out: Outcome) -> None:
        event = ctx.event
        account = out.account
        target = None
        if Action.FREEZE_ACCOUNT.value in out.actions:
            target = AccountState.FROZEN
        elif Action.RESTRICT_ACCOUNT.value in out.actions:
            target = AccountState.RESTRICTED
        change = None
        if target is not None:
            account, change = account.escalate(
                target,
                reason=out.lead_reason,
                actor=out.lead_rule,
                at=event.occurred_at,
                event_id=event.event_id,
            )
        if change is None and ctx.account is not None:
            return
        ctx.uow.accounts.save(account, change)
        out.account = account
        if change is not None:
            ctx.uow.audit.append(
                at=event.occurred_at,
                actor=change.actor,
                action="account.state_changed",
                subject=f"account:{account.account_id}",
                payload={
                    "from": change.from_state.value,
                    "to": change.to_state.value,
                    "reason": change.reason,
                    "event_id": event.event_id,
                },
            )
