"""The hash-chained audit log: records, the head of each chain, signed checkpoints.

`audit_log` and `audit_checkpoints` are append-only: the migrations install triggers
that refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL). Checkpoint ids are given out
without gaps (`SqlAuditReader.add_checkpoint`), so a missing id is a deleted checkpoint.
`audit_heads` has one row per chain, created by the migration; its row count is the
number of chains.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    String,
    Table,
    Text,
)

from walletguard.storage.tables.base import ID, metadata
from walletguard.storage.types import AutoId, UtcDateTime

__all__ = ["audit_checkpoints", "audit_heads", "audit_log"]

audit_log = Table(
    "audit_log",
    metadata,
    Column("chain", Integer, primary_key=True, autoincrement=False),
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


audit_heads = Table(
    "audit_heads",
    metadata,
    Column("chain", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)


audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("heads", Text, nullable=False),
    Column("key_id", String(32), nullable=False),
    Column("signature", Text, nullable=False),
)
