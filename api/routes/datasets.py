"""``/v1/datasets``: upload (every format of the data layer), list, get, delete, meta-features."""

from __future__ import annotations

import math
import re
import time
import unicodedata
from pathlib import PurePosixPath
from typing import Any, Literal

from flask import Response
from flask_openapi3.models.file import FileStorage
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import func, or_, select
from werkzeug.datastructures import FileStorage as UploadedFile

from advisor import Advisor
from advisor.datasets import DatasetInfo, LoadOptions, load_dataset
from advisor.errors import ConflictError, DatasetError, LimitExceededError, define_code
from advisor.wire import ACTIVE_STATES, DatasetOut, DatasetPage, MetaFeaturesOut, Problem
from api.db import DatasetRecord, RunRecord, SourceRecord, new_id
from api.recovery import fail_stale_builds, recover_stale_runs
from api.routes.common import PageQuery, reply, services, tenant, v1_blueprint

blueprint = v1_blueprint("datasets", "datasets", "Upload and inspect labeled datasets.")

NO_FILE = define_code("dataset.no_file", "The upload has no 'file' part, or it is empty.")
IN_USE = define_code(
    "dataset.in_use",
    "A queued or running run, or a source being built, needs the dataset: cancel the runs "
    "or wait for them and the build to finish, then delete it.",
)

NAME_CHARS = 255  # datasets.name is String(255)
SUFFIX_CHARS = 16  # the longest file suffix kept whole when a name is cut
# Unicode's explicit bidirectional embeddings, overrides and isolates (category Cf): they can
# make a name read differently from what it is ("txt.exe" shown as "exe.txt").
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def upload_name(filename: str | None) -> str:
    r"""The dataset's ``name``: the uploaded file's own base name, kept as metadata only.

    The name is shown back and helps the data layer recognise a format by its suffix; it is
    never part of a path (stored files are keyed by generated ids, :mod:`api.artifacts`), so
    any script is kept (``企鹅.jsonl`` stays ``企鹅.jsonl``, where Werkzeug's
    ``secure_filename``, made for paths, left ``jsonl``). Made tidy for display:

    * normalised to NFC; control characters (category Cc: NUL, newlines, escapes), lone
      surrogates (Cs) and the bidirectional overrides and isolates (:data:`BIDI_CONTROLS`)
      removed;
    * directories dropped: whatever follows the last ``/`` or ``\`` (a client may send its
      full path), surrounding spaces stripped;
    * at most 255 characters, cut in the stem so the suffix (up to 16 characters) stays;
    * ``upload`` when nothing is left, or only ``.`` or ``..``.
    """
    text = unicodedata.normalize("NFC", filename or "")
    text = "".join(
        c for c in text if unicodedata.category(c) not in ("Cc", "Cs") and c not in BIDI_CONTROLS
    )
    name = re.split(r"[/\\]", text)[-1].strip()
    if name in ("", ".", ".."):
        return "upload"
    if len(name) > NAME_CHARS:
        suffix = PurePosixPath(name).suffix
        suffix = suffix if len(suffix) <= SUFFIX_CHARS else ""
        name = name[: NAME_CHARS - len(suffix)].rstrip() + suffix
    return name


