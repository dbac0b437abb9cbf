"""Notifications: the outbox, delivery per channel, retries.

An entry is written in the same unit of work as the decision that caused it; its
`dedupe_key` makes a retried decision produce no second message. A dispatcher then
claims due entries (a lease, so two dispatchers never work on the same one and a dead
dispatcher's claim expires), delivers each channel not yet sent, and records the result
per channel. A channel once sent is never sent again; every delivery carries the dedupe
key so a receiver can drop the copy sent again after a crash between sending and
recording (delivery is at least once, never silently lost).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from walletguard.kernel.errors import FieldProblem

ALL_CHANNELS = ("push", "email", "sms")


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"
    """The channel is not configured, or the user has no address for it."""


@dataclass(frozen=True, slots=True)
class Notification:
    dedupe_key: str
    account_id: str
    template: str
    """Which message: e.g. `account_bind.allow`, `withdrawal.review`, `account.frozen`."""
    params: dict[str, Any]
    created_at: datetime
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = 0
    channels: tuple[str, ...] = field(default=("push",))


@dataclass(frozen=True, slots=True)
class Delivery:
    """What happened to one notification on one channel."""

    channel: str
    status: DeliveryStatus
    attempts: int = 0
    recipient: str = ""
    last_error: str | None = None
    updated_at: datetime | None = None
    sent_at: datetime | None = None

    @property
    def done(self) -> bool:
        return self.status in (DeliveryStatus.SENT, DeliveryStatus.SKIPPED)


EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
"""`name@domain.tld`: one @, a dot in the domain, no spaces."""
E164 = re.compile(r"\+[0-9]{8,15}")
"""`+`, then 8-15 ASCII digits (`str.isdigit` would also take `²` or `٣`)."""


@dataclass(frozen=True, slots=True)
class Contacts:
    email: str | None = None
    phone: str | None = None

    def problems(self) -> list[FieldProblem]:
        """What is not an address here (nothing for an address not given)."""
        found = []
        if self.email is not None and not EMAIL.fullmatch(self.email):
            found.append(FieldProblem("email", f"{self.email!r} is not an e-mail address"))
        if self.phone is not None and not E164.fullmatch(self.phone):
            found.append(
                FieldProblem("phone", f"{self.phone!r} is not an E.164 number (+ and 8-15 digits)")
            )
        return found


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """A stored notification as the dispatcher sees it."""

    id: int
    notification: Notification
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    sent_at: datetime | None
    deliveries: dict[str, Delivery]
    language: str = "en"
    contacts: Contacts = Contacts()
    claimed_by: str | None = None
    lease_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class Message:
    """A rendered notification: subject and body for push and e-mail, a short text for SMS."""

    subject: str
    body: str
    short: str
    freeze_url: str
    language: str


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff: attempt n waits `base * 2**(n-1)`, at most `cap`; after
    `max_attempts` failed attempts the notification is failed and an alert is raised."""

    max_attempts: int = 6
    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(hours=1)
    lease: timedelta = timedelta(minutes=5)

    def delay(self, attempts: int) -> timedelta:
        doublings = min(max(0, attempts - 1), 32)  # past the cap anyway; more would overflow
        return min(self.cap, self.base * (1 << doublings))


class DeliveryError(Exception):
    """A channel could not deliver (will be retried)."""


class Channel(Protocol):
    name: str

    def recipient(self, entry: OutboxEntry) -> str | None:
        """Where this channel sends the entry's message, or None to skip the channel."""

    def send(
        self, message: Message, recipient: str, *, dedupe_key: str, entry: OutboxEntry
    ) -> None:
        """Deliver, or raise `DeliveryError`."""


class Outbox(Protocol):
    def add(self, notification: Notification) -> None:
        """Queue a message; a second one with the same dedupe key is ignored."""
