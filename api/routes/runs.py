"""``/v1/runs``: tuned runs as jobs — start (202), watch, cancel, result, report, predict."""

from __future__ import annotations

import contextlib
import shutil
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

import numpy as np
import optuna
import pandas as pd
from flask import Response, request
from flask_openapi3.models.file import FileStorage
from pydantic import BaseModel, Field
from sqlalchemy import delete, func, select

from advisor import errors
from advisor.comparison import compare_predictions, reading_warnings, unlabeled
from advisor.core import RUN_SOURCE_MISMATCH, source_mismatch
from advisor.datasets import DatasetInfo, TabularEncoder
from advisor.datasets.encoder import ENCODER_FILE
from advisor.datasets.rows import table_rows
from advisor.errors import (
    BAD_INSTANCES,
    AdvisorError,
    DatasetError,
    InvalidInputError,
    NotFoundError,
    define_code,
)
from advisor.prediction import Classified, as_rows, classify, predict_rows
from advisor.wire import (
    ACTIVE_STATES,
    FINAL_STATES,
    ComparisonOut,
    Predictions,
    PredictRequest,
    Problem,
    RunCreate,
    RunMetric,
    RunOut,
    RunPage,
    RunProgress,
    RunResultOut,
)
from api.db import DatasetRecord, RunRecord, new_id
from api.jobs import cancel_queued, run_key, run_prefix, run_study_name
from api.problems import UNAVAILABLE_ERRORS
from api.recovery import recover_stale_runs
from api.routes.common import PageQuery, reply, services, tenant, v1_blueprint
from api.routes.recommendations import MEDIA_TYPES, REPORT_ANSWER, ReportQuery
from api.services import DATASET_UNKNOWN
from learners import Learner

blueprint = v1_blueprint("runs", "runs", "Tuned runs: Optuna studies run as jobs.")

RUN_UNKNOWN = define_code("run.unknown", "No run with that id belongs to this tenant.")
RUN_NOT_DONE = define_code(
    "run.not_succeeded", "The run has not succeeded (yet): no result, report or model."
)
BAD_BUDGET = define_code("run.bad_budget", "The trial or time budget is missing or over the limit.")
RUN_ACTIVE = define_code(
    "run.active",
    "The run is queued or running: cancel it, and delete it once it has stopped.",
)
TOO_MANY_RUNS = define_code(
    "run.too_many", "The tenant has as many queued or running runs as allowed."
)


class TooManyRunsError(AdvisorError):
    """The tenant's concurrent-run limit is reached (HTTP 429)."""

    status = 429


class RunPath(BaseModel):
    """A run id in the path."""

    run_id: str = Field(max_length=32, pattern=r"^[a-f0-9]{1,32}$")


class CompareForm(BaseModel):
    """Labeled rows (an uploaded file) to compare the run with another run on."""

    file: FileStorage
    other: str = Field(
        max_length=32, pattern=r"^[a-f0-9]{1,32}$", description="The run to compare with."
    )
    label: str | None = Field(None, max_length=500, description="The file's label column.")
    metric: RunMetric | None = Field(None, description="Default: this run's metric.")


class PredictFile(BaseModel):
    """Rows to predict as an uploaded file (any data-layer format; a label column optional)."""

    file: FileStorage
    label: str | None = Field(None, max_length=500)


def as_out(run: RunRecord) -> RunOut:
    """The wire form of a run."""
    return RunOut(
        id=run.id,
        state=run.state,
        dataset_id=run.dataset_id,
        source=run.source,
        family=run.family,
        n_trials=run.n_trials,
        timeout=run.timeout,
        metric=cast("RunMetric", run.metric),
        learning_curve=run.learning_curve,
        recalibrate=run.recalibrate,
        created=run.created,
        started=run.started,
        finished=run.finished,
        progress=RunProgress.model_validate(run.progress or {}),
        resumes=run.resumes or 0,
        result=None if run.result is None else RunResultOut.model_validate(run.result),
        error=None if run.error is None else Problem.model_validate(run.error),
    )


def _run(owner: str, run_id: str) -> RunRecord:
    shared = services()
    recover_stale_runs(shared)
    with shared.db.session() as session:
        run = session.get(RunRecord, run_id)
    if run is None or run.tenant_id != owner:
        raise NotFoundError(f"No run {run_id!r}.", code=RUN_UNKNOWN)
    return run


