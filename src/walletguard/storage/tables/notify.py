"""The notification outbox, delivery status per channel, and where to reach each user."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from walletguard.storage.tables.base import ID, metadata
from walletguard.storage.types import AutoId, UtcDateTime

__all__ = ["notification_deliveries", "notify_contacts", "outbox"]

outbox = Table(
    "outbox",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("dedupe_key", String(200), nullable=False, unique=True),
    Column("account_id", String(ID), nullable=False, index=True),
    Column("template", String(64), nullable=False),
    Column("params", Text, nullable=False),
    Column("channels", String(128), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime),
    Column("last_error", Text),
    Column("sent_at", UtcDateTime),
    Column("claimed_by", String(64)),
    Column("lease_until", UtcDateTime),
    Index("ix_outbox_due", "status", "next_attempt_at"),
)
"""`status` is pending until every channel is sent or skipped (sent) or the last retry
failed (failed). A dispatcher claims an entry by setting `claimed_by` and a
`lease_until`; a claim whose lease ran out (its dispatcher died) may be taken again."""


notification_deliveries = Table(
    "notification_deliveries",
    metadata,
    Column(
        "outbox_id",
        BigInteger().with_variant(Integer(), "sqlite"),
        ForeignKey("outbox.id"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("channel", String(16), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("recipient", String(200), nullable=False),
    Column("last_error", Text),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime),
)
"""One row per notification and channel: what happened to it (sent, skipped, failed)."""


notify_contacts = Table(
    "notify_contacts",
    metadata,
    Column("account_id", String(ID), primary_key=True),
    Column("email", String(254)),
    Column("phone", String(32)),
    Column("updated_at", UtcDateTime, nullable=False),
)
"""Where a user gets e-mail and SMS (push goes through the wallet's own service)."""
