"""Balances, transactions and postings, holds, top-ups, transfer requests, limit usage and
imported channel statements.

The CHECK constraints here are the part of the ledger's invariants a single row can
state; the triggers that need more than one row (postings summing to zero, a hold
resolving once) are written by hand in the migration `0003_ledger` (see docs/ledger.md).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
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

__all__ = [
    "balances",
    "holds",
    "ledger_transactions",
    "limit_usage",
    "postings",
    "statement_imports",
    "statement_listings",
    "statement_periods",
    "topups",
    "transfers",
]

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
    CheckConstraint("held >= 0 AND pending_in >= 0 AND pending_out >= 0", name="buckets"),
    CheckConstraint(
        "overdraft_allowed OR account NOT LIKE 'wallet:%' OR posted - held - pending_out >= 0",
        name="available",
    ),
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
        # Deferred: postings are written before the transaction row that seals them
        # (on SQLite the seal's trigger checks they balance; see the migration).
        ForeignKey("ledger_transactions.id", deferrable=True, initially="DEFERRED"),
        nullable=False,
        index=True,
    ),
    Column("account", String(200), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Index("ix_postings_account_at", "account", "at"),
    info={"flush_before": "ledger_transactions"},
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
    Column("counterparty", String(200)),
    Column("approval_id", String(64)),
    Column("escalated_at", UtcDateTime),
    CheckConstraint("amount > 0", name="amount_positive"),
    CheckConstraint("status IN ('pending', 'posted', 'voided')", name="status"),
    CheckConstraint("on_expiry IN ('void', 'escalate', 'keep')", name="on_expiry"),
    CheckConstraint(
        "(status = 'posted' AND posted_amount > 0 AND posted_amount <= amount)"
        " OR (status <> 'posted' AND posted_amount = 0)",
        name="posted_amount",
    ),
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
    CheckConstraint("amount > 0", name="amount_positive"),
    CheckConstraint("status IN ('pending', 'confirmed', 'suspected_fake')", name="status"),
    Index("ix_topups_status_requested_at", "status", "requested_at"),
)


transfers = Table(
    "transfers",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("payload_hash", String(64), nullable=False),
    Column("payload", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("reason_code", String(64)),
    Column("message", Text, nullable=False),
    Column("transaction_id", String(200)),
    Column("at", UtcDateTime, nullable=False),
    CheckConstraint("status IN ('posted', 'failed')", name="status"),
)
"""Every transfer request by its caller-given id, the failed ones too (idempotency)."""


limit_usage = Table(
    "limit_usage",
    metadata,
    Column("account", String(200), primary_key=True),
    Column("scope", String(240), primary_key=True),
    Column("period", String(16), primary_key=True),
    Column("currency", String(3), primary_key=True),
    Column("used", BigInteger, nullable=False),
    CheckConstraint("used >= 0", name="used"),
)
"""How much of a daily / monthly limit an account has used, per operation or counterparty."""


statement_imports = Table(
    "statement_imports",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("channel", String(64), nullable=False),
    Column("source", Text, nullable=False),
    Column("imported_at", UtcDateTime, nullable=False),
    Column("lines", Integer, nullable=False),
    Column("report", Text, nullable=False),
)
"""Channel statements already reconciled, by the SHA-256 of their bytes."""


statement_listings = Table(
    "statement_listings",
    metadata,
    Column("channel", String(64), primary_key=True),
    Column("channel_ref", String(ID), primary_key=True),
    Column("digest", String(64), nullable=False),
    Column("listed_at", UtcDateTime, nullable=False),
)
"""Top-ups a channel's statement listed, with the first statement that did: a later
statement whose period covers one does not report it as missing."""


statement_periods = Table(
    "statement_periods",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("scope", String(80), primary_key=True),
    Column("channel", String(64), nullable=False),
    Column("period_end", UtcDateTime, nullable=False),
    Column("imported_at", UtcDateTime, nullable=False),
    Index("ix_statement_periods_channel_imported", "channel", "imported_at", "digest"),
    Index(
        "ix_statement_periods_channel_scope_imported", "channel", "scope", "imported_at", "digest"
    ),
)
"""Where each imported statement's period ended (statements with lines only), once per
what it answered for: `scope` is '' for the whole channel, `merchant:<merchant_no>` for a
merchant named by a statement of a channel that sends one per merchant (`merchant:` for its
lines without a number). The next statement of the channel, or of the merchant, reaches
back to there."""
