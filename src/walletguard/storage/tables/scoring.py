"""The model registry."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, Index, String, Table, Text, text

from walletguard.storage.tables.base import ID, metadata
from walletguard.storage.types import UtcDateTime

__all__ = ["models"]

MODEL_STATUSES = ("candidate", "shadow", "champion", "retired")

models = Table(
    "models",
    metadata,
    Column("version", String(64), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("features", Text, nullable=False),
    Column("event_types", Text, nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("metrics", Text, nullable=False),
    Column("params", Text, nullable=False),
    Column("notes", Text, nullable=False),
    Column("model_text", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(ID), nullable=False),
    Column("status_changed_at", UtcDateTime),
    Column("status_changed_by", String(ID)),
    Column("promoted_at", UtcDateTime),
    Column("promoted_by", String(ID)),
    Index("ix_models_status", "status"),
    Index(
        "uq_models_one_champion",
        "status",
        unique=True,
        sqlite_where=text("status = 'champion'"),
        postgresql_where=text("status = 'champion'"),
    ),
    CheckConstraint(
        "status IN ('candidate', 'shadow', 'champion', 'retired')", name="status_known"
    ),
)
"""One row per trained model: LightGBM's model text with its features, training-data
fingerprint, metrics and who registered / promoted it. JSON columns are canonical JSON."""
