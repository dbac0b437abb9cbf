"""Account security: states and their transitions, lock-out counts, step-up challenges,
bindings (with their history), used freeze links, TOTP enrolments."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    func,
)

from walletguard.storage.tables.base import ID, metadata
from walletguard.storage.types import AutoId, UtcDateTime

__all__ = [
    "account_state_changes",
    "accounts",
    "bindings",
    "challenges",
    "freeze_tokens_used",
    "totp_enrolments",
]

_STATES = "('active', 'restricted', 'frozen', 'locked', 'closed')"

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
    Column("lock_scope", String(16)),
    Column("resume_state", String(16)),
    Column("login_failures", Integer, nullable=False, server_default="0"),
    Column("login_failed_at", UtcDateTime),
    Column("txn_failures", Integer, nullable=False, server_default="0"),
    Column("txn_failed_at", UtcDateTime),
    Column("cool_off_until", UtcDateTime),
    Column("reset_verified_by", String(16)),
    Column("reset_verified_at", UtcDateTime),
)
Index("ix_accounts_account_id_folded", func.lower(accounts.c.account_id))
"""Finds an id that differs from a given one only in letter case (a hand transfer's slip)."""


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
    Column("purpose", String(32), nullable=False, server_default=""),
)


bindings = Table(
    "bindings",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("account_id", String(ID), nullable=False),
    Column("target", String(8), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("token", String(ID), nullable=False),
    Column("institution", String(ID)),
    Column("bound_at", UtcDateTime, nullable=False),
    Column("bound_event_id", String(ID)),
    Column("from_device", String(ID)),
    Column("from_ip", String(64)),
    Column("from_country", String(2)),
    Column("lat", Float),
    Column("lon", Float),
    Column("unbound_at", UtcDateTime),
    Column("unbound_by", String(ID)),
    Column("unbind_reason", Text),
    Column("suspicious", Boolean, nullable=False),
    Column("suspicious_reason", Text),
    Column("flagged_by", String(ID)),
    Column("flagged_at", UtcDateTime),
    CheckConstraint("target in ('device', 'account')", name="target"),
    Index("ix_bindings_account_token", "account_id", "token"),
)
"""Every binding ever made; unbinding stamps a row, it never deletes one (a trigger
refuses deletes)."""


freeze_tokens_used = Table(
    "freeze_tokens_used",
    metadata,
    Column("token_id", String(64), primary_key=True),
    Column("account_id", String(ID), nullable=False),
    Column("used_at", UtcDateTime, nullable=False),
)
"""Redeemed self-service freeze links: the primary key makes a token work once."""


totp_enrolments = Table(
    "totp_enrolments",
    metadata,
    Column("account_id", String(ID), primary_key=True),
    Column("sealed_secret", LargeBinary, nullable=False),
    Column("enrolled_at", UtcDateTime, nullable=False),
    Column("last_step", BigInteger),
)
"""Authenticator-app secrets, sealed (AES-GCM) under the installation's `totp` key."""