class UploadForm(BaseModel):
    """A multipart upload: the file and the data layer's load options."""

    file: FileStorage
    label: str | None = Field(None, max_length=500, description="Label column or NPZ array.")
    drop: str | list[str] | None = Field(
        None,
        description="Columns of a table to leave out of the features: a JSON list of names, "
        "or names separated by commas.",
    )
    identifiers: Literal["drop", "keep"] | None = Field(
        None,
        description="Columns that look like row identifiers: 'drop' (default) leaves them "
        "out, warned in the info; 'keep' keeps them as features.",
    )
    modality: Literal["image", "vector"] | None = None
    categorical: Literal["onehot", "ordinal"] | None = None
    missing: Literal["impute", "error"] | None = None
    image_size: str | None = Field(
        None,
        pattern=r"^(\d{1,4}x\d{1,4}|keep)$",
        description="HxW to resize images to (default 28x28), or 'keep' (sizes must agree).",
    )
    color: Literal["grayscale", "rgb"] | None = None
    purpose: Literal["train", "score"] | None = Field(
        None,
        description=(
            "'train' (default): the labels must teach a classifier (2 classes, 2 examples "
            "each). 'score': a test set, whose labels only score a run (test_dataset_id), so "
            "one class or one example of a class is accepted."
        ),
    )
    format: str | None = Field(None, max_length=20)
    encoding: str | None = Field(None, max_length=40)

    @field_validator("label", "format", "encoding", mode="before")
    @classmethod
    def _as_text(cls, value: object) -> object:
        # Form values arrive JSON-parsed: a column named "2020" must stay a name, not a number.
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        return value

    @field_validator("drop", mode="before")
    @classmethod
    def _names_as_text(cls, value: object) -> object:
        if isinstance(value, list):
            return [cls._as_text(v) for v in value]
        return cls._as_text(value)

    @field_validator("file", mode="before")
    @classmethod
    def _is_a_file(cls, value: object) -> object:
        # flask-openapi3 passes a text field named 'file' through as a str; refuse it here
        # (422) rather than fail on .read() (500).
        if not isinstance(value, UploadedFile):
            raise ValueError("'file' must be a file part of the multipart body, not a text field")
        return value


class DatasetPath(BaseModel):
    """A dataset id in the path."""

    dataset_id: str = Field(max_length=32)


class SourceQuery(BaseModel):
    """The source to measure against."""

    source: str = Field("glyphs", max_length=40)


def load_options(form: UploadForm) -> LoadOptions:
    """The form's options as the data layer's :class:`LoadOptions`."""
    values: dict[str, Any] = {
        name: getattr(form, name)
        for name in (
            "label",
            "drop",
            "identifiers",
            "modality",
            "categorical",
            "missing",
            "color",
            "format",
            "encoding",
            "purpose",
        )
        if getattr(form, name) is not None
    }
    if form.image_size:
        values["image_size"] = form.image_size  # "HxW" or "keep", parsed by LoadOptions
    return LoadOptions(**values)


def as_out(record: DatasetRecord) -> DatasetOut:
    """The wire form of a stored dataset."""
    return DatasetOut(
        id=record.id,
        name=record.name,
        created=record.created,
        info=DatasetInfo.model_validate(record.info),
    )


@blueprint.post("", responses={201: DatasetOut})
def upload(form: UploadForm) -> Response:
    """Upload a dataset: CSV/TSV, Parquet, NPZ, JSON, or a zip of class folders of images."""
    shared = services()
    data = form.file.read(shared.settings.max_upload_bytes + 1)
    if not data:
        raise DatasetError("The upload has no file or the file is empty.", code=NO_FILE)
    if len(data) > shared.settings.max_upload_bytes:
        raise LimitExceededError(
            f"The file is larger than {shared.settings.max_upload_bytes} bytes.",
            code="dataset.too_large",
        )
    name = upload_name(form.file.filename)
    options = load_options(form)
    dataset = load_dataset(data, name=name, options=options, limits=shared.settings.data_limits())
    owner, dataset_id = tenant(), new_id()
    key = f"datasets/{owner}/{dataset_id}/data"
    shared.store.put(key, data)
    try:
        with shared.db.session() as session:
            record = DatasetRecord(
                id=dataset_id,
                tenant_id=owner,
                name=name,
                artifact=key,
                # the identifiers policy is always kept: a dataset stored without one was
                # uploaded before identifiers were looked for, and is read as it was then
                options=options.model_dump(mode="json", exclude_defaults=True)
                | {"identifiers": options.identifiers},
                info=dataset.info.model_dump(mode="json"),
            )
            session.add(record)
    except BaseException:
        shared.store.delete(key)
        raise
    return reply(as_out(record), 201, {"Location": f"/v1/datasets/{dataset_id}"})


