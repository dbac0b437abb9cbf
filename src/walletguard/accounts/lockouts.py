"""Lock-outs, in event time.

Failed sign-ins and wrong transaction passwords are counted in a row; from the first
lock-out step on, each further failure locks the credential for that step's duration
(5 → 15 minutes, 10 → 24 hours by default). A success, or a verified password reset,
starts the count again; a failure long after the previous one does too
(`failure_memory`). Attempts that arrive late are placed by their event time: a success
dated before the latest failure does not reset the count, and the latest failure time
never moves back. A lock ends by the clock: the first event after its end records the
unlock (actor `clock`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from walletguard.accounts.model import AccountSecurity, AccountState, LockScope, StateChange
from walletguard.accounts.settings import AccountSettings

_LOCKABLE = (AccountState.ACTIVE, AccountState.RESTRICTED)
_WHAT = {LockScope.LOGIN: "sign-in", LockScope.TXN_PASSWORD: "transaction password"}
_FAILED = {
    LockScope.LOGIN: "failed sign-ins",
    LockScope.TXN_PASSWORD: "wrong transaction passwords",
}


@dataclass(frozen=True, slots=True)
class LockoutResult:
    """The account after an attempt, the transition it caused (if any), and whether the
    attempt locked the credential (a new or longer lock-out)."""

    account: AccountSecurity
    change: StateChange | None = None
    locked: bool = False
    unlocked: bool = False


def failures(account: AccountSecurity, scope: LockScope) -> int:
    return account.login_failures if scope is LockScope.LOGIN else account.txn_failures


def end_if_due(account: AccountSecurity, at: datetime, event_id: str | None) -> LockoutResult:
    """Lift a lock-out whose time has come; a locked account goes back to the state it
    was in (a transition by the clock)."""
    if account.locked_until is None or at < account.locked_until:
        return LockoutResult(account)
    cleared = replace(account, locked_until=None, lock_scope=None)
    if account.state is not AccountState.LOCKED:
        return LockoutResult(cleared, unlocked=True)
    resume = account.resume_state or AccountState.ACTIVE
    unlocked, change = cleared.transition(
        resume,
        reason=f"the lock-out ended at {account.locked_until.isoformat()}",
        actor="clock",
        at=at,
        event_id=event_id,
    )
    return LockoutResult(replace(unlocked, resume_state=None), change, unlocked=True)


def record_attempt(
    account: AccountSecurity,
    scope: LockScope,
    *,
    success: bool,
    at: datetime,
    settings: AccountSettings,
    event_id: str | None = None,
) -> LockoutResult:
    """Count one sign-in or transaction-password attempt made while not locked out.

    Attempts may arrive out of event-time order; the count stays that of the run ending
    at the latest failure (`*_failed_at`, never moved back): a success dated before it
    does not reset it, and a late failure joins it if it is within `failure_memory` of
    that latest failure (otherwise a fresh start would have followed it: it is ignored).
    """
    last = account.login_failed_at if scope is LockScope.LOGIN else account.txn_failed_at
    count = failures(account, scope)
    if success:
        if count == 0 or (last is not None and at < last):
            return LockoutResult(account)
        if scope is LockScope.LOGIN:
            return LockoutResult(replace(account, login_failures=0, login_failed_at=None))
        return LockoutResult(replace(account, txn_failures=0, txn_failed_at=None))
    if last is None or at - last >= settings.failure_memory:
        count, latest = 0, at
    elif at < last:
        if last - at >= settings.failure_memory:
            return LockoutResult(account)
        latest = last
    else:
        latest = at
    count += 1
    if scope is LockScope.LOGIN:
        account = replace(account, login_failures=count, login_failed_at=latest)
    else:
        account = replace(account, txn_failures=count, txn_failed_at=latest)
    steps = [s for s in settings.lockout if s.failures <= count]
    if not steps:
        return LockoutResult(account)
    until = latest + steps[-1].duration  # in event time, the run's last failure locks
    if account.locked_until is not None and account.locked_until > until:
        until = account.locked_until
    broadest = LockScope.LOGIN if account.lock_scope is LockScope.LOGIN else scope
    reason = (
        f"{count} {_FAILED[scope]} in a row: {_WHAT[broadest]} locked until {until.isoformat()}"
    )
    if account.state in _LOCKABLE:
        locked, change = account.transition(
            AccountState.LOCKED,
            reason=reason,
            actor="system:lockout",
            at=at,
            event_id=event_id,
            locked_until=until,
        )
        return LockoutResult(replace(locked, lock_scope=broadest), change, locked=True)
    # Already locked (a sign-in lock-out on top of a transaction-password one), frozen or
    # closed: the state stays, the lock-out is kept alongside it.
    return LockoutResult(replace(account, locked_until=until, lock_scope=broadest), locked=True)


def clear_after_reset(
    account: AccountSecurity, *, at: datetime, event_id: str | None
) -> LockoutResult:
    """A verified password reset: both counts start again and any lock-out ends."""
    cleared = replace(
        account,
        login_failures=0,
        login_failed_at=None,
        txn_failures=0,
        txn_failed_at=None,
        locked_until=None,
        lock_scope=None,
    )
    if account.state is not AccountState.LOCKED:
        return LockoutResult(cleared, unlocked=account.locked_until is not None)
    unlocked, change = cleared.transition(
        account.resume_state or AccountState.ACTIVE,
        reason="the password was reset with verification",
        actor="user",
        at=at,
        event_id=event_id,
    )
    return LockoutResult(replace(unlocked, resume_state=None), change, unlocked=True)
