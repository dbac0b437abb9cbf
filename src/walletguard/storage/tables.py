"""The SQL tables. Alembic migrations (storage/migrations) create and evolve them.

Money is integer units of 1/10,000 (BIGINT); times are UTC; documents (events,
decisions, audit payloads) are stored as the exact JSON text that was hashed.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

from walletguard.storage.types import AutoId, UtcDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = 128

settings_kv = Table(
    "settings_kv",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

decisions = Table(
    "decisions",
    metadata,
    Column("seq", AutoId, primary_key=True, autoincrement=True),
    Column("event_id", String(ID), nullable=False, unique=True),
    Column("account_id", String(ID), nullable=False),
    Column("event_type", String(32), nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("payload", Text, nullable=False),
    Column("payload_hash", String(64), nullable=False),
    Column("decision", String(16), nullable=False),
    Column("risk_level", String(16), nullable=False),
    Column("score", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Column("trace", Text, nullable=False),
    Column("ruleset_version", String(64), nullable=False),
    Column("model_version", String(64)),
    Index("ix_decisions_account_time", "account_id", "occurred_at"),
)
"""One row per decided event: the event as received (canonical JSON) and its decision.
Events and decisions are one-to-one, so they share a row; `seq` is the order of arrival."""

accounts = Table(
    "accounts",
    metadata,
    Column("account_id", String(ID), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("actor", String(ID), nullable=False),
    Column("changed_at", UtcDateTime),
    Column("locked_until", UtcDateTime),
    Column("created_at", UtcDateTime),
    Column("tier", String(32), nullable=False),
    Column("language", String(8), nullable=False),
)

account_state_changes = Table(
    "account_state_changes",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("account_id", String(ID), nullable=False, index=True),
    Column("from_state", String(16), nullable=False),
    Column("to_state", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("actor", String(ID), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("event_id", String(ID)),
)

challenges = Table(
    "challenges",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("account_id", String(ID), nullable=False, index=True),
    Column("event_id", String(ID), nullable=False),
    Column("method", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("attempts_left", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("hold_id", String(160)),
    Column("resolved_at", UtcDateTime),
)

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

outbox = Table(
    "outbox",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("dedupe_key", String(200), nullable=False, unique=True),
    Column("account_id", String(ID), nullable=False, index=True),
    Column("template", String(64), nullable=False),
    Column("params", Text, nullable=False),
    Column("channels", String(128), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime),
    Column("last_error", Text),
    Column("sent_at", UtcDateTime),
)

list_entries = Table(
    "list_entries",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("kind", String(8), nullable=False),
    Column("entity", String(16), nullable=False),
    Column("value", String(200), nullable=False),
    Column("reason", Text, nullable=False),
    Column("expires_at", UtcDateTime),
    Column("created_by", String(ID), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_list_entries_entity_value", "entity", "value"),
)

feature_checkpoints = Table(
    "feature_checkpoints",
    metadata,
    Column("key", String(300), primary_key=True),
    Column("state", LargeBinary, nullable=False),
)

rulesets = Table(
    "rulesets",
    metadata,
    Column("version", String(64), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("content", Text, nullable=False),
    Column("mode", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(ID), nullable=False),
    Column("promoted_at", UtcDateTime),
)
