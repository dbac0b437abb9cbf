"""Password reset (login or transaction password): verification graded by risk, cool-off.

A reset request asks for a verification that grows with its risk (SMS code, face,
manual identity review with documents; a critical one is refused). The reset that
completes it counts as verified when the user proved who they are — by the
completion's own `auth`, by the request's passed step-up, or by a step-up the completion
itself was challenged with and passed (it is applied then). A verified reset ends any
lock-out; unless one of its verifications was strong (face, biometric, manual review),
withdrawals and new bindings wait for a cool-off period.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from walletguard.accounts.lockouts import clear_after_reset
from walletguard.accounts.model import AccountSecurity, StateChange
from walletguard.accounts.settings import STRONG_METHODS, AccountSettings
from walletguard.kernel.risk import RiskLevel


def verification_for(level: RiskLevel, settings: AccountSettings) -> str | None:
    """The step-up a reset request at `level` must pass; None: refuse the request."""
    return settings.reset_verification.get(level)


def note_verified(account: AccountSecurity, method: str, at: datetime) -> AccountSecurity:
    """The reset request's step-up passed with `method`."""
    return replace(account, reset_verified_by=method, reset_verified_at=at)


@dataclass(frozen=True, slots=True)
class ResetResult:
    account: AccountSecurity
    change: StateChange | None
    verified_by: str | None
    """How the reset was verified; None when it was not."""
    strong: bool
    unlocked: bool


_PROVES_NOTHING = frozenset({None, "none", "password", "txn_password"})
"""Methods that cannot verify a password reset: the password is what the holder lost (or
what an attacker is resetting), so knowing one proves nothing about who asks."""


def complete_reset(
    account: AccountSecurity,
    *,
    auth_method: str | None,
    auth_success: bool | None,
    at: datetime,
    settings: AccountSettings,
    event_id: str | None,
    stepped_up: str | None = None,
    asked_at: datetime | None = None,
) -> ResetResult:
    """Apply a completed reset at `at`. Unverified: nothing changes (the caller refuses it).

    `stepped_up`: the method of a step-up the completion was challenged with and passed
    (a verification like the request's); `asked_at`: when the completion was made, if
    before `at` (the request's verification counts if it was still valid then)."""
    earlier = account.reset_verified_by
    asked = asked_at or at
    if earlier is not None and (
        account.reset_verified_at is None
        or asked - account.reset_verified_at > settings.reset_verification_valid
    ):
        earlier = None
    own = auth_method if auth_success and auth_method not in _PROVES_NOTHING else None
    passed = stepped_up if stepped_up not in _PROVES_NOTHING else None
    methods = [m for m in (own, passed, earlier) if m is not None]
    if not methods:
        return ResetResult(account, None, None, False, False)
    strong = any(m in STRONG_METHODS for m in methods)
    verified_by = next((m for m in methods if m in STRONG_METHODS), methods[0])
    lock = clear_after_reset(account, at=at, event_id=event_id)
    updated = replace(
        lock.account,
        reset_verified_by=None,
        reset_verified_at=None,
        cool_off_until=None if strong else at + settings.reset_cool_off,
    )
    return ResetResult(updated, lock.change, verified_by, strong, lock.unlocked)
