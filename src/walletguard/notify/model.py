"""Notifications waiting in the outbox.

An entry is written in the same unit of work as the decision that caused it; its
`dedupe_key` makes a retried decision produce no second message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Notification:
    dedupe_key: str
    account_id: str
    template: str
    """Which message: e.g. `binding_added`, `withdrawal_held`, `account_frozen`."""
    params: dict[str, Any]
    created_at: datetime
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = 0
    channels: tuple[str, ...] = field(default=("push",))


class Outbox(Protocol):
    def add(self, notification: Notification) -> None:
        """Queue a message; a second one with the same dedupe key is ignored."""
