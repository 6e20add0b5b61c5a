"""Alembic environment of the service's metadata database (see :func:`api.db.migrate`)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from api.db import Base

config = context.config
url = config.get_main_option("sqlalchemy.url") or ""


def run_migrations() -> None:
    """Upgrade the database at the configured URL, online."""
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=url.startswith("sqlite"),
            version_table="advisor_alembic_version",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
