"""Cases, the alerts filed under them, their notes, the labels their outcomes give,
users' appeals, and fraud reports waiting for the feature store."""

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

__all__ = ["alerts", "appeals", "case_labels", "case_notes", "cases", "feature_reports"]

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
    Column("risk_level", String(16), nullable=False, server_default="medium"),
    Column("resolved_at", UtcDateTime),
    Index("ix_cases_status_opened", "status", "opened_at"),
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


case_notes = Table(
    "case_notes",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("case_id", String(160), ForeignKey("cases.id"), nullable=False, index=True),
    Column("at", UtcDateTime, nullable=False),
    Column("author", String(ID), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("text", Text, nullable=False),
)


case_labels = Table(
    "case_labels",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("case_id", String(160), ForeignKey("cases.id"), nullable=False, index=True),
    Column("account_id", String(ID), nullable=False),
    Column("event_id", String(ID), index=True),
    Column("label", String(16), nullable=False),
    Column("outcome", String(32), nullable=False),
    Column("rules", Text, nullable=False),
    Column("feature_keys", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(ID), nullable=False),
)
"""One row per event of a resolved case: the training label and the rules that fired."""


feature_reports = Table(
    "feature_reports",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("feature_keys", Text, nullable=False),
    Column("source", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)
"""Typed feature keys named in confirmed fraud, in order; every engine applies the rows
after the last one its feature checkpoint has seen (`FeatureStore.report_fraud`)."""


appeals = Table(
    "appeals",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("account_id", String(ID), nullable=False, index=True),
    Column("restriction", String(16), nullable=False),
    Column("text", Text, nullable=False),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("opened_by", String(ID), nullable=False),
    Column("case_id", String(160)),
    Column("result", String(16)),
    Column("resolved_at", UtcDateTime),
    Column("resolved_by", String(ID)),
    Column("note", Text, nullable=False),
)
