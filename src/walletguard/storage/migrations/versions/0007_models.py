"""the model registry and ring cases

Revision ID: 0003_models
Revises: 0003_audit
Create Date: 2026-11-22 08:56:47.151825
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_models"
down_revision = "0003_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "models",
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("features", sa.Text(), nullable=False),
        sa.Column("event_types", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("metrics", sa.Text(), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("model_text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status_changed_by", sa.String(length=128), nullable=True),
        sa.Column("promoted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("promoted_by", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_models")),
        sa.CheckConstraint(
            "status IN ('candidate', 'shadow', 'champion', 'retired')",
            name=op.f("ck_models_status_known"),
        ),
    )
    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.create_index("ix_models_status", ["status"], unique=False)
    # At most one champion, on both databases (both support partial indexes).
    op.create_index(
        "uq_models_one_champion",
        "models",
        ["status"],
        unique=True,
        sqlite_where=sa.text("status = 'champion'"),
        postgresql_where=sa.text("status = 'champion'"),
    )

    op.create_table(
        "ring_cases",
        sa.Column("case_id", sa.String(length=160), nullable=False),
        sa.Column("ring_id", sa.String(length=64), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detected_by", sa.String(length=128), nullable=False),
        sa.Column("window_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_to", sa.DateTime(timezone=True), nullable=False),
        sa.Column("patterns", sa.Text(), nullable=False),
        sa.Column("members", sa.Text(), nullable=False),
        sa.Column("flows", sa.Text(), nullable=False),
        sa.Column("money_units", sa.BigInteger(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("svg", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_ring_cases_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_ring_cases")),
        sa.UniqueConstraint("ring_id", name=op.f("uq_ring_cases_ring_id")),
    )


def downgrade() -> None:
    op.drop_table("ring_cases")
    op.drop_index("uq_models_one_champion", table_name="models")
    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.drop_index("ix_models_status")

    op.drop_table("models")
