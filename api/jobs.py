"""The queue's jobs: a tuned run, and building a tenant's source.

A job takes an id, reads what to do from the database, and writes its state back there as it
goes — queued → running → succeeded | failed | cancelled — so any API process can answer for
it, and a restarted API finds every result. While a run works, a heartbeat thread stamps it
every few seconds; a run whose heartbeat stops (its workers were killed) is queued again on
its study, or failed with ``run.worker_lost`` once out of resumes, by
:func:`api.recovery.recover_stale_runs` — never left "running".
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import os
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import optuna
from sqlalchemy import update

from advisor import Advisor
from advisor.errors import AdvisorError, define_code
from advisor.inputs import check_test_data
from advisor.wire import FINAL_STATES, Problem, RunResultOut, plain_facts
from api.db import Database, RunRecord, SourceRecord, utcnow
from learners import build_source, save_source
from learners.tuning import Metric, best_of, example_weights

if TYPE_CHECKING:
    from api.services import Services

log = logging.getLogger("advisor.jobs")

RUN_FAILED = define_code("run.failed", "The run stopped on an unexpected error (see detail).")
WORKER_LOST = define_code(
    "run.worker_lost", "The worker running this run stopped (killed or restarted) mid-run."
)
REPORT_FORMATS = ("html", "md", "json")


def seconds_since(moment: datetime.datetime | None) -> float:
    """Seconds from ``moment`` (a run's timestamp, read back UTC-aware) to now; 0 if unset."""
    return 0.0 if moment is None else (utcnow() - moment).total_seconds()


def run_study_name(run_id: str) -> str:
    """The name of a run's Optuna study in the shared study storage (one study per run)."""
    return f"run-{run_id}"


def run_prefix(tenant: str, run_id: str) -> str:
    """Artifact key of the folder that holds a run's files."""
    return f"runs/{tenant}/{run_id}"


def run_key(tenant: str, run_id: str, name: str) -> str:
    """Artifact key of a run's file (``model``, ``report.html``…)."""
    return f"{run_prefix(tenant, run_id)}/{name}"


class Heartbeat:
    """Stamps a job's row (``runs`` or ``sources``) every ``seconds`` while the job works."""

    def __init__(
        self,
        db: Database,
        row_id: str,
        seconds: float,
        model: type[RunRecord] | type[SourceRecord] = RunRecord,
    ) -> None:
        self.db, self.row_id, self.seconds, self.model = db, row_id, seconds, model
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True, name="job-heartbeat")

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(self.seconds):
            try:
                with self.db.session() as session:
                    session.execute(
                        update(self.model)
                        .where(self.model.id == self.row_id)
                        .values(heartbeat=utcnow())
                    )
            except Exception:  # the database may be briefly away; the next beat retries
                log.warning("heartbeat of %s failed", self.row_id, exc_info=True)


class Progress:
    """Optuna callback: trials done, best score, trials per worker; stops cancelled runs."""

    def __init__(self, db: Database, run_id: str, total: int | None, worker: str = "") -> None:
        self.db, self.run_id, self.total = db, run_id, total
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}"
        self.start = time.perf_counter()

    def __call__(self, study: optuna.Study, _trial: optuna.trial.FrozenTrial) -> None:
        """Record the study's progress after a trial; stop it if the run was cancelled."""
        done = [t for t in study.trials if t.state.is_finished()]
        complete = [t for t in done if t.state == optuna.trial.TrialState.COMPLETE]
        best = max((float(t.value) for t in complete if t.value is not None), default=None)
        with self.db.session() as session:
            run = session.get(RunRecord, self.run_id, with_for_update=True)
            if run is None:
                study.stop()
                return
            workers = dict((run.progress or {}).get("workers") or {})
            workers[self.worker] = int(workers.get(self.worker, 0)) + 1
            run.progress = {
                "trials_done": len(done),
                "trials_total": self.total,
                "best_score": best,
                "elapsed": seconds_since(run.started),
                "workers": workers,
            }
            run.heartbeat = utcnow()
            if run.cancel_requested:
                study.stop()


