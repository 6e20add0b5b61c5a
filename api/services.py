"""What the API and the workers share: settings, database, artifact store, queue and tasks.

:func:`build_services` wires them from one :class:`~advisor.settings.Settings` (so the API
process and every worker agree by reading the same ``ADVISOR_*`` variables), migrates the
database, and registers the queue's tasks (:mod:`api.jobs`); :func:`open_database` opens the
database alone (``advisor keys``).

A part that cannot be set up is an :class:`~advisor.errors.AdvisorError` naming the setting:
``config.invalid`` (not a URL this installation can use), ``io.unwritable`` (``ADVISOR_HOME``,
a SQLite file or the artifact folder cannot be written), ``service.unavailable`` (the database
server cannot be reached).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna
from huey import Huey
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from advisor.datasets import Dataset, LoadOptions, TabularEncoder, load_dataset
from advisor.datasets.options import Purpose
from advisor.errors import UNWRITABLE, AdvisorError, ConfigurationError, NotFoundError, define_code
from advisor.settings import Settings, get_settings
from advisor.writing import unwritable, writing
from api.artifacts import ArtifactStore
from api.db import Database, DatasetRecord, SourceRecord, migrate, schema_lock
from api.problems import UNAVAILABLE
from api.queue import make_queue
from api.studies import beating_storage
from learners import Source, builtin_sources, load_source

DATASET_UNKNOWN = define_code("dataset.unknown", "No dataset with that id belongs to this tenant.")
SOURCE_UNKNOWN = define_code(
    "source.unknown", "No source of that name is built in or ready for this tenant."
)


@dataclass
class Services:
    """The service's shared parts."""

    settings: Settings
    db: Database
    store: ArtifactStore
    queue: Huey
    tasks: dict[str, Any] = field(default_factory=dict)
    _storage: optuna.storages.BaseStorage | None = field(default=None, repr=False)

    # -- datasets ---------------------------------------------------------------------------

    def dataset_record(self, tenant: str, dataset_id: str) -> DatasetRecord:
        """The tenant's dataset record. Raises ``NotFoundError`` (``dataset.unknown``)."""
        with self.db.session() as session:
            record = session.get(DatasetRecord, dataset_id)
            if record is None or record.tenant_id != tenant:
                raise NotFoundError(f"No dataset {dataset_id!r}.", code=DATASET_UNKNOWN)
            return record

    def load(
        self,
        record: DatasetRecord,
        *,
        encoder: TabularEncoder | None = None,
        purpose: Purpose = "train",
    ) -> Dataset:
        """The dataset of ``record``, read again from its stored file with its options.

        ``encoder`` is the training table's, for a test dataset (see ``load_dataset``), and
        ``purpose="score"`` reads labels that only score (whatever the upload's purpose was):
        a dataset uploaded to score is checked as training data when it trains. A dataset
        stored without an ``identifiers`` policy was uploaded before row identifiers were
        looked for, and keeps its columns.
        """
        data = self.store.get(record.artifact)
        stored = {"identifiers": "keep"} | record.options  # uploads from before the policy
        options = LoadOptions.model_validate(stored | {"purpose": purpose})
        return load_dataset(
            data,
            name=record.name,
            options=options,
            limits=self.settings.data_limits(),
            encoder=encoder,
        )

    # -- studies ----------------------------------------------------------------------------

    def study_storage(self) -> optuna.storages.BaseStorage:
        """The runs' Optuna storage (one per process), with trial heartbeats.

        A trial whose worker stops beating for ``3 x trial_heartbeat_seconds`` is failed by
        the next worker that looks; the run's budget is then spent by the workers left.
        """
        if self._storage is None:
            url = self.settings.study_storage
            engine: dict[str, Any] = (
                {"connect_args": {"timeout": 30}} if url.startswith("sqlite") else {}
            )
            self._storage = beating_storage(url, self.settings.trial_heartbeat_seconds, **engine)
        return self._storage

    # -- sources ----------------------------------------------------------------------------

    def tenant_source_key(self, tenant: str, name: str) -> str:
        """Artifact key of a tenant's source folder."""
        return f"sources/{tenant}/{name}"

    def source(self, tenant: str, name: str) -> Source:
        """A built-in source, or one the tenant registered (fetched to a local cache).

        Raises:
            NotFoundError: ``source.unknown``.
        """
        with self.db.session() as session:
            record = session.scalar(
                select(SourceRecord).where(
                    SourceRecord.tenant_id == tenant, SourceRecord.name == name
                )
            )
        if record is not None and record.state == "ready":
            # keyed by the record: a source deleted and registered again under its name is
            # another source, never a stale copy some process kept
            local = self.settings.cache_dir / "tenant-sources" / tenant / record.id
            if not (local / "source.json").is_file():
                self.store.get_folder(self.tenant_source_key(tenant, name), local)
            return load_source(local)
        if name in builtin_sources():
            return load_source(name)
        raise NotFoundError(f"No source {name!r} is available.", code=SOURCE_UNKNOWN)