def _succeeded(owner: str, run_id: str) -> RunRecord:
    run = _run(owner, run_id)
    if run.state != "succeeded":
        raise NotReadyError(f"Run {run_id} is {run.state}, not succeeded.", code=RUN_NOT_DONE)
    return run


class NotReadyError(AdvisorError):
    """The run is not in the state the request needs (HTTP 409)."""

    status = 409


def _check_budget(body: RunCreate) -> None:
    limits = services().settings
    if body.n_trials is None and body.timeout is None:
        raise InvalidInputError("Give n_trials, timeout, or both.", code=BAD_BUDGET)
    if body.n_trials is not None and body.n_trials > limits.max_trials:
        raise InvalidInputError(f"n_trials is over {limits.max_trials}.", code=BAD_BUDGET)
    if body.timeout is not None and body.timeout > limits.max_run_seconds:
        raise InvalidInputError(f"timeout is over {limits.max_run_seconds} s.", code=BAD_BUDGET)


@blueprint.post("", responses={202: RunOut})
def start_run(body: RunCreate) -> Response:
    """Queue a tuned run; answers 202 with its ``Location`` at once.

    The tenant's limit on queued and running runs holds however many requests come at once:
    counting and inserting hold the tenant's lock (:func:`api.db.lock_tenant`), so the next
    request counts what this one inserted (429 ``run.too_many`` past the limit). Under the
    lock the datasets are looked at again: a dataset deleted after the first look is
    ``dataset.unknown``, and one a queued run needs cannot be deleted (``dataset.in_use``).
    """
    shared, owner = services(), tenant()
    _check_budget(body)
    record = shared.dataset_record(owner, body.dataset_id)
    _check_trains(record)
    if body.test_dataset_id:
        shared.dataset_record(owner, body.test_dataset_id)
    if body.family != "scratch":
        source = shared.source(owner, body.source)
        if body.family is not None:  # asked for, not recommended: can it run at all?
            shape = DatasetInfo.model_validate(record.info).input_shape
            if (mismatch := source_mismatch(source, np.empty((0, *shape)))) is not None:
                raise InvalidInputError(
                    f"{body.family} cannot run: {mismatch}", code=RUN_SOURCE_MISMATCH
                )
    recover_stale_runs(shared)
    with shared.db.locked(owner) as session:
        for needed in filter(None, (body.dataset_id, body.test_dataset_id)):
            if session.get(DatasetRecord, needed) is None:  # deleted since the first look
                raise NotFoundError(f"No dataset {needed!r}.", code=DATASET_UNKNOWN)
        active = session.scalar(
            select(func.count())
            .select_from(RunRecord)
            .where(RunRecord.tenant_id == owner, RunRecord.state.in_(ACTIVE_STATES))
        )
        if int(active or 0) >= shared.settings.max_concurrent_runs:
            raise TooManyRunsError(
                f"{active} runs are queued or running; the limit is "
                f"{shared.settings.max_concurrent_runs}.",
                code=TOO_MANY_RUNS,
            )
        run = RunRecord(
            id=new_id(),
            tenant_id=owner,
            dataset_id=body.dataset_id,
            test_dataset_id=body.test_dataset_id,
            source=body.source,
            family=body.family,
            n_trials=body.n_trials,
            timeout=body.timeout,
            seed=body.seed,
            metric=body.metric,
            learning_curve=body.learning_curve,
            recalibrate=body.recalibrate,
            progress={"trials_total": body.n_trials},
            parts=min(shared.settings.run_parallelism, body.n_trials or 10**6),
        )
        session.add(run)
    try:
        for part in range(run.parts):  # one task per part, all on the run's shared study
            shared.tasks["run"](run.id, part)
    except UNAVAILABLE_ERRORS:
        _queue_down(run.id)
        raise
    return reply(as_out(_run(owner, run.id)), 202, {"Location": f"/v1/runs/{run.id}"})