class RunCancelledError(Exception):
    """The run was cancelled before its best learner was refitted: nothing more is made."""


def _cancel_requested(db: Database, run_id: str) -> bool:
    with db.session() as session:
        run = session.get(RunRecord, run_id)
        return run is None or bool(run.cancel_requested)


def _finish(db: Database, run_id: str, **values: Any) -> None:
    with db.session() as session:
        session.execute(
            update(RunRecord)
            .where(RunRecord.id == run_id)
            .values(finished=utcnow(), heartbeat=utcnow(), **values)
        )


def _claim(db: Database, run_id: str) -> tuple[RunRecord | None, bool]:
    """The run to work on (None if gone, cancelled or over), and whether this part started it.

    The first part moves it queued → running (a resumed run keeps its first ``started``, so
    its time budget still counts from there); later parts of a shared run join it.
    """
    with db.session() as session:
        claimed = session.execute(
            update(RunRecord)
            .where(RunRecord.id == run_id, RunRecord.state == "queued")
            .values(state="running", heartbeat=utcnow())
        )
        first = getattr(claimed, "rowcount", 0) == 1
        if first:
            session.execute(
                update(RunRecord)
                .where(RunRecord.id == run_id, RunRecord.started.is_(None))
                .values(started=utcnow())
            )
        run = session.get(RunRecord, run_id)
        if first:
            return run, True
        if run is not None and run.state == "running" and run.parts > 1:
            return run, False
        return None, False


def _claim_finish(db: Database, run_id: str) -> bool:
    """Whether this part finishes the run (exactly one part wins)."""
    with db.session() as session:
        won = session.execute(
            update(RunRecord)
            .where(RunRecord.id == run_id, RunRecord.finalizing.is_(False))
            .values(finalizing=True)
        )
        return getattr(won, "rowcount", 0) == 1


def execute_run(services: Services, run_id: str, part: int = 0) -> None:
    """Work on run ``run_id``: tune its study, and — in exactly one part — finish it.

    A run is enqueued as ``runs.parts`` tasks on one Optuna study (the service's RDB storage);
    each worker that takes one pulls trials until the run's trial or time budget is spent
    (Optuna's ``MaxTrialsCallback`` counts every worker's trials). The first part to get
    there waits for the trials still running elsewhere, then refits the best learner, stores
    the model and reports, and marks the run succeeded; the others stop. A worker killed
    mid-trial stops beating: Optuna fails its trial (heartbeat) and retries it elsewhere; a
    run all of whose workers stopped is queued again (:mod:`api.recovery`) and continues here.
    """
    run, first = _claim(services.db, run_id)
    if run is None:
        log.info("run %s is not queued or running; part %d skipped", run_id, part)
        return
    try:
        with Heartbeat(services.db, run_id, _beat_seconds(services)):
            result = _tuned_run(services, run, part, first=first)
        if result is None:
            return  # another part finishes the run
        _finish(services.db, run_id, state="succeeded", result=result.model_dump(mode="json"))
    except RunCancelledError:
        _finish(services.db, run_id, state="cancelled")
    except AdvisorError as error:
        problem = Problem(
            title="Run failed",
            status=error.status,
            detail=error.message,
            code=error.code,
            facts=plain_facts(error.details),
        )
        _finish(services.db, run_id, state="failed", error=problem.model_dump(mode="json"))
    except Exception as error:  # the run fails visibly; the worker lives on
        log.exception("run %s failed", run_id)
        problem = Problem(
            title="Run failed",
            status=500,
            detail=f"{type(error).__name__}: {error}",
            code=RUN_FAILED,
        )
        _finish(services.db, run_id, state="failed", error=problem.model_dump(mode="json"))


def _beat_seconds(services: Services) -> float:
    """How often a working job stamps its row: four times per ``run_heartbeat_seconds``."""
    return max(1.0, services.settings.run_heartbeat_seconds / 4)