def _shown(url: str) -> str:
    """``url`` as errors may show it: its password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:  # not a URL SQLAlchemy parses: hide what looks like user:password@
        return re.sub(r"(//[^:/@]*):[^@/]*@", r"\1:***@", url)


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


@contextmanager
def _database_errors(variable: str, url: str) -> Iterator[None]:
    """Turn what setting up the database at ``url`` raises into an error naming ``variable``.

    Raises:
        ConfigurationError: ``config.invalid`` (a URL this installation cannot use: unknown
            dialect, a driver not installed, not a URL); ``io.unwritable`` (a SQLite file, or
            its folder, that cannot be written).
        AdvisorError: ``service.unavailable`` (the database server cannot be reached).
    """
    try:
        yield
    except (ArgumentError, ImportError) as error:  # NoSuchModuleError is an ArgumentError
        raise ConfigurationError(
            f"{variable} {_shown(url)!r} is not a database URL this installation can use "
            f"({_first_line(error)}): write a SQLAlchemy URL, e.g. "
            "postgresql+psycopg://USER@HOST/DB (pip install 'automl-advisor[dist]') or "
            "sqlite:////PATH/advisor.db.",
            setting=variable,
        ) from None
    except OSError as error:  # SQLite: its folder cannot be made, its lock file not written
        raise unwritable(_sqlite_path(url), error, f"the database ({variable})") from None
    except DBAPIError as error:
        if url.startswith("sqlite"):
            reason = _first_line(error)
            raise ConfigurationError(
                f"Cannot write the database {_sqlite_path(url)} ({variable}): {reason}.",
                code=UNWRITABLE,
                path=str(_sqlite_path(url)),
                reason=reason,
            ) from None
        raise AdvisorError(
            f"The database {_shown(url)} ({variable}) cannot be reached: {_first_line(error)}.",
            code=UNAVAILABLE,
            setting=variable,
        ) from None


def _sqlite_path(url: str) -> Path:
    return Path(make_url(url).database or url)


def open_database(settings: Settings | None = None) -> Database:
    """The metadata database alone, its schema created or upgraded: all ``advisor keys`` needs.

    No artifact store, queue or Optuna tables: a machine that only issues keys needs to reach
    the database and nothing else.

    Raises:
        AdvisorError: see :func:`_database_errors` (the message names the setting).
    """
    settings = settings or get_settings()
    variable = "ADVISOR_DATABASE_URL" if settings.database_url else "ADVISOR_HOME"
    with _database_errors(variable, settings.database):
        db = Database(settings.database)
        with schema_lock(db.engine):  # an API and its workers may all start at once
            migrate(settings.database)
    return db


def _artifact_store(settings: Settings) -> ArtifactStore:
    url = settings.artifacts
    variable = "ADVISOR_ARTIFACTS_URL" if settings.artifacts_url else "ADVISOR_HOME"
    try:
        return ArtifactStore(url)
    except OSError as error:
        reason = error.strerror or str(error) or type(error).__name__
        raise ConfigurationError(
            f"Cannot write the artifact store {url} ({variable}): {reason}.",
            code=UNWRITABLE,
            path=url,
            reason=reason,
        ) from None
    except (ValueError, ImportError) as error:  # an unknown protocol, its package missing
        raise ConfigurationError(
            f"{variable} {url!r} is not a folder or fsspec URL this installation can use: "
            f"{_first_line(error)}.",
            setting=variable,
        ) from None


def build_services(settings: Settings | None = None, *, immediate: bool = False) -> Services:
    """Wire the service's parts from ``settings`` (the environment's by default).

    ``immediate`` runs queued tasks at once in the caller (for tests of routes alone).

    Raises:
        AdvisorError: a part cannot be set up; the message names the setting
            (``config.invalid``, ``io.unwritable``, ``service.unavailable``).
    """
    from api import jobs  # noqa: PLC0415 - jobs imports this module (type hints)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    settings = settings or get_settings()
    with writing(settings.home, "ADVISOR_HOME"):
        settings.home.mkdir(parents=True, exist_ok=True)
    services = Services(
        settings=settings,
        db=open_database(settings),
        store=_artifact_store(settings),
        queue=make_queue(settings.queue, name=settings.queue_name, immediate=immediate),
    )
    if settings.optuna_storage:
        variable = "ADVISOR_OPTUNA_STORAGE"
    else:
        variable = "ADVISOR_DATABASE_URL" if settings.database_url else "ADVISOR_HOME"
    with _database_errors(variable, settings.study_storage), schema_lock(services.db.engine):
        services.study_storage()  # creates Optuna's tables
    jobs.register(services)
    return services
