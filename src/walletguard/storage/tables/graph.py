"""Mule rings found by `walletguard graph scan`, with their evidence."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, String, Table, Text

from walletguard.storage.tables.base import ID, metadata
from walletguard.storage.types import UtcDateTime

__all__ = ["ring_cases"]

ring_cases = Table(
    "ring_cases",
    metadata,
    Column("case_id", String(160), ForeignKey("cases.id"), primary_key=True),
    Column("ring_id", String(64), nullable=False, unique=True),
    Column("detected_at", UtcDateTime, nullable=False),
    Column("detected_by", String(ID), nullable=False),
    Column("window_from", UtcDateTime, nullable=False),
    Column("window_to", UtcDateTime, nullable=False),
    Column("patterns", Text, nullable=False),
    Column("members", Text, nullable=False),
    Column("flows", Text, nullable=False),
    Column("money_units", BigInteger, nullable=False),
    Column("score", Integer, nullable=False),
    Column("svg", Text, nullable=False),
)
"""A ring is one case: its member wallets, the money that flowed between them (JSON), the
patterns that gave it away and a picture of it (SVG text) for the case's evidence."""
