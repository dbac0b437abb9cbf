"""Balances, transactions and postings, holds, top-ups."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
)

from walletguard.storage.tables.base import ID, metadata
from walletguard.storage.types import AutoId, UtcDateTime

__all__ = ["balances", "holds", "ledger_transactions", "postings", "topups"]

balances = Table(
    "balances",
    metadata,
    Column("account", String(200), primary_key=True),
    Column("currency", String(3), primary_key=True),
    Column("posted", BigInteger, nullable=False),
    Column("pending_in", BigInteger, nullable=False),
    Column("pending_out", BigInteger, nullable=False),
    Column("held", BigInteger, nullable=False),
    Column("overdraft_allowed", Boolean, nullable=False),
)


ledger_transactions = Table(
    "ledger_transactions",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("at", UtcDateTime, nullable=False, index=True),
    Column("event_id", String(ID)),
    Column("memo", Text, nullable=False, default=""),
)


postings = Table(
    "postings",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column(
        "transaction_id",
        String(200),
        ForeignKey("ledger_transactions.id"),
        nullable=False,
        index=True,
    ),
    Column("account", String(200), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Index("ix_postings_account_at", "account", "at"),
)


holds = Table(
    "holds",
    metadata,
    Column("id", String(160), primary_key=True),
    Column("account", String(200), nullable=False, index=True),
    Column("currency", String(3), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("purpose", String(32), nullable=False),
    Column("destination", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime),
    Column("on_expiry", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("decision_event_id", String(ID)),
    Column("case_id", String(160)),
    Column("resolved_at", UtcDateTime),
    Column("posted_amount", BigInteger, nullable=False),
    Column("resolution", Text, nullable=False),
)


topups = Table(
    "topups",
    metadata,
    Column("channel", String(64), primary_key=True),
    Column("channel_ref", String(ID), primary_key=True),
    Column("account_id", String(ID), nullable=False, index=True),
    Column("currency", String(3), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("merchant_no", String(64)),
    Column("requested_at", UtcDateTime, nullable=False),
    Column("request_event_id", String(ID), nullable=False),
    Column("status", String(16), nullable=False),
    Column("confirmed_at", UtcDateTime),
    Column("confirm_event_id", String(ID)),
    Column("problem", Text, nullable=False),
)
