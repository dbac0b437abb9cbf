"""signed checkpoints and decisions are append-only

`audit_checkpoints` and `decisions` refuse UPDATE and DELETE (and TRUNCATE on
PostgreSQL), like `audit_log`: a deleted checkpoint could hide a rewritten chain, and a
decision row is evidence (the event, the decision with its reasons, the trace). Someone
who can drop the triggers can still change rows: `walletguard audit verify` reports a
checkpoint that an `audit.checkpoint_signed` record names but that is gone, gaps in
checkpoint ids, and decisions that no longer match the `decisions.sealed` records.

Revision ID: 0011_append_only
Revises: 0003_account_case
Create Date: 2026-11-24 09:00:00.000000
"""

from alembic import op

revision = "0011_append_only"
down_revision = "0003_account_case"
branch_labels = None
depends_on = None

_TABLES = ("audit_checkpoints", "decisions")

_PG_FUNCTION = """
CREATE FUNCTION walletguard_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


SEALED_FROM = "decisions_sealed_from"
"""settings_kv: the first decision seq stored under seals; rows before it were stored
before this revision and no seal covers them (`audit verify` counts them apart)."""
GAPLESS_FROM = "checkpoints_gapless_from"
"""settings_kv: the first checkpoint id given out without gaps; before it ids came from a
sequence, which skips one when a signing rolls back (`audit verify` reports no gap there)."""


def upgrade() -> None:
    for key, table, column in (
        (SEALED_FROM, "decisions", "seq"),
        (GAPLESS_FROM, "audit_checkpoints", "id"),
    ):
        op.execute(
            "INSERT INTO settings_kv (key, value) "
            f"SELECT '{key}', CAST(COALESCE(MAX({column}), 0) + 1 AS TEXT) FROM {table}"
        )
    if _is_sqlite():
        for table in _TABLES:
            for verb in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {verb} refused'); END"
                )
        return
    op.execute(_PG_FUNCTION)
    for table in _TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION walletguard_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION walletguard_append_only()"
        )


def downgrade() -> None:
    op.execute(f"DELETE FROM settings_kv WHERE key IN ('{SEALED_FROM}', '{GAPLESS_FROM}')")
    if _is_sqlite():
        for table in _TABLES:
            for verb in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")
        return
    for table in _TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    op.execute("DROP FUNCTION IF EXISTS walletguard_append_only()")
