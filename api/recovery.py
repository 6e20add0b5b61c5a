"""Lost runs: those whose workers all stopped, and queued ones whose task left the queue.

Every part of a running run stamps ``runs.heartbeat``; when it has been silent for
``ADVISOR_RUN_HEARTBEAT_SECONDS`` no worker is on the run any more (killed, its machine lost,
the embedded server restarted). Its study is in the database, trials and all, so nothing done
is lost: :func:`recover_stale_runs` queues the run again, up to ``ADVISOR_RUN_MAX_RESUMES``
times, and the new tasks pick it up where it stood — the trials still owed, or straight to
the refit when the budget was spent (a worker lost while refitting). Past the last resume, or
for a run whose cancel was asked, it ends: failed with ``run.worker_lost``, or cancelled.

The decision is an optimistic update on the heartbeat and resume count the check read, so two
processes looking at once (two API processes, an API and a worker's housekeeper) resume a run
once, and a worker that beats in between keeps its run.

A queued run or waiting source build lives in the queue as its tasks; one whose tasks were lost
there (Redis restarted without persistence) is enqueued again by :func:`requeue_lost_tasks`. A
source build whose worker stopped is failed by :func:`fail_stale_builds` (no resume: it has no
study to go on from).
"""

from __future__ import annotations

import datetime
import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from advisor.wire import Problem
from api.db import RunRecord, SourceRecord, utcnow
from api.jobs import WORKER_LOST

if TYPE_CHECKING:
    from api.services import Services

log = logging.getLogger("advisor.recovery")


@dataclass
class Recovery:
    """What one check did: the runs queued again, failed, and cancelled."""

    resumed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)


def worker_lost(detail: str) -> dict[str, object]:
    """The ``run.worker_lost`` problem stored on a run that is given up."""
    return Problem(title="Run failed", status=500, detail=detail, code=WORKER_LOST).model_dump(
        mode="json"
    )


def _cutoff(services: Services, older_than: float | None) -> datetime.datetime:
    """The moment before which a job's last sign of life makes it lost."""
    seconds = services.settings.run_heartbeat_seconds if older_than is None else older_than
    return utcnow() - datetime.timedelta(seconds=seconds)


def recover_stale_runs(services: Services, older_than: float | None = None) -> Recovery:
    """Resume or end every running run whose heartbeat is older than ``older_than`` seconds.

    ``older_than`` defaults to ``ADVISOR_RUN_HEARTBEAT_SECONDS``. A stale run with resumes
    left (``ADVISOR_RUN_MAX_RESUMES``) is set back to ``queued`` (its ``started`` kept, so a
    time budget still counts from the first start) and its parts are enqueued again; one whose
    cancel was asked is cancelled; any other is failed with ``run.worker_lost``.
    """
    settings = services.settings
    limit = _cutoff(services, older_than)
    with services.db.session() as session:
        running = session.execute(
            select(
                RunRecord.id,
                RunRecord.heartbeat,
                RunRecord.started,
                RunRecord.created,
                RunRecord.resumes,
                RunRecord.parts,
                RunRecord.cancel_requested,
            ).where(RunRecord.state == "running")
        ).all()
    outcome = Recovery()
    for run_id, beat, started, created, resumes, parts, cancelled in running:
        if (beat or started or created) >= limit:
            continue
        if cancelled:
            values: dict[str, object] = {"state": "cancelled", "finished": utcnow()}
            bucket = outcome.cancelled
        elif resumes < settings.run_max_resumes:
            values = {"state": "queued", "resumes": resumes + 1, "finalizing": False}
            bucket = outcome.resumed
        else:
            detail = "Its worker stopped before the run finished (killed or restarted)"
            if settings.run_max_resumes:
                detail += f", and it had been resumed {resumes} time(s) already"
            values = {"state": "failed", "finished": utcnow(), "error": worker_lost(detail + ".")}
            bucket = outcome.failed
        with services.db.session() as session:
            won = session.execute(
                update(RunRecord)
                .where(
                    RunRecord.id == run_id,
                    RunRecord.state == "running",
                    RunRecord.resumes == resumes,
                    RunRecord.heartbeat.is_(None) if beat is None else RunRecord.heartbeat == beat,
                )
                .values(**values)
            )
        if getattr(won, "rowcount", 0) != 1:
            continue  # a worker beat, or another process decided first
        bucket.append(run_id)
        if bucket is outcome.resumed:
            _enqueue_again(services, run_id, parts)
    return outcome


