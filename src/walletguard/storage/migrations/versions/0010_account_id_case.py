"""an index on accounts' ids folded to lower case

Revision ID: 0003_account_case
Revises: 0003_periods
Create Date: 2026-11-23 00:50:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_account_case"
down_revision = "0003_periods"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_accounts_account_id_folded", "accounts", [sa.text("lower(account_id)")], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_accounts_account_id_folded", table_name="accounts")