def _check_trains(record: DatasetRecord) -> None:
    """Refuse at once a dataset uploaded to score whose labels cannot train a classifier."""
    if record.options.get("purpose") != "score":
        return  # validated as training data when it was uploaded
    info = DatasetInfo.model_validate(record.info)
    if info.n_classes < 2 or info.shots.min < 2:
        raise DatasetError(
            f"Dataset {record.id} was uploaded to score (purpose=score) and cannot train: "
            f"{info.n_classes} class(es), the smallest with {info.shots.min} example(s); a "
            "classifier needs 2 classes of 2 examples or more. Use it as test_dataset_id.",
            code=errors.SINGLE_CLASS if info.n_classes < 2 else errors.CLASS_TOO_SMALL,
        )


def _queue_down(run_id: str) -> None:
    """Remove a run that could not be queued.

    Nothing was done, and the 503 says "send it again" (the client retries it), which must not
    leave a failed run behind each time.
    """
    with services().db.session() as session:
        session.execute(delete(RunRecord).where(RunRecord.id == run_id))


@blueprint.get("", responses={200: RunPage})
def list_runs(query: PageQuery) -> Response:
    """The tenant's runs, newest first."""
    shared, owner = services(), tenant()
    recover_stale_runs(shared)
    with shared.db.session() as session:
        total = session.scalar(
            select(func.count()).select_from(RunRecord).where(RunRecord.tenant_id == owner)
        )
        runs = session.scalars(
            select(RunRecord)
            .where(RunRecord.tenant_id == owner)
            .order_by(RunRecord.created.desc(), RunRecord.id)
            .offset((query.page - 1) * query.per_page)
            .limit(query.per_page)
        ).all()
    page = RunPage(
        items=[as_out(r) for r in runs],
        total=int(total or 0),
        page=query.page,
        per_page=query.per_page,
    )
    return reply(page)


@blueprint.get("/<run_id>", responses={200: RunOut})
def get_run(path: RunPath) -> Response:
    """A run's state and progress (and its result or error once final)."""
    return reply(as_out(_run(tenant(), path.run_id)))


@blueprint.post("/<run_id>/cancel", responses={202: RunOut})
def cancel_run(path: RunPath) -> Response:
    """Cancel a run: at once if queued, after the running trial if running."""
    owner = tenant()
    run = _run(owner, path.run_id)
    if run.state not in FINAL_STATES:
        cancel_queued(services().db, run.id)
    return reply(as_out(_run(owner, run.id)), 202)


@blueprint.delete("/<run_id>", responses={204: None, 409: Problem})
def delete_run(path: RunPath) -> Response:
    """Delete a finished run: its record, model, reports and Optuna study.

    A queued or running run is refused (409 ``run.active``): cancel it first, and delete it
    once it has stopped. The datasets it was made from are kept.
    """
    owner = tenant()
    shared = services()
    run = _run(owner, path.run_id)
    with shared.db.session() as session:
        found = session.get(RunRecord, run.id)
        if found is not None and found.state not in FINAL_STATES:
            raise NotReadyError(
                f"Run {run.id} is {found.state}; cancel it (POST /v1/runs/{run.id}/cancel) and "
                "delete it once it has stopped.",
                code=RUN_ACTIVE,
            )
        if found is not None:
            session.delete(found)
    shared.store.delete(run_prefix(owner, run.id))
    shutil.rmtree(shared.settings.cache_dir / "api-models" / owner / run.id, ignore_errors=True)
    _fitted.cache_clear()
    with contextlib.suppress(KeyError):  # a run that never started tuning has no study
        optuna.delete_study(study_name=run_study_name(run.id), storage=shared.study_storage())
    return Response(status=204)


@blueprint.get("/<run_id>/result", responses={200: RunResultOut, 409: Problem})
def run_result(path: RunPath) -> Response:
    """What a succeeded run found."""
    run = _succeeded(tenant(), path.run_id)
    return reply(RunResultOut.model_validate(run.result))


@blueprint.get("/<run_id>/report", responses={200: REPORT_ANSWER, 409: Problem})
def run_report(path: RunPath, query: ReportQuery) -> Response:
    """The run's report: self-contained HTML, Markdown or JSON."""
    owner = tenant()
    run = _succeeded(owner, path.run_id)
    body = services().store.get(run_key(owner, run.id, f"report.{query.format}"))
    return Response(body, mimetype=MEDIA_TYPES[query.format])


_model_lock = threading.Lock()


@dataclass(frozen=True)
class _Fitted:
    """A run's fitted model and, for a table, the training table's encoder saved beside it."""

    model: Learner
    encoder: TabularEncoder | None


