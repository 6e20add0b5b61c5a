"""The queue's jobs: a tuned run, and building a tenant's source.

A job takes an id, reads what to do from the database, and writes its state back there as it
goes — queued → running → succeeded | failed | cancelled — so any API process can answer for
it, and a restarted API finds every result. While a run works, a heartbeat thread stamps it
every few seconds; a run whose heartbeat stops (its worker was killed) is failed with
``run.worker_lost`` by :func:`fail_stale_runs`, never left "running".
"""

from __future__ import annotations

import datetime
import logging
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import optuna
from sqlalchemy import select, update

from advisor import Advisor
from advisor.errors import AdvisorError, define_code
from advisor.wire import FINAL_STATES, Problem, RunResultOut
from api.db import Database, RunRecord, SourceRecord, utcnow
from learners import build_source, save_source

if TYPE_CHECKING:
    from api.services import Services

log = logging.getLogger("advisor.jobs")

RUN_FAILED = define_code("run.failed", "The run stopped on an unexpected error (see detail).")
WORKER_LOST = define_code(
    "run.worker_lost", "The worker running this run stopped (killed or restarted) mid-run."
)
REPORT_FORMATS = ("html", "md", "json")


def run_key(tenant: str, run_id: str, name: str) -> str:
    """Artifact key of a run's file (``model``, ``report.html``…)."""
    return f"runs/{tenant}/{run_id}/{name}"


class Heartbeat:
    """Stamps ``runs.heartbeat`` every ``seconds`` from a thread while a run works."""

    def __init__(self, db: Database, run_id: str, seconds: float) -> None:
        self.db, self.run_id, self.seconds = db, run_id, seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True, name="run-heartbeat")

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
                        update(RunRecord)
                        .where(RunRecord.id == self.run_id)
                        .values(heartbeat=utcnow())
                    )
            except Exception:  # the database may be briefly away; the next beat retries
                log.warning("heartbeat of run %s failed", self.run_id, exc_info=True)


class Progress:
    """Optuna callback: records trials done and the best score; stops a cancelled run."""

    def __init__(self, db: Database, run_id: str, total: int | None) -> None:
        self.db, self.run_id, self.total = db, run_id, total
        self.start = time.perf_counter()

    def __call__(self, study: optuna.Study, _trial: optuna.trial.FrozenTrial) -> None:
        """Record the study's progress after a trial; stop it if the run was cancelled."""
        done = [t for t in study.trials if t.state.is_finished()]
        complete = [t for t in done if t.state == optuna.trial.TrialState.COMPLETE]
        best = max((float(t.value) for t in complete if t.value is not None), default=None)
        with self.db.session() as session:
            run = session.get(RunRecord, self.run_id)
            if run is None:
                study.stop()
                return
            run.progress = {
                "trials_done": len(done),
                "trials_total": self.total,
                "best_score": best,
                "elapsed": time.perf_counter() - self.start,
            }
            run.heartbeat = utcnow()
            if run.cancel_requested:
                study.stop()


def _finish(db: Database, run_id: str, **values: Any) -> None:
    with db.session() as session:
        session.execute(
            update(RunRecord)
            .where(RunRecord.id == run_id)
            .values(finished=utcnow(), heartbeat=utcnow(), **values)
        )


def _claim(db: Database, run_id: str) -> RunRecord | None:
    """Move a queued run to running; None if it is gone, cancelled or taken."""
    with db.session() as session:
        claimed = session.execute(
            update(RunRecord)
            .where(RunRecord.id == run_id, RunRecord.state == "queued")
            .values(state="running", started=utcnow(), heartbeat=utcnow())
        )
        if getattr(claimed, "rowcount", 0) != 1:
            return None
        return session.get(RunRecord, run_id)


