"""The service's metadata: tenants, API keys, datasets, sources and runs (SQLAlchemy 2).

SQLite by default (a file under ``ADVISOR_HOME``), PostgreSQL by URL; the schema is created
and upgraded by Alembic (:func:`migrate`, migrations in ``api/migrations``). Large things —
uploaded files, fitted models, reports — are not here but in the artifact store
(:mod:`api.artifacts`); rows keep their keys.

SQLAlchemy was chosen because it is the one maintained toolkit that speaks both SQLite and
PostgreSQL with the same typed models and pairs with Alembic for migrations; Optuna's RDB
storage uses it too, so one database can hold both.
"""

from __future__ import annotations

import datetime
import fcntl
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    create_engine,
    event,
    select,
)
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

MIGRATIONS = Path(__file__).parent / "migrations"


def utcnow() -> datetime.datetime:
    """The current time, timezone-aware UTC."""
    return datetime.datetime.now(datetime.UTC)


def new_id() -> str:
    """A fresh random identifier (hex, 16 characters; unguessable enough for ids, not keys)."""
    return uuid.uuid4().hex[:16]


class UtcDateTime(TypeDecorator[datetime.datetime]):
    """A timestamp stored in UTC and read back timezone-aware (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(
        self, value: datetime.datetime | None, dialect: Dialect
    ) -> datetime.datetime | None:
        """Aware values are stored as UTC."""
        if value is not None and value.tzinfo is not None:
            return value.astimezone(datetime.UTC)
        return value

    def process_result_value(
        self, value: datetime.datetime | None, dialect: Dialect
    ) -> datetime.datetime | None:
        """Values read back are UTC and aware."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=datetime.UTC)
        return value.astimezone(datetime.UTC)


class Base(DeclarativeBase):
    """Base of the service's tables."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime.datetime: UtcDateTime(),
        dict[str, Any]: JSON,
    }


class Tenant(Base):
    """An owner of datasets, sources and runs; API keys belong to one."""

    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created: Mapped[datetime.datetime] = mapped_column(default=utcnow)


class ApiKey(Base):
    """An API key, stored as its SHA-256 hash (the key itself is shown once, at creation)."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    created: Mapped[datetime.datetime] = mapped_column(default=utcnow)
    revoked: Mapped[datetime.datetime | None] = mapped_column(default=None)


class DatasetRecord(Base):
    """An uploaded dataset: its description, its load options, and where its file is."""

    __tablename__ = "datasets"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    artifact: Mapped[str] = mapped_column(String(500))
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    info: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created: Mapped[datetime.datetime] = mapped_column(default=utcnow, index=True)


class SourceRecord(Base):
    """A source a tenant registered from one of its datasets (built by a job).

    A tenant's source names are unique (``uq_sources_tenant_id_name``, migration 0006): the
    route checks first under the tenant's lock (:func:`lock_tenant`), and the constraint holds
    whatever writes the table.
    """

    __tablename__ = "sources"
    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_sources_tenant_id_name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    dataset_id: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default="building")
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(String(2000), default=None)
    created: Mapped[datetime.datetime] = mapped_column(default=utcnow)
    heartbeat: Mapped[datetime.datetime | None] = mapped_column(default=None)


