"""Account security states, their transitions, step-up challenges."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Integer,
    String,
    Table,
    Text,
)

from walletguard.storage.tables.base import ID, metadata
from walletguard.storage.types import AutoId, UtcDateTime

__all__ = ["account_state_changes", "accounts", "challenges"]

accounts = Table(
    "accounts",
    metadata,
    Column("account_id", String(ID), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("actor", String(ID), nullable=False),
    Column("changed_at", UtcDateTime),
    Column("locked_until", UtcDateTime),
    Column("created_at", UtcDateTime),
    Column("tier", String(32), nullable=False),
    Column("language", String(8), nullable=False),
)


account_state_changes = Table(
    "account_state_changes",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("account_id", String(ID), nullable=False, index=True),
    Column("from_state", String(16), nullable=False),
    Column("to_state", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("actor", String(ID), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("event_id", String(ID)),
)


challenges = Table(
    "challenges",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("account_id", String(ID), nullable=False, index=True),
    Column("event_id", String(ID), nullable=False),
    Column("method", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("attempts_left", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("hold_id", String(160)),
    Column("resolved_at", UtcDateTime),
)
