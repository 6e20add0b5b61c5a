"""Whether a run recalibrates its probabilities: ``runs.recalibrate``.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the column (existing runs did not: there was no such option)."""
    with op.batch_alter_table("runs") as batch:
        batch.add_column(
            sa.Column("recalibrate", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    """Drop the column."""
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("recalibrate")
