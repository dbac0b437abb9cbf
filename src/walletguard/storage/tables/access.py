"""API keys (secrets stored hashed)."""

from __future__ import annotations

from sqlalchemy import Column, String, Table

from walletguard.storage.tables.base import ID, metadata
from walletguard.storage.types import UtcDateTime

__all__ = ["api_keys"]

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("owner", String(ID), nullable=False),
    Column("role", String(16), nullable=False),
    Column("secret_hash", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(ID), nullable=False),
    Column("revoked_at", UtcDateTime),
)
