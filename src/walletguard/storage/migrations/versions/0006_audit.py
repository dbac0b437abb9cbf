"""audit chains, checkpoints, case work, notification delivery

The audit log becomes AUDIT_CHAINS parallel chains (primary key (chain, seq)); records
written before this migration stay chain 0, which continues from them. UPDATE and DELETE
on audit_log (and TRUNCATE on PostgreSQL) are refused by triggers.

Revision ID: 0003_audit
Revises: 0003_ledger
Create Date: 2026-11-22 08:53:15.287197
"""

import warnings

import sqlalchemy as sa
from alembic import op

revision = "0003_audit"
down_revision = "0003_ledger"
branch_labels = None
depends_on = None


AUDIT_CHAINS = 16
"""Chains of a new installation; fixed once created (a record's chain follows from its
subject, modulo the number of chains)."""

GENESIS = "0" * 64

_PG_FUNCTION = """
CREATE FUNCTION walletguard_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def _partition_audit_log() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        with warnings.catch_warnings():
            # The copy's new primary key differs from the reflected one: that is the point.
            warnings.simplefilter("ignore", sa.exc.SAWarning)
            with op.batch_alter_table("audit_log", recreate="always") as batch_op:
                batch_op.add_column(
                    sa.Column("chain", sa.Integer(), nullable=False, server_default="0")
                )
                batch_op.create_primary_key("pk_audit_log", ["chain", "seq"])
        op.execute(
            "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
            "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused'); END"
        )
        op.execute(
            "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
            "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused'); END"
        )
    else:
        op.add_column(
            "audit_log", sa.Column("chain", sa.Integer(), nullable=False, server_default="0")
        )
        op.drop_constraint("pk_audit_log", "audit_log", type_="primary")
        op.create_primary_key("pk_audit_log", "audit_log", ["chain", "seq"])
        op.execute(_PG_FUNCTION)
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION walletguard_audit_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION walletguard_audit_append_only()"
        )
    heads = sa.table(
        "audit_heads",
        sa.column("chain", sa.Integer()),
        sa.column("seq", sa.BigInteger()),
        sa.column("hash", sa.String()),
    )
    rows = [{"chain": c, "seq": 0, "hash": GENESIS} for c in range(AUDIT_CHAINS)]
    last = bind.execute(
        sa.text("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
    ).first()
    if last is not None:
        rows[0] = {"chain": 0, "seq": last.seq, "hash": last.hash}
    op.bulk_insert(heads, rows)


def _unpartition_audit_log() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sa.exc.SAWarning)
            with op.batch_alter_table("audit_log", recreate="always") as batch_op:
                batch_op.create_primary_key("pk_audit_log", ["seq"])
                batch_op.drop_column("chain")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS walletguard_audit_append_only()")
        op.drop_constraint("pk_audit_log", "audit_log", type_="primary")
        op.drop_column("audit_log", "chain")
        op.create_primary_key("pk_audit_log", "audit_log", ["seq"])


def upgrade() -> None:
    op.create_table(
        "appeals",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("restriction", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_by", sa.String(length=128), nullable=False),
        sa.Column("case_id", sa.String(length=160), nullable=True),
        sa.Column("result", sa.String(length=16), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=128), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeals")),
    )
    with op.batch_alter_table("appeals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_appeals_account_id"), ["account_id"], unique=False)

    op.create_table(
        "audit_checkpoints",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heads", sa.Text(), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoints")),
    )
    op.create_table(
        "audit_heads",
        sa.Column("chain", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("chain", name=op.f("pk_audit_heads")),
    )
    op.create_table(
        "feature_reports",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("feature_keys", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feature_reports")),
    )
    op.create_table(
        "notify_contacts",
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_notify_contacts")),
    )
    op.create_table(
        "case_labels",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("case_id", sa.String(length=160), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=True),
        sa.Column("label", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("rules", sa.Text(), nullable=False),
        sa.Column("feature_keys", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_labels_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_labels")),
    )
    with op.batch_alter_table("case_labels", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_labels_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_labels_event_id"), ["event_id"], unique=False)

    op.create_table(
        "case_notes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("case_id", sa.String(length=160), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_notes_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_notes")),
    )
    with op.batch_alter_table("case_notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_notes_case_id"), ["case_id"], unique=False)

    op.create_table(
        "notification_deliveries",
        sa.Column(
            "outbox_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["outbox_id"], ["outbox.id"], name=op.f("fk_notification_deliveries_outbox_id_outbox")
        ),
        sa.PrimaryKeyConstraint("outbox_id", "channel", name=op.f("pk_notification_deliveries")),
    )
    _partition_audit_log()

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("risk_level", sa.String(length=16), server_default="medium", nullable=False)
        )
        batch_op.add_column(sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_cases_status_opened", ["status", "opened_at"], unique=False)

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_outbox_due", ["status", "next_attempt_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_due")
        batch_op.drop_column("lease_until")
        batch_op.drop_column("claimed_by")

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_status_opened")
        batch_op.drop_column("resolved_at")
        batch_op.drop_column("risk_level")

    _unpartition_audit_log()

    op.drop_table("notification_deliveries")
    with op.batch_alter_table("case_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_notes_case_id"))

    op.drop_table("case_notes")
    with op.batch_alter_table("case_labels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_labels_event_id"))
        batch_op.drop_index(batch_op.f("ix_case_labels_case_id"))

    op.drop_table("case_labels")
    op.drop_table("notify_contacts")
    op.drop_table("feature_reports")
    op.drop_table("audit_heads")
    op.drop_table("audit_checkpoints")
    with op.batch_alter_table("appeals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appeals_account_id"))

    op.drop_table("appeals")
