"""A source build's heartbeat: ``sources.heartbeat``.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the column (null: a build not taken by a worker yet, as every existing one is)."""
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("heartbeat", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Drop the column."""
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("heartbeat")
