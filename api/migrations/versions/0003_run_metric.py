"""What a run's study maximises: ``runs.metric``.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the column (existing runs maximised accuracy, the only metric there was)."""
    with op.batch_alter_table("runs") as batch:
        batch.add_column(
            sa.Column("metric", sa.String(32), nullable=False, server_default="accuracy")
        )


def downgrade() -> None:
    """Drop the column."""
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("metric")