@lru_cache(maxsize=8)
def _fitted(owner: str, run_id: str, source: str) -> _Fitted:
    shared = services()
    local = shared.settings.cache_dir / "api-models" / owner / run_id
    if not any(local.glob("*")):  # first use in this process's home: fetch it once
        shared.store.get_folder(run_key(owner, run_id, "model"), local)
    model_source = None if source == "" else shared.source(owner, source)
    encoder = TabularEncoder.load(local) if (local / ENCODER_FILE).is_file() else None
    return _Fitted(Learner.load(local, source=model_source), encoder)


def _answer(fitted: _Fitted) -> Predictions:
    """The answer to a predict request: a JSON body or an uploaded file.

    A table's rows are encoded the training table's way when they name its columns: a file
    (labeled or not) with those columns, or JSON records (objects keyed by column), both read
    by :func:`~advisor.datasets.rows.table_rows`. Arrays of numbers are taken as already
    encoded, one value per encoded column. A file — a table, an
    NPZ archive, or images — is read by :func:`~advisor.datasets.rows.load_rows`, and its
    answer names its rows (``ids``) and, when it carries labels, scores them.
    """
    if request.files:
        form = PredictFile(file=request.files["file"], label=request.form.get("label"))
        name = form.file.filename or "rows"
        return classify(
            fitted.model, form.file.read(), encoder=fitted.encoder, name=name, label=form.label
        ).answer()
    body = PredictRequest.model_validate(request.get_json(force=True, silent=False))
    if not all(isinstance(row, dict) for row in body.instances):
        return predict_rows(fitted.model, as_rows(body.instances))
    if fitted.encoder is None:
        raise InvalidInputError(
            "Rows keyed by column name need a model trained on a table; send arrays.",
            code=BAD_INSTANCES,
        )
    # Read as a file's table is: the same checks (the training columns, or already-encoded
    # numbers), the same warnings (unseen categories, filled gaps, ignored columns), the ids.
    rows = table_rows(pd.DataFrame.from_records(body.instances), fitted.encoder)
    return Classified(rows, predict_rows(fitted.model, rows.X)).answer()


def _fitted_run(owner: str, run_id: str) -> tuple[RunRecord, _Fitted]:
    """A succeeded run and its fitted model (fetched once per process)."""
    run = _succeeded(owner, run_id)
    result: dict[str, Any] = dict(run.result or {})
    source = "" if result.get("family") == "scratch" else run.source
    with _model_lock:
        return run, _fitted(owner, run.id, source)


@blueprint.post("/<run_id>/compare", responses={200: ComparisonOut, 409: Problem})
def compare_runs(path: RunPath, form: CompareForm) -> Response:
    """Score this run and ``other`` on the same labeled rows, with a paired test.

    Each run's model reads the file its own way (a table with its own encoder). McNemar's
    exact test for accuracy, its weighted (sign-flip) form for balanced accuracy.
    """
    owner = tenant()
    content, name = form.file.read(), form.file.filename or "rows"
    answers = []
    for run_id in (path.run_id, form.other):
        run, fitted = _fitted_run(owner, run_id)
        classified = classify(
            fitted.model, content, encoder=fitted.encoder, name=name, label=form.label
        )
        if classified.rows.y is None:
            raise unlabeled(name)
        answers.append((run, classified))
    (first, a), (_, b) = answers
    metric = form.metric or cast("RunMetric", first.metric)
    found = compare_predictions(a.rows.y, a.predictions.labels, b.predictions.labels, metric)
    found = found.model_copy(
        update={"warnings": reading_warnings(a.rows.warnings, b.rows.warnings)}
    )
    return reply(
        ComparisonOut(run_a=path.run_id, run_b=form.other, **found.model_dump(exclude={"verdict"}))
    )


@blueprint.post("/<run_id>/predict", responses={200: Predictions, 409: Problem})
def predict(path: RunPath) -> Response:
    """Classify rows with the run's fitted model: JSON ``{"instances": [...]}`` or a file.

    For a model trained on a table, rows that name the table's columns — a file with them, or
    JSON records (``[{"age": 31, "city": "Lyon"}, ...]``) — are encoded the training table's
    way; arrays of numbers are taken as already encoded.
    """
    _, fitted = _fitted_run(tenant(), path.run_id)
    return reply(_answer(fitted))
