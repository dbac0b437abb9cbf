"""Tunable numbers of account security, with the defaults a wallet would start from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from walletguard.kernel.risk import RiskLevel


@dataclass(frozen=True, slots=True)
class LockoutStep:
    """From `failures` failures in a row on, each further failure locks for `duration`."""

    failures: int
    duration: timedelta


DEFAULT_LOCKOUT = (
    LockoutStep(5, timedelta(minutes=15)),
    LockoutStep(10, timedelta(hours=24)),
)

DEFAULT_RESET_VERIFICATION: dict[RiskLevel, str] = {
    RiskLevel.NONE: "sms_otp",
    RiskLevel.LOW: "sms_otp",
    RiskLevel.MEDIUM: "face",
    RiskLevel.HIGH: "manual_kyc",
}
"""The verification a password reset request asks for, by its risk level (a critical
one is refused)."""

STRONG_METHODS = frozenset({"face", "biometric", "manual_kyc"})
"""Verifications after which a password reset needs no cool-off."""


@dataclass(frozen=True, slots=True)
class AccountSettings:
    lockout: tuple[LockoutStep, ...] = DEFAULT_LOCKOUT
    """Progressive lock-out steps, by number of failures in a row (ascending)."""
    failure_memory: timedelta = timedelta(hours=24)
    """A failure this long after the previous one starts the count again."""
    reset_cool_off: timedelta = timedelta(hours=24)
    """After a reset that was not strongly verified, withdrawals and new bindings wait."""
    reset_verification: dict[RiskLevel, str] = field(
        default_factory=lambda: dict(DEFAULT_RESET_VERIFICATION)
    )
    reset_verification_valid: timedelta = timedelta(hours=24)
    """How long a passed reset verification counts for the reset that completes it."""
    manual_review_hours: float = 72.0
    """How long a manual identity review (documents) may take before its challenge expires."""
    freeze_link_ttl: timedelta = timedelta(days=7)

    def __post_init__(self) -> None:
        steps = [s.failures for s in self.lockout]
        if not steps or steps != sorted(set(steps)) or steps[0] < 1:
            raise ValueError("lock-out steps need distinct, ascending, positive failure counts")