@blueprint.get("", responses={200: DatasetPage})
def list_datasets(query: PageQuery) -> Response:
    """The tenant's datasets, newest first."""
    owner = tenant()
    with services().db.session() as session:
        total = session.scalar(
            select(func.count()).select_from(DatasetRecord).where(DatasetRecord.tenant_id == owner)
        )
        records = session.scalars(
            select(DatasetRecord)
            .where(DatasetRecord.tenant_id == owner)
            .order_by(DatasetRecord.created.desc(), DatasetRecord.id)
            .offset((query.page - 1) * query.per_page)
            .limit(query.per_page)
        ).all()
    page = DatasetPage(
        items=[as_out(r) for r in records],
        total=int(total or 0),
        page=query.page,
        per_page=query.per_page,
    )
    return reply(page)


@blueprint.get("/<dataset_id>", responses={200: DatasetOut})
def get_dataset(path: DatasetPath) -> Response:
    """One dataset's description."""
    return reply(as_out(services().dataset_record(tenant(), path.dataset_id)))


@blueprint.delete("/<dataset_id>", responses={204: None, 409: Problem})
def delete_dataset(path: DatasetPath) -> Response:
    """Delete a dataset and its file (runs made from it keep their results).

    Refused (409 ``dataset.in_use``, naming them) while a queued or running run needs it, as
    training data or as ``test_dataset_id``, or a source is being built from it: they would
    fail later, a run after spending its budget. Runs whose workers all died are resumed
    first (they still need it) or, out of resumes, failed (``run.worker_lost``) and hold
    nothing. The check and the delete hold the tenant's lock
    (:func:`api.db.lock_tenant`), as starting a run and registering a source do, so neither
    can slip in between.
    """
    shared, owner = services(), tenant()
    record = shared.dataset_record(owner, path.dataset_id)
    recover_stale_runs(shared)
    fail_stale_builds(shared)
    with shared.db.locked(owner) as session:
        runs = session.scalars(
            select(RunRecord.id)
            .where(
                RunRecord.tenant_id == owner,
                RunRecord.state.in_(ACTIVE_STATES),
                or_(RunRecord.dataset_id == record.id, RunRecord.test_dataset_id == record.id),
            )
            .order_by(RunRecord.created, RunRecord.id)
        ).all()
        sources = session.scalars(
            select(SourceRecord.name)
            .where(
                SourceRecord.tenant_id == owner,
                SourceRecord.state == "building",
                SourceRecord.dataset_id == record.id,
            )
            .order_by(SourceRecord.name)
        ).all()
        if runs or sources:
            users = [f"run {r}" for r in runs] + [f"source {s!r} (building)" for s in sources]
            raise ConflictError(
                f"Dataset {record.id} is in use by {', '.join(users)}; cancel the runs or "
                "wait for them to finish (and the sources to be built), then delete it.",
                code=IN_USE,
                runs=list(runs),
                sources=list(sources),
            )
        found = session.get(DatasetRecord, record.id)
        if found is not None:
            session.delete(found)
    shared.store.delete(record.artifact)
    return Response(status=204)


@blueprint.get("/<dataset_id>/meta-features", responses={200: MetaFeaturesOut})
def meta_features(path: DatasetPath, query: SourceQuery) -> Response:
    """Every meta-feature of the dataset against a source (null where undefined)."""
    shared = services()
    owner = tenant()
    record = shared.dataset_record(owner, path.dataset_id)
    source = shared.source(owner, query.source)
    start = time.perf_counter()
    dataset = shared.load(record)
    values = Advisor(source=source).meta_features(
        dataset.X, dataset.y, categorical=dataset.categorical_mask
    )
    clean = {k: (None if not math.isfinite(float(v)) else float(v)) for k, v in values.items()}
    out = MetaFeaturesOut(
        dataset_id=record.id,
        source=query.source,
        values=clean,
        seconds=time.perf_counter() - start,
    )
    return reply(out)
