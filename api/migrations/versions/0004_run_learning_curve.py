"""Whether a run also measures its learning curve: ``runs.learning_curve``.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the column (existing runs did not measure one: there was no such option)."""
    with op.batch_alter_table("runs") as batch:
        batch.add_column(
            sa.Column("learning_curve", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    """Drop the column."""
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("learning_curve")