class RunRecord(Base):
    """A tuned run: what was asked, where it stands, what it found."""

    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    dataset_id: Mapped[str] = mapped_column(String(32))
    test_dataset_id: Mapped[str | None] = mapped_column(String(32), default=None)
    source: Mapped[str] = mapped_column(String(255))
    family: Mapped[str | None] = mapped_column(String(16), default=None)
    n_trials: Mapped[int | None] = mapped_column(Integer, default=None)
    timeout: Mapped[float | None] = mapped_column(default=None)
    seed: Mapped[int] = mapped_column(Integer, default=0)
    metric: Mapped[str] = mapped_column(String(32), default="accuracy")
    learning_curve: Mapped[bool] = mapped_column(Boolean, default=False)
    recalibrate: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    parts: Mapped[int] = mapped_column(Integer, default=1)
    finalizing: Mapped[bool] = mapped_column(Boolean, default=False)
    resumes: Mapped[int] = mapped_column(Integer, default=0)
    progress: Mapped[dict[str, Any]] = mapped_column(default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    created: Mapped[datetime.datetime] = mapped_column(default=utcnow, index=True)
    started: Mapped[datetime.datetime | None] = mapped_column(default=None)
    finished: Mapped[datetime.datetime | None] = mapped_column(default=None)
    heartbeat: Mapped[datetime.datetime | None] = mapped_column(default=None)


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets a busy timeout and WAL so workers and API can share."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, poolclass=NullPool)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def migrate(url: str) -> None:
    """Create or upgrade the schema at ``url`` to the newest Alembic revision."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")


@contextmanager
def schema_lock(engine: Engine) -> Iterator[None]:
    """Serialise schema creation between processes that start together.

    PostgreSQL: an advisory lock. SQLite: an exclusive lock on a file beside the database
    (gunicorn's workers all migrate as they boot; Alembic on SQLite is not safe to race).
    """
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        if not database or database == ":memory:":
            yield
            return
        with Path(f"{database}.lock").open("a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as connection:
        connection.exec_driver_sql("SELECT pg_advisory_lock(72430001)")
        try:
            yield
        finally:
            connection.exec_driver_sql("SELECT pg_advisory_unlock(72430001)")
            connection.commit()


def lock_tenant(session: Session, tenant_id: str) -> None:
    """Make the rest of ``session``'s transaction exclusive for ``tenant_id``'s writers.

    Call it first in a session that checks what the tenant has and then writes on that basis
    (active runs under the limit, a free source name, a dataset nobody needs): every other
    session that called it for the tenant waits until this one commits or rolls back, and then
    sees what it wrote. Checks made without it can all pass before any of them inserts.

    * PostgreSQL: ``SELECT … FROM tenants WHERE id = … FOR NO KEY UPDATE`` locks the tenant's
      row until the transaction ends. Lockers of one tenant queue; other tenants do not wait.
      Under READ COMMITTED (the default) each later statement reads a fresh snapshot, so the
      count made after the lock includes what the previous holder committed. ``NO KEY``:
      inserting a dataset or run takes a ``KEY SHARE`` lock on the row for its foreign key,
      which ``FOR UPDATE`` would block and this does not. Every tenant has its row (API keys
      and the open-access tenant create it), as every owned row's foreign key requires.
    * SQLite: ``BEGIN IMMEDIATE`` takes the database's write lock before anything is read.
      Python's ``sqlite3`` driver otherwise begins a transaction only at the first write, so
      a count would run outside it and go stale. SQLite has one writer at a time whatever
      we do, so the lock is the whole database's, not the tenant's; writers wait for it up to
      the busy timeout (30 s, :func:`make_engine`), readers (WAL) never wait. The driver sees
      the open transaction and neither begins another nor skips the ``COMMIT``.
    * Other databases: no lock (only these two are supported).

    Raises:
        RuntimeError: on SQLite, when the session has written already (the transaction began
            without the write lock; take the lock first).
    """
    connection = session.connection()
    dialect = connection.dialect.name
    if dialect == "sqlite":
        driver = connection.connection.dbapi_connection
        if getattr(driver, "in_transaction", False):
            raise RuntimeError("lock_tenant must come before the session's first write")
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif dialect == "postgresql":
        session.execute(
            select(Tenant.id).where(Tenant.id == tenant_id).with_for_update(key_share=True)
        )


class Database:
    """An engine and its session factory."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on error."""
        with self.sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def locked(self, tenant_id: str) -> Iterator[Session]:
        """A :meth:`session` holding ``tenant_id``'s lock (:func:`lock_tenant`) until it ends."""
        with self.session() as session:
            lock_tenant(session, tenant_id)
            yield session

    def ping(self) -> None:
        """Raise if the database cannot be reached."""
        with self.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
