"""Cases and the alerts filed under them."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
)

from walletguard.storage.tables.base import ID, metadata
from walletguard.storage.types import UtcDateTime

__all__ = ["alerts", "cases"]

cases = Table(
    "cases",
    metadata,
    Column("id", String(160), primary_key=True),
    Column("account_id", String(ID), nullable=False, index=True),
    Column("status", String(24), nullable=False),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("max_score", Integer, nullable=False),
    Column("amount_at_stake", BigInteger, nullable=False),
    Column("alert_count", Integer, nullable=False),
    Column("assignee", String(ID)),
    Column("outcome", String(32)),
)


alerts = Table(
    "alerts",
    metadata,
    Column("id", String(160), primary_key=True),
    Column("case_id", String(160), ForeignKey("cases.id"), nullable=False, index=True),
    Column("account_id", String(ID), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("event_id", String(ID)),
    Column("risk_level", String(16), nullable=False),
    Column("score", Integer, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3)),
    Column("summary", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)
