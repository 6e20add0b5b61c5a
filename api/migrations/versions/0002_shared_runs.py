"""Runs split into parts on one shared study: ``runs.parts``, ``runs.finalizing``.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the columns (existing runs: one part, not finalizing)."""
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("parts", sa.Integer, nullable=False, server_default="1"))
        batch.add_column(
            sa.Column("finalizing", sa.Boolean, nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    """Drop the columns."""
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("finalizing")
        batch.drop_column("parts")
