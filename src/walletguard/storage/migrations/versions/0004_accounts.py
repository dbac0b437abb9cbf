"""accounts: lock-out counts, reset cool-off, challenge purpose, bindings history,
used freeze links, TOTP enrolments

Revision ID: 0003_accounts
Revises: 0003_access
Create Date: 2026-11-22 08:51:44.786856
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_accounts"
down_revision = "0003_access"
branch_labels = None
depends_on = None

_STATES = "state in ('active', 'restricted', 'frozen', 'locked', 'closed')"

# Bindings keep their history and a used freeze link stays used: neither table's rows may
# be deleted (nor a used token's row changed).
_SQLITE_TRIGGERS = [
    """CREATE TRIGGER bindings_keep_history BEFORE DELETE ON bindings
       BEGIN SELECT RAISE(ABORT, 'bindings keep their history: unbind, do not delete'); END""",
    """CREATE TRIGGER freeze_tokens_used_no_delete BEFORE DELETE ON freeze_tokens_used
       BEGIN SELECT RAISE(ABORT, 'a used freeze link stays used'); END""",
    """CREATE TRIGGER freeze_tokens_used_no_update BEFORE UPDATE ON freeze_tokens_used
       BEGIN SELECT RAISE(ABORT, 'a used freeze link stays used'); END""",
]
_PG_TRIGGERS = [
    """CREATE FUNCTION walletguard_refuse_change() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION '%', TG_ARGV[0]; END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER bindings_keep_history BEFORE DELETE ON bindings FOR EACH ROW
       EXECUTE FUNCTION walletguard_refuse_change(
           'bindings keep their history: unbind, do not delete')""",
    """CREATE TRIGGER freeze_tokens_used_frozen BEFORE DELETE OR UPDATE ON freeze_tokens_used
       FOR EACH ROW EXECUTE FUNCTION walletguard_refuse_change('a used freeze link stays used')""",
]


def upgrade() -> None:
    op.create_table(
        "bindings",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("target", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("token", sa.String(length=128), nullable=False),
        sa.Column("institution", sa.String(length=128), nullable=True),
        sa.Column("bound_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("bound_event_id", sa.String(length=128), nullable=True),
        sa.Column("from_device", sa.String(length=128), nullable=True),
        sa.Column("from_ip", sa.String(length=64), nullable=True),
        sa.Column("from_country", sa.String(length=2), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("unbound_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unbound_by", sa.String(length=128), nullable=True),
        sa.Column("unbind_reason", sa.Text(), nullable=True),
        sa.Column("suspicious", sa.Boolean(), nullable=False),
        sa.Column("suspicious_reason", sa.Text(), nullable=True),
        sa.Column("flagged_by", sa.String(length=128), nullable=True),
        sa.Column("flagged_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("target in ('device', 'account')", name=op.f("ck_bindings_target")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bindings")),
    )
    with op.batch_alter_table("bindings", schema=None) as batch_op:
        batch_op.create_index("ix_bindings_account_token", ["account_id", "token"], unique=False)

    op.create_table(
        "freeze_tokens_used",
        sa.Column("token_id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_id", name=op.f("pk_freeze_tokens_used")),
    )
    op.create_table(
        "totp_enrolments",
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("sealed_secret", sa.LargeBinary(), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_step", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_totp_enrolments")),
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lock_scope", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("resume_state", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("login_failures", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("login_failed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("txn_failures", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("txn_failed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("cool_off_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("reset_verified_by", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("reset_verified_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.create_check_constraint("state", _STATES)
        batch_op.create_check_constraint("failures", "login_failures >= 0 and txn_failures >= 0")

    with op.batch_alter_table("challenges", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("purpose", sa.String(length=32), server_default="", nullable=False)
        )

    for statement in _SQLITE_TRIGGERS if _is_sqlite() else _PG_TRIGGERS:
        op.execute(statement)


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def downgrade() -> None:
    if _is_sqlite():
        for name in (
            "bindings_keep_history",
            "freeze_tokens_used_no_delete",
            "freeze_tokens_used_no_update",
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        op.execute("DROP TRIGGER IF EXISTS bindings_keep_history ON bindings")
        op.execute("DROP TRIGGER IF EXISTS freeze_tokens_used_frozen ON freeze_tokens_used")
        op.execute("DROP FUNCTION IF EXISTS walletguard_refuse_change()")

    with op.batch_alter_table("challenges", schema=None) as batch_op:
        batch_op.drop_column("purpose")

    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_accounts_failures"), type_="check")
        batch_op.drop_constraint(op.f("ck_accounts_state"), type_="check")
        batch_op.drop_column("reset_verified_at")
        batch_op.drop_column("reset_verified_by")
        batch_op.drop_column("cool_off_until")
        batch_op.drop_column("txn_failed_at")
        batch_op.drop_column("txn_failures")
        batch_op.drop_column("login_failed_at")
        batch_op.drop_column("login_failures")
        batch_op.drop_column("resume_state")
        batch_op.drop_column("lock_scope")

    op.drop_table("totp_enrolments")
    op.drop_table("freeze_tokens_used")
    with op.batch_alter_table("bindings", schema=None) as batch_op:
        batch_op.drop_index("ix_bindings_account_token")

    op.drop_table("bindings")
