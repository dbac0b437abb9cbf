"""What an account's security state lets through, event by event.

- closed: nothing (but logouts and later fraud labels);
- locked out (`locked_until` in the future): a sign-in lock-out stops sign-in,
  transaction password, money out, binding and credential changes; a
  transaction-password lock-out stops the transaction password, money out and bindings.
  A password reset (the way out) and money coming in still work;
- restricted: nothing goes out and nothing new is bound (read-only), money comes in,
  bound accounts may still be removed;
- frozen: no money moves, no binding changes;
- in a reset cool-off: no withdrawal and no new binding.

A lock-out whose time has passed counts as over, with the state it was put over, even
before an event records its end (a step-up answered late re-checks the guarded operation
against the account as it is then).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from walletguard.accounts.bindings import Binding
from walletguard.accounts.model import AccountSecurity, AccountState, LockScope
from walletguard.events.model import BINDING_CHANGES, LABELS, MONEY_OUT, EventType

NEW_BINDINGS = frozenset({EventType.ACCOUNT_BIND, EventType.DEVICE_BIND})

_LOCKED_BY_LOGIN = (
    MONEY_OUT
    | BINDING_CHANGES
    | {
        EventType.LOGIN,
        EventType.TXN_PASSWORD_VERIFY,
        EventType.PASSWORD_CHANGE,
        EventType.PROFILE_CHANGE,
    }
)
_LOCKED_BY_TXN = MONEY_OUT | BINDING_CHANGES | {EventType.TXN_PASSWORD_VERIFY}
_COOL_OFF = NEW_BINDINGS | {EventType.WITHDRAWAL}

_STATE_REFUSALS = {
    AccountState.RESTRICTED: "the account is restricted to read-only: nothing may go out",
    AccountState.FROZEN: "the account is frozen: no money moves and no bindings change",
    AccountState.LOCKED: "the account is locked out",
    AccountState.CLOSED: "the account is closed",
}


@dataclass(frozen=True, slots=True)
class Refusal:
    code: str
    message: str
    locked_until: datetime | None = None


def refusal(kind: EventType, account: AccountSecurity, at: datetime) -> Refusal | None:
    """Why the account's state forbids an event of `kind` at `at`, or None if it allows it."""
    if kind in LABELS or kind is EventType.LOGOUT:
        return None
    state = account.state
    if state is AccountState.LOCKED and not account.is_locked(at):
        state = account.resume_state or AccountState.ACTIVE
    if state is AccountState.CLOSED:
        return Refusal("ACCOUNT_CLOSED", _STATE_REFUSALS[state])
    if account.is_locked(at):
        assert account.locked_until is not None
        scope = account.lock_scope or LockScope.LOGIN
        stopped = _LOCKED_BY_LOGIN if scope is LockScope.LOGIN else _LOCKED_BY_TXN
        if kind in stopped:
            what = "sign-in" if scope is LockScope.LOGIN else "the transaction password"
            return Refusal(
                "ACCOUNT_LOCKED",
                f"{what} is locked after repeated failures until "
                f"{account.locked_until.isoformat()}",
                account.locked_until,
            )
    if kind in MONEY_OUT and state not in (AccountState.ACTIVE, AccountState.LOCKED):
        return Refusal(f"ACCOUNT_{state.value.upper()}", _STATE_REFUSALS[state])
    if kind is EventType.TOPUP and state in (AccountState.FROZEN, AccountState.CLOSED):
        return Refusal(f"ACCOUNT_{state.value.upper()}", _STATE_REFUSALS[state])
    if kind in BINDING_CHANGES and (
        state is AccountState.FROZEN or (state is AccountState.RESTRICTED and kind in NEW_BINDINGS)
    ):
        return Refusal(f"ACCOUNT_{state.value.upper()}", _STATE_REFUSALS[state])
    if kind in _COOL_OFF and account.in_cool_off(at):
        assert account.cool_off_until is not None
        return Refusal(
            "RESET_COOL_OFF",
            "the password was reset without a strong check: withdrawals and new bindings "
            f"wait until {account.cool_off_until.isoformat()}",
        )
    return None


def destination_refusal(destination: Binding) -> Refusal | None:
    """Why money may not go to this bound account: unbound since, or marked suspicious."""
    if not destination.active:
        at = destination.unbound_at.isoformat() if destination.unbound_at else None
        return Refusal(
            "BINDING_REMOVED",
            f"the destination was unbound at {at} by {destination.unbound_by}",
        )
    if destination.suspicious:
        return Refusal(
            "BINDING_SUSPICIOUS",
            f"the destination is marked suspicious: {destination.suspicious_reason}",
        )
    return None
