"""top-ups a channel's statement listed

Revision ID: 0003_listings
Revises: 0003_models
Create Date: 2026-11-22 20:50:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_listings"
down_revision = "0003_models"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "statement_listings",
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("channel_ref", sa.String(length=128), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("listed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", "channel_ref", name=op.f("pk_statement_listings")),
    )


def downgrade() -> None:
    op.drop_table("statement_listings")
