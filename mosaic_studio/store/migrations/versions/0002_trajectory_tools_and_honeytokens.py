"""trajectory tools and honeytokens (server defaults fill the rows already stored)

Revision ID: 0002
Revises: 0001_initial
Create Date: 2026-12-04 20:14:15.358634
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001_initial"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("trajectory", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tools", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(
            sa.Column("honeytokens", sa.JSON(), nullable=False, server_default="{}")
        )


def downgrade() -> None:
    with op.batch_alter_table("trajectory", schema=None) as batch_op:
        batch_op.drop_column("honeytokens")
        batch_op.drop_column("tools")
