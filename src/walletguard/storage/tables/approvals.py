"""Maker-checker approval requests."""

from __future__ import annotations

from sqlalchemy import Column, Integer, String, Table, Text

from walletguard.storage.tables.base import ID, metadata
from walletguard.storage.types import UtcDateTime

__all__ = ["approvals"]

approvals = Table(
    "approvals",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("action", String(64), nullable=False),
    Column("subject", String(200), nullable=False, index=True),
    Column("requested_by", String(ID), nullable=False),
    Column("reason", Text, nullable=False),
    Column("required", Integer, nullable=False),
    Column("approvers", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("decided_at", UtcDateTime),
    Column("decided_by", String(ID)),
    Column("payload", Text, nullable=False),
)
