"""What the API and the workers share: settings, database, artifact store, queue and tasks.

:func:`build_services` wires them from one :class:`~advisor.settings.Settings` (so the API
process and every worker agree by reading the same ``ADVISOR_*`` variables), migrates the
database, and registers the queue's tasks (:mod:`api.jobs`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import optuna
from huey import Huey
from sqlalchemy import select

from advisor.datasets import Dataset, LoadOptions, TabularEncoder, load_dataset
from advisor.datasets.options import Purpose
from advisor.errors import NotFoundError, define_code
from advisor.settings import Settings, get_settings
from api.artifacts import ArtifactStore
from api.db import Database, DatasetRecord, SourceRecord, migrate, schema_lock
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
            self._storage = beating_storage(
                url, int(self.settings.trial_heartbeat_seconds), **engine
            )
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


def build_services(settings: Settings | None = None, *, immediate: bool = False) -> Services:
    """Wire the service's parts from ``settings`` (the environment's by default).

    ``immediate`` runs queued tasks at once in the caller (for tests of routes alone).
    """
    from api import jobs  # noqa: PLC0415 - jobs imports this module (type hints)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    settings = settings or get_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    db = Database(settings.database)
    services = Services(
        settings=settings,
        db=db,
        store=ArtifactStore(settings.artifacts),
        queue=make_queue(settings.queue, name=settings.queue_name, immediate=immediate),
    )
    with schema_lock(db.engine):  # an API and its workers may all start at once
        migrate(settings.database)
        services.study_storage()  # creates Optuna's tables
    jobs.register(services)
    return services