def _remaining(run: RunRecord) -> float | None:
    """Seconds left of the run's time budget, counted from when its first part started."""
    if run.timeout is None:
        return None
    return max(1.0, run.timeout - seconds_since(run.started))


# What a run's trial budget counts: trials run or running, never the enqueued ones still
# waiting (a warm start enqueued up to the budget would otherwise stop the study early).
BUDGET_STATES = (
    optuna.trial.TrialState.COMPLETE,
    optuna.trial.TrialState.PRUNED,
    optuna.trial.TrialState.FAIL,
    optuna.trial.TrialState.RUNNING,
)


def _budget_spent(study: optuna.Study, run: RunRecord) -> bool:
    if run.n_trials is None:
        return False
    return len(study.get_trials(deepcopy=False, states=BUDGET_STATES)) >= run.n_trials


def _settle(study: optuna.Study, limit: float) -> None:
    """Wait until no trial of ``study`` runs (stale ones are failed by heartbeat)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        optuna.storages.fail_stale_trials(study)
        running = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
        if not running:
            return
        time.sleep(0.5)


def _tuned_run(
    services: Services, run: RunRecord, part: int, *, first: bool
) -> RunResultOut | None:
    train = services.load(services.dataset_record(run.tenant_id, run.dataset_id))
    advisor = Advisor(source=services.source(run.tenant_id, run.source), random_state=run.seed)
    # Read and checked before any trial: a test set that does not fit the training data (a
    # table lacking a training column, images against a table) fails the run at once, not
    # after its budget is spent.
    test = (  # a test table is encoded the training table's way
        services.load(
            services.dataset_record(run.tenant_id, run.test_dataset_id),
            encoder=train.encoder,
            purpose="score",
        )
        if run.test_dataset_id
        else None
    )
    if test is not None:  # images against a table, or vectors of another width
        check_test_data(train.X, test.X, test.y)
    plan = advisor.plan_run(train.X, train.y, run.family, categorical=train.categorical_mask)
    if not first:  # the part that started the run enqueues the warm start, once: parts that
        # enqueued it too could both pass Optuna's skip_if_exists and run it twice
        plan = dataclasses.replace(plan, warm_start=[])
    storage = services.study_storage()
    name = run_study_name(run.id)
    worker = f"{socket.gethostname()}:{os.getpid()}:{part}"
    callbacks: list[Any] = [Progress(services.db, run.id, run.n_trials, worker)]
    if run.n_trials is not None:
        callbacks.append(optuna.study.MaxTrialsCallback(run.n_trials, states=BUDGET_STATES))
    existing = optuna.study.get_all_study_names(storage)
    spent = name in existing and _budget_spent(
        optuna.load_study(study_name=name, storage=storage), run
    )
    if not spent:
        advisor.tune_run(
            plan,
            train.X,
            train.y,
            n_trials=run.n_trials,
            timeout=_remaining(run),
            storage=storage,
            callbacks=callbacks,
            study_name=name,
            sampler_seed=run.seed * 1000 + part,
            metric=cast("Metric", run.metric),
        )
    if not _claim_finish(services.db, run.id):
        return None
    study = optuna.load_study(study_name=name, storage=storage)
    _settle(study, limit=services.settings.run_heartbeat_seconds * 2)
    # A cancel stops the study after its running trial; past this point (the refit, the
    # reports) it comes too late, and the run finishes.
    if _cancel_requested(services.db, run.id):
        raise RunCancelledError(run.id)
    result = best_of(
        study, plan.family, weights=example_weights(train.y, cast("Metric", run.metric))
    )
    outcome = advisor.finish_run(
        plan,
        result,
        train.X,
        train.y,
        X_test=None if test is None else test.X,
        y_test=None if test is None else test.y,
        run_id=run.id,
        seconds_so_far=seconds_since(run.started),
        encoder=train.encoder,
        data_info=train.info,
        learning_curve=run.learning_curve,
        recalibrate=run.recalibrate,
    )
    folder = outcome.model_path
    services.store.put_folder(run_key(run.tenant_id, run.id, "model"), Path(folder))
    # The reports name where the model lives for the service's users: its route, not the
    # worker's scratch folder (removed below).
    outcome.model_path = Path(f"/v1/runs/{run.id}/predict")
    with tempfile.TemporaryDirectory() as scratch:
        for fmt in REPORT_FORMATS:
            path = advisor.report(outcome, Path(scratch) / f"report.{fmt}", format=fmt)
            services.store.put(run_key(run.tenant_id, run.id, f"report.{fmt}"), path.read_bytes())
    shutil.rmtree(Path(folder).parent, ignore_errors=True)  # kept in the artifact store now
    return RunResultOut(
        family=outcome.family,
        variant=outcome.variant,
        best_params=outcome.best_params,
        metric=outcome.metric,
        class_prior=outcome.model.class_prior,
        cv_score=outcome.cv_score,
        test_score=outcome.test_score,
        test_interval=outcome.test_interval,
        importance=outcome.importance,
        cv_recalls=outcome.cv_recalls,
        calibration=outcome.calibration,
        learning_curve=outcome.learning_curve,
        recalibration=outcome.recalibration,
        labels=outcome.labels,
        seconds=outcome.seconds,
        recommendation=outcome.recommendation,
        warnings=outcome.warnings,
    )


def cancel_queued(db: Database, run_id: str) -> None:
    """Mark a run cancelled: at once if queued, after its running trial otherwise."""
    with db.session() as session:
        run = session.get(RunRecord, run_id)
        if run is None or run.state in FINAL_STATES:
            return
        run.cancel_requested = True
        if run.state == "queued":
            run.state, run.finished = "cancelled", utcnow()


def _claim_source(db: Database, source_id: str) -> SourceRecord | None:
    """The source to build, stamped as taken; None if it is gone, built, or taken already.

    Taken already: a task enqueued again while the first was on its way.
    """
    with db.session() as session:
        taken = session.execute(
            update(SourceRecord)
            .where(
                SourceRecord.id == source_id,
                SourceRecord.state == "building",
                SourceRecord.heartbeat.is_(None),
            )
            .values(heartbeat=utcnow())
        )
        return session.get(SourceRecord, source_id) if getattr(taken, "rowcount", 0) else None


def execute_source(services: Services, source_id: str) -> None:
    """Pretrain and meta-train a tenant's source on its dataset, then store it.

    The build stamps ``sources.heartbeat`` while it works, so a build whose worker died is
    failed (:func:`api.recovery.recover_stale_runs`) rather than left "building" for ever.
    """
    record = _claim_source(services.db, source_id)
    if record is None:
        return
    tenant, name, dataset_id = record.tenant_id, record.name, record.dataset_id
    settings = dict(record.settings)
    try:
        with Heartbeat(services.db, source_id, _beat_seconds(services), model=SourceRecord):
            dataset = services.load(services.dataset_record(tenant, dataset_id))
            source = build_source(dataset, name=name, **settings)
            source.info["dataset"] = dataset.info.model_dump(
                mode="json", include={"name", "sha256"}
            )
            with tempfile.TemporaryDirectory() as scratch:
                folder = save_source(source, Path(scratch) / name)
                services.store.put_folder(services.tenant_source_key(tenant, name), folder)
        state, error = "ready", None
    except AdvisorError as failure:
        state, error = "failed", f"[{failure.code}] {failure.message}"
    except Exception as failure:
        log.exception("source %s failed", source_id)
        state, error = "failed", f"{type(failure).__name__}: {failure}"
    with services.db.session() as session:
        record = session.get(SourceRecord, source_id)
        if record is not None:
            record.state, record.error = state, error


def register(services: Services) -> None:
    """Register the jobs on the services' queue (names are stable across processes)."""

    def run_job(run_id: str, part: int = 0) -> None:
        execute_run(services, run_id, part)

    def source_job(source_id: str) -> None:
        execute_source(services, source_id)

    services.tasks["run"] = services.queue.task(name="advisor.run")(run_job)
    services.tasks["source"] = services.queue.task(name="advisor.source")(source_job)
