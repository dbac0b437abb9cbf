"""The hash-chained audit log."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    String,
    Table,
    Text,
)

from walletguard.storage.tables.base import ID, metadata
from walletguard.storage.types import UtcDateTime

__all__ = ["audit_log"]

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(ID), nullable=False),
    Column("action", String(64), nullable=False),
    Column("subject", String(200), nullable=False, index=True),
    Column("payload", Text, nullable=False),
    Column("payload_hash", String(64), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)