def fail_stale_builds(services: Services, older_than: float | None = None) -> list[str]:
    """Fail every source build whose heartbeat has been silent ``older_than`` seconds.

    A build is not resumed: it has no study to go on from, and one that kills its worker (out
    of memory) would do it again. Failed, its name can be deleted and registered again.
    """
    limit = _cutoff(services, older_than)
    with services.db.session() as session:
        stale = session.execute(
            select(SourceRecord.id, SourceRecord.heartbeat).where(
                SourceRecord.state == "building",
                SourceRecord.heartbeat.is_not(None),
                SourceRecord.heartbeat < limit,
            )
        ).all()
    failed = []
    for source_id, beat in stale:
        with services.db.session() as session:
            won = session.execute(
                update(SourceRecord)
                .where(
                    SourceRecord.id == source_id,
                    SourceRecord.state == "building",
                    SourceRecord.heartbeat == beat,
                )
                .values(
                    state="failed",
                    error=f"[{WORKER_LOST}] Its worker stopped mid-build (killed or "
                    "restarted); delete the source and register it again.",
                )
            )
        if getattr(won, "rowcount", 0) == 1:
            failed.append(source_id)
    return failed


def requeue_lost_tasks(services: Services, older_than: float | None = None) -> list[str]:
    """Enqueue again every job waiting ``older_than`` seconds whose task is gone; their ids.

    The jobs are runs ``queued`` and source builds no worker has taken. A job lives in the
    queue only until a worker takes it; one lost there — Redis restarted without persistence
    or flushed, a worker killed between taking a task and claiming its
    job — left the run ``queued`` (holding one of its tenant's concurrent-run slots), or the
    source ``building``, for ever. Such a job gets its task again. (A task taken by a worker
    a moment before the look and not yet claimed is enqueued twice: the second finds the job
    started and stops, or joins a run as one more part of its shared study, under its budget.)
    """
    limit = _cutoff(services, older_than)
    pending = {task.args[0] for task in services.queue.pending() if task.args}
    with services.db.session() as session:
        queued = session.execute(
            select(RunRecord.id, RunRecord.parts).where(
                RunRecord.state == "queued", RunRecord.created < limit
            )
        ).all()
        waiting = session.scalars(
            select(SourceRecord.id).where(
                SourceRecord.state == "building",
                SourceRecord.heartbeat.is_(None),
                SourceRecord.created < limit,
            )
        ).all()
    lost = [(run_id, parts) for run_id, parts in queued if run_id not in pending]
    for run_id, parts in lost:
        _enqueue_again(services, run_id, parts, why="its task was lost from the queue")
    builds = [source_id for source_id in waiting if source_id not in pending]
    for source_id in builds:
        log.warning("source %s: its task was lost from the queue; queued again", source_id)
        services.tasks["source"](source_id)
    return [run_id for run_id, _parts in lost] + builds


def _enqueue_again(
    services: Services, run_id: str, parts: int, why: str = "it lost its workers"
) -> None:
    log.warning("run %s: %s; queued again on its study", run_id, why)
    try:
        for part in range(parts):
            services.tasks["run"](run_id, part)
    except Exception:  # the queue is down: the run cannot resume, and must not wait forever
        log.exception("run %s could not be queued again", run_id)
        with services.db.session() as session:
            session.execute(
                update(RunRecord)
                .where(RunRecord.id == run_id, RunRecord.state == "queued")
                .values(
                    state="failed",
                    finished=utcnow(),
                    error=worker_lost(f"The queue could not take it again ({why})."),
                )
            )


class Housekeeper:
    """A daemon thread of ``serve`` and ``worker`` that looks for lost runs every ``seconds``.

    It resumes runs whose workers all stopped (:func:`recover_stale_runs`), fails source builds
    whose worker stopped (:func:`fail_stale_builds`) and requeues jobs whose task was lost
    (:func:`requeue_lost_tasks`). The API also looks for stale runs
    whenever runs are read; the housekeeper resumes a lost run when nobody asks about it.
    Reading the whole queue is left to it alone.
    """

    def __init__(self, services: Services, seconds: float) -> None:
        self.services, self.seconds = services, seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="run-housekeeper")

    def start(self) -> Housekeeper:
        """Check once now, then every ``seconds``."""
        self._thread.start()
        return self

    def stop(self, timeout: float | None = None) -> None:
        """Stop the thread."""
        self._stop.set()
        self._thread.join(timeout)

    def _loop(self) -> None:
        while True:
            try:
                recover_stale_runs(self.services)
                fail_stale_builds(self.services)
                requeue_lost_tasks(self.services)
            except Exception:  # the database or queue may be briefly away: the next round
                log.warning("checking for lost runs failed", exc_info=True)
            if self._stop.wait(self.seconds):
                return
