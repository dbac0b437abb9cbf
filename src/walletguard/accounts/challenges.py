"""Step-up challenges: a `challenge` decision asks the user to prove who they are.

A challenge guards one operation (the event that was challenged, `purpose` its type)
and resolves at most once: passed, failed (after the last attempt) or expired.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class ChallengeStatus(StrEnum):
    PENDING = "pending"
    PASSED = "passed"
    FAILED = "failed"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Challenge:
    """A verification guarding one operation (the event that was challenged)."""

    id: str
    account_id: str
    event_id: str
    method: str
    created_at: datetime
    expires_at: datetime
    attempts_left: int = 3
    status: ChallengeStatus = ChallengeStatus.PENDING
    hold_id: str | None = None
    resolved_at: datetime | None = None
    purpose: str = ""
    """The type of the event it guards (`withdrawal`, `password_reset_request`, ...)."""