def execute_run(services: Services, run_id: str) -> None:
    """Run the tuned study of run ``run_id`` and store its model, reports and result."""
    run = _claim(services.db, run_id)
    if run is None:
        log.info("run %s is not queued any more; skipped", run_id)
        return
    try:
        with Heartbeat(services.db, run_id, max(1.0, services.settings.run_heartbeat_seconds / 4)):
            result = _tuned_run(services, run)
        with services.db.session() as session:
            cancelled = bool(session.get(RunRecord, run_id).cancel_requested)  # type: ignore[union-attr]
        _finish(
            services.db,
            run_id,
            state="cancelled" if cancelled else "succeeded",
            result=result.model_dump(mode="json"),
        )
    except AdvisorError as error:
        problem = Problem(
            title="Run failed", status=error.status, detail=error.message, code=error.code
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


def _tuned_run(services: Services, run: RunRecord) -> RunResultOut:
    train = services.load(services.dataset_record(run.tenant_id, run.dataset_id))
    test = (
        services.load(services.dataset_record(run.tenant_id, run.test_dataset_id))
        if run.test_dataset_id
        else None
    )
    advisor = Advisor(source=services.source(run.tenant_id, run.source), random_state=run.seed)
    outcome = advisor.run(
        train.X,
        train.y,
        family=run.family,
        n_trials=run.n_trials,
        timeout=run.timeout,
        X_test=None if test is None else test.X,
        y_test=None if test is None else test.y,
        storage=services.settings.study_storage,
        callbacks=[Progress(services.db, run.id, run.n_trials)],
        run_id=run.id,
        study_name=f"run-{run.id}",
    )
    folder = outcome.model_path
    services.store.put_folder(run_key(run.tenant_id, run.id, "model"), Path(folder))
    with tempfile.TemporaryDirectory() as scratch:
        for fmt in REPORT_FORMATS:
            path = advisor.report(outcome, Path(scratch) / f"report.{fmt}", format=fmt)
            services.store.put(run_key(run.tenant_id, run.id, f"report.{fmt}"), path.read_bytes())
    shutil.rmtree(Path(folder).parent, ignore_errors=True)  # kept in the artifact store now
    return RunResultOut(
        family=outcome.family,
        variant=outcome.variant,
        best_params=outcome.best_params,
        cv_score=outcome.cv_score,
        test_score=outcome.test_score,
        labels=outcome.labels,
        seconds=outcome.seconds,
        recommendation=outcome.recommendation,
    )


def fail_stale_runs(db: Database, older_than: float) -> int:
    """Fail every running run whose heartbeat is older than ``older_than`` seconds."""
    limit = utcnow() - datetime.timedelta(seconds=older_than)
    problem = Problem(
        title="Run failed",
        status=500,
        detail="Its worker stopped before the run finished (killed or restarted).",
        code=WORKER_LOST,
    ).model_dump(mode="json")
    with db.session() as session:
        stale = session.scalars(select(RunRecord).where(RunRecord.state == "running")).all()
        count = 0
        for run in stale:
            beat = run.heartbeat or run.started or run.created
            if beat.tzinfo is None:
                beat = beat.replace(tzinfo=datetime.UTC)
            if beat < limit:
                run.state, run.error, run.finished = "failed", problem, utcnow()
                count += 1
        return count


def cancel_queued(db: Database, run_id: str) -> None:
    """Mark a run cancelled: at once if queued, after its running trial otherwise."""
    with db.session() as session:
        run = session.get(RunRecord, run_id)
        if run is None or run.state in FINAL_STATES:
            return
        run.cancel_requested = True
        if run.state == "queued":
            run.state, run.finished = "cancelled", utcnow()


def execute_source(services: Services, source_id: str) -> None:
    """Pretrain and meta-train a tenant's source on its dataset, then store it."""
    with services.db.session() as session:
        record = session.get(SourceRecord, source_id)
        if record is None or record.state != "building":
            return
        tenant, name, dataset_id = record.tenant_id, record.name, record.dataset_id
        settings = dict(record.settings)
    try:
        dataset = services.load(services.dataset_record(tenant, dataset_id))
        source = build_source(dataset, name=name, **settings)
        source.info["dataset"] = dataset.info.model_dump(mode="json", include={"name", "sha256"})
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

    def run_job(run_id: str) -> None:
        execute_run(services, run_id)

    def source_job(source_id: str) -> None:
        execute_source(services, source_id)

    services.tasks["run"] = services.queue.task(name="advisor.run")(run_job)
    services.tasks["source"] = services.queue.task(name="advisor.source")(source_job)
