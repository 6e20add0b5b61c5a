"""``/v1/sources``: the built-in sources and the tenant's own, registered from a dataset."""

from __future__ import annotations

import shutil

from flask import Response
from pydantic import BaseModel, Field, RootModel
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from advisor.errors import (
    SOURCE_BUILTIN,
    SOURCE_EXISTS,
    SOURCE_IN_USE,
    ConflictError,
    NotFoundError,
)
from advisor.sources import check_source_name
from advisor.wire import ACTIVE_STATES, Problem, SourceCreate, SourceOut
from api.db import DatasetRecord, RunRecord, SourceRecord
from api.problems import UNAVAILABLE_ERRORS
from api.recovery import fail_stale_builds
from api.routes.common import reply, services, tenant, v1_blueprint
from api.services import DATASET_UNKNOWN, SOURCE_UNKNOWN
from learners import Source, builtin_sources, load_source

blueprint = v1_blueprint("sources", "sources", "Sources: pretrained and meta-trained starts.")


class SourceList(RootModel[list[SourceOut]]):
    """Every source the tenant can use."""


class SourcePath(BaseModel):
    """A source name in the path."""

    name: str = Field(max_length=40)


def describe(source: Source, where: str) -> SourceOut:
    """The wire form of a loaded source."""
    return SourceOut(
        name=source.name,
        where="built-in" if where == "built-in" else "tenant",
        backbone=source.backbone,
        modality=source.spec.modality,
        input_shape=list(source.spec.shape),
        classes=len(source.classes),
        starts=["pretrained", *source.meta],
    )


def _tenant_out(record: SourceRecord) -> SourceOut:
    if record.state == "ready":
        return describe(services().source(record.tenant_id, record.name), "tenant")
    return SourceOut(
        name=record.name,
        where="tenant",
        state="building" if record.state == "building" else "failed",
        error=record.error,
    )


@blueprint.get("", responses={200: SourceList})
def list_sources() -> Response:
    """The built-in sources, then the tenant's."""
    owner = tenant()
    fail_stale_builds(services())
    items = [describe(load_source(name), "built-in") for name in builtin_sources()]
    with services().db.session() as session:
        records = session.scalars(
            select(SourceRecord).where(SourceRecord.tenant_id == owner).order_by(SourceRecord.name)
        ).all()
    items += [_tenant_out(r) for r in records]
    return reply(SourceList(items))


@blueprint.get("/<name>", responses={200: SourceOut})
def get_source(path: SourcePath) -> Response:
    """One source (a tenant's own shows its build state)."""
    owner = tenant()
    fail_stale_builds(services())
    with services().db.session() as session:
        record = session.scalar(
            select(SourceRecord).where(
                SourceRecord.tenant_id == owner, SourceRecord.name == path.name
            )
        )
    if record is not None:
        return reply(_tenant_out(record))
    if path.name in builtin_sources():
        return reply(describe(load_source(path.name), "built-in"))
    raise NotFoundError(f"No source {path.name!r}.", code=SOURCE_UNKNOWN)


def _named(session: Session, owner: str, name: str) -> SourceRecord | None:
    return session.scalar(
        select(SourceRecord).where(SourceRecord.tenant_id == owner, SourceRecord.name == name)
    )


@blueprint.post("", responses={202: SourceOut, 409: Problem})
def register_source(body: SourceCreate) -> Response:
    """Register a source built from one of the tenant's datasets (a job: pretrain, meta-train).

    A name is registered once per tenant, however many requests ask for it at the same time:
    the check and the insert hold the tenant's lock (:func:`api.db.lock_tenant`), and the
    database's unique constraint on (tenant, name) turns any insert that still collides into
    the same ``409 source.exists``. The dataset is looked at again under the lock, so a source
    is never registered on a dataset deleted meanwhile (deleting waits for the lock too).
    """
    shared, owner = services(), tenant()
    shared.dataset_record(owner, body.dataset_id)
    check_source_name(body.name, replace=None)  # the form, built-in and reserved names
    taken = ConflictError(f"You have a source {body.name!r} already.", code=SOURCE_EXISTS)
    try:
        with shared.db.locked(owner) as session:
            if session.get(DatasetRecord, body.dataset_id) is None:
                raise NotFoundError(f"No dataset {body.dataset_id!r}.", code=DATASET_UNKNOWN)
            if _named(session, owner, body.name) is not None:
                raise taken
            record = SourceRecord(
                tenant_id=owner,
                name=body.name,
                dataset_id=body.dataset_id,
                settings={
                    "pretrain_epochs": body.pretrain_epochs,
                    "meta_episodes": body.meta_episodes,
                },
            )
            session.add(record)
    except IntegrityError:
        with shared.db.session() as session:
            if _named(session, owner, body.name) is None:
                raise  # not the name's constraint: unexpected
        raise taken from None
    try:
        shared.tasks["source"](record.id)
    except UNAVAILABLE_ERRORS:  # never built: the name and the dataset must not stay taken
        with shared.db.session() as session:
            session.execute(delete(SourceRecord).where(SourceRecord.id == record.id))
        raise
    with shared.db.session() as session:
        current = session.get(SourceRecord, record.id)
    out = _tenant_out(current if current is not None else record)
    return reply(out, 202, {"Location": f"/v1/sources/{body.name}"})


@blueprint.delete("/<name>", responses={204: None, 409: Problem})
def delete_source(path: SourcePath) -> Response:
    """Delete one of the tenant's sources: its record and its files; its dataset stays.

    Refused (409 ``source.in_use``, naming them) while the source is being built, or while a
    run needs it: queued or running on it, or succeeded with a family that starts from it
    (predicting reloads the source). Delete those runs first; a scratch run never needs its
    source. A built-in source is refused (409 ``source.builtin``). The check and the delete
    hold the tenant's lock, as starting a run does.
    """
    shared, owner = services(), tenant()
    if path.name in builtin_sources():
        raise ConflictError(f"{path.name!r} is a built-in source.", code=SOURCE_BUILTIN)
    fail_stale_builds(shared)  # a build whose worker died holds nothing
    with shared.db.locked(owner) as session:
        record = _named(session, owner, path.name)
        if record is None:
            raise NotFoundError(f"No source {path.name!r}.", code=SOURCE_UNKNOWN)
        runs = session.scalars(
            select(RunRecord).where(RunRecord.tenant_id == owner, RunRecord.source == path.name)
        ).all()
        needing = [
            run.id
            for run in runs
            if run.state in ACTIVE_STATES
            or (run.state == "succeeded" and (run.result or {}).get("family") != "scratch")
        ]
        if record.state == "building" or needing:
            why = ["it is being built"] if record.state == "building" else []
            why += [f"run {run_id} needs it" for run_id in needing]
            raise ConflictError(
                f"Source {path.name!r} cannot be deleted: {'; '.join(why)}.",
                code=SOURCE_IN_USE,
                runs=needing,
            )
        record_id = record.id
        session.delete(record)
    shared.store.delete(shared.tenant_source_key(owner, path.name))
    cache = shared.settings.cache_dir / "tenant-sources" / owner / record_id
    shutil.rmtree(cache, ignore_errors=True)
    return Response(status=204)
