"""where each statement's period ended, per merchant for a channel with a statement per
merchant

Revision ID: 0003_periods
Revises: 0003_listings
Create Date: 2026-11-24 10:00:00.000000

The period ends of statements imported before this revision are copied from their stored
reports, as statements for the whole channel (which merchants they named was not kept).
"""

import json
from datetime import datetime

import sqlalchemy as sa
from alembic import op

from walletguard.storage.types import UtcDateTime

revision = "0003_periods"
down_revision = "0003_listings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "statement_periods",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=80), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("digest", "scope", name=op.f("pk_statement_periods")),
    )
    op.create_index(
        "ix_statement_periods_channel_imported",
        "statement_periods",
        ["channel", "imported_at", "digest"],
        unique=False,
    )
    op.create_index(
        "ix_statement_periods_channel_scope_imported",
        "statement_periods",
        ["channel", "scope", "imported_at", "digest"],
        unique=False,
    )
    _copy_period_ends()


def _copy_period_ends() -> None:
    """One whole-channel row per statement already imported with lines."""
    imports = sa.table(
        "statement_imports",
        sa.column("digest", sa.String),
        sa.column("channel", sa.String),
        sa.column("imported_at", UtcDateTime),
        sa.column("lines", sa.Integer),
        sa.column("report", sa.Text),
    )
    periods = sa.table(
        "statement_periods",
        sa.column("digest", sa.String),
        sa.column("scope", sa.String),
        sa.column("channel", sa.String),
        sa.column("period_end", UtcDateTime),
        sa.column("imported_at", UtcDateTime),
    )
    conn = op.get_bind()
    after = ""
    while True:  # a page of reports at a time: they can be large
        rows = conn.execute(
            sa.select(imports.c.digest, imports.c.channel, imports.c.imported_at, imports.c.report)
            .where(imports.c.lines > 0, imports.c.digest > after)
            .order_by(imports.c.digest)
            .limit(200)
        ).all()
        if not rows:
            return
        conn.execute(
            sa.insert(periods),
            [
                {
                    "digest": row.digest,
                    "scope": "",
                    "channel": row.channel,
                    "period_end": datetime.fromisoformat(json.loads(row.report)["period"]["end"]),
                    "imported_at": row.imported_at,
                }
                for row in rows
            ],
        )
        after = rows[-1].digest


def downgrade() -> None:
    op.drop_index("ix_statement_periods_channel_scope_imported", table_name="statement_periods")
    op.drop_index("ix_statement_periods_channel_imported", table_name="statement_periods")
    op.drop_table("statement_periods")
