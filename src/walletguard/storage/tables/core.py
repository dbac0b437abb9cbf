"""Events with their decisions, lists, feature checkpoints, rulesets, settings."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from walletguard.storage.tables.base import ID, metadata
from walletguard.storage.types import AutoId, UtcDateTime

__all__ = ["decisions", "feature_checkpoints", "list_entries", "rulesets", "settings_kv"]

settings_kv = Table(
    "settings_kv",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)


decisions = Table(
    "decisions",
    metadata,
    Column("seq", AutoId, primary_key=True, autoincrement=True),
    Column("event_id", String(ID), nullable=False, unique=True),
    Column("account_id", String(ID), nullable=False),
    Column("event_type", String(32), nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("payload", Text, nullable=False),
    Column("payload_hash", String(64), nullable=False),
    Column("decision", String(16), nullable=False),
    Column("risk_level", String(16), nullable=False),
    Column("score", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Column("trace", Text, nullable=False),
    Column("ruleset_version", String(64), nullable=False),
    Column("model_version", String(64)),
    Index("ix_decisions_account_time", "account_id", "occurred_at"),
)
"""One row per decided event: the event as received (canonical JSON) and its decision.
Events and decisions are one-to-one, so they share a row; `seq` is the order of arrival.
Append-only (triggers refuse UPDATE and DELETE, migration `0011_append_only`); every
flush that writes rows seals them with one `decisions.sealed` audit record
(`audit.decisions`)."""


list_entries = Table(
    "list_entries",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("kind", String(8), nullable=False),
    Column("entity", String(16), nullable=False),
    Column("value", String(200), nullable=False),
    Column("reason", Text, nullable=False),
    Column("expires_at", UtcDateTime),
    Column("created_by", String(ID), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_list_entries_entity_value", "entity", "value"),
)


feature_checkpoints = Table(
    "feature_checkpoints",
    metadata,
    Column("key", String(300), primary_key=True),
    Column("state", LargeBinary, nullable=False),
)


rulesets = Table(
    "rulesets",
    metadata,
    Column("version", String(64), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("content", Text, nullable=False),
    Column("mode", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(ID), nullable=False),
    Column("promoted_at", UtcDateTime),
)
