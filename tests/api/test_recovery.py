"""Lost jobs (:mod:`api.recovery`): runs whose workers all stopped, resumed on their study
where they stood or ended once out of resumes; jobs whose task left the queue, enqueued again;
source builds whose worker died, failed. And the warm start, enqueued by one part only.

A worker killed with ``kill -9`` runs nothing more: here a ``SystemExit`` raised inside the job
plays it (no handler of the job catches a ``BaseException``), which leaves the run as a killed
worker does — ``running``, its study in the database, its heartbeat going stale. On SQLite and,
where it is reachable, PostgreSQL (the ``database`` fixture).
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from typing import Any

import optuna
import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from advisor import Advisor
from api.db import RunRecord, SourceRecord, utcnow
from api.jobs import Progress, execute_run, execute_source, run_study_name
from api.recovery import Housekeeper, recover_stale_runs, requeue_lost_tasks
from api.services import Services
from tests.api.test_runs_routes import services_of

Send = Callable[..., TestResponse]
LONG_AGO = datetime.timedelta(hours=1)


class WorkerKilled(BaseException):
    """What ``kill -9`` does to a job: it stops, and nothing in it runs any more."""


def lose_workers(services: Services, run_id: str, **values: Any) -> None:
    """Make ``run_id`` look as a run whose every worker stopped an hour ago."""
    beat = utcnow() - LONG_AGO
    with services.db.session() as session:
        session.execute(
            update(RunRecord)
            .where(RunRecord.id == run_id)
            .values(**{"state": "running", "heartbeat": beat, "started": beat, **values})
        )


def record(services: Services, run_id: str) -> RunRecord:
    with services.db.session() as session:
        found = session.get(RunRecord, run_id)
        assert found is not None
        return found


def finished_trials(services: Services, run_id: str) -> int:
    study = optuna.load_study(study_name=run_study_name(run_id), storage=services.study_storage())
    return sum(t.state.is_finished() for t in study.trials)


@pytest.fixture
def tenant(queued_app: Any, client_of: Any, post_file: Send, iris_csv: bytes) -> tuple:
    client: FlaskClient = client_of(queued_app, "tenant-a")
    dataset_id = post_file(client, iris_csv, "iris.csv", label="species").json["id"]
    return client, services_of(client), dataset_id


def test_a_run_lost_while_refitting_is_resumed_and_finishes_from_its_trials(
    tenant: tuple, start_run: Send, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, services, dataset_id = tenant
    run_id = start_run(client, dataset_id, n_trials=3).json["id"]

    def killed(*_args: Any, **_kwargs: Any) -> None:
        raise WorkerKilled

    with monkeypatch.context() as patch:  # the worker dies once every trial is done
        patch.setattr(Advisor, "finish_run", killed)
        with pytest.raises(WorkerKilled):
            execute_run(services, run_id)
    assert record(services, run_id).state == "running" and record(services, run_id).finalizing
    assert finished_trials(services, run_id) == 3
    started = record(services, run_id).started

    lose_workers(services, run_id, started=started)
    pending = services.queue.pending_count()
    outcome = recover_stale_runs(services)
    assert outcome.resumed == [run_id] and not outcome.failed
    run = client.get(f"/v1/runs/{run_id}").json
    assert run["state"] == "queued" and run["resumes"] == 1
    assert services.queue.pending_count() == pending + 1  # its one part, queued again

    execute_run(services, run_id)  # another worker takes it
    run = client.get(f"/v1/runs/{run_id}").json
    assert run["state"] == "succeeded", run["error"]
    assert run["resumes"] == 1 and run["result"]["cv_score"] > 0.8
    assert finished_trials(services, run_id) == 3  # its budget was spent: no trial more
    assert record(services, run_id).started == started  # the time budget's origin is kept
    assert client.get(f"/v1/runs/{run_id}/report?format=md").status_code == 200


def test_a_run_lost_mid_study_runs_only_the_trials_it_still_owes(
    tenant: tuple, start_run: Send, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, services, dataset_id = tenant
    run_id = start_run(client, dataset_id, n_trials=3).json["id"]
    recorded = Progress.__call__

    def dies_after_one(self: Progress, study: optuna.Study, trial: Any) -> None:
        recorded(self, study, trial)
        raise WorkerKilled

    with monkeypatch.context() as patch:
        patch.setattr(Progress, "__call__", dies_after_one)
        with pytest.raises(WorkerKilled):
            execute_run(services, run_id)
    assert finished_trials(services, run_id) == 1

    lose_workers(services, run_id)
    assert client.get(f"/v1/runs/{run_id}").json["state"] == "queued"  # a read resumes it
    execute_run(services, run_id)
    run = client.get(f"/v1/runs/{run_id}").json
    assert run["state"] == "succeeded", run["error"]
    assert finished_trials(services, run_id) == 3 and run["progress"]["trials_done"] == 3


def test_a_run_out_of_resumes_is_failed(tenant: tuple, start_run: Send) -> None:
    client, services, dataset_id = tenant
    run_id = start_run(client, dataset_id).json["id"]
    most = services.settings.run_max_resumes
    lose_workers(services, run_id, resumes=most)
    outcome = recover_stale_runs(services)
    assert outcome.failed == [run_id] and not outcome.resumed
    run = client.get(f"/v1/runs/{run_id}").json
    assert run["state"] == "failed" and run["finished"] is not None
    assert run["error"]["code"] == "run.worker_lost"
    assert f"resumed {most} time(s)" in run["error"]["detail"]


def test_a_lost_run_whose_cancel_was_asked_is_cancelled(tenant: tuple, start_run: Send) -> None:
    client, services, dataset_id = tenant
    run_id = start_run(client, dataset_id).json["id"]
    lose_workers(services, run_id, cancel_requested=True)
    pending = services.queue.pending_count()
    assert recover_stale_runs(services).cancelled == [run_id]
    assert client.get(f"/v1/runs/{run_id}").json["state"] == "cancelled"
    assert services.queue.pending_count() == pending


def test_live_runs_are_spared_and_a_lost_one_is_resumed_once(
    tenant: tuple, start_run: Send
) -> None:
    client, services, dataset_id = tenant
    lost, live = (start_run(client, dataset_id).json["id"] for _ in range(2))
    lose_workers(services, lost)
    with services.db.session() as session:
        session.execute(
            update(RunRecord)
            .where(RunRecord.id == live)
            .values(state="running", started=utcnow(), heartbeat=utcnow())
        )
    pending = services.queue.pending_count()
    assert recover_stale_runs(services).resumed == [lost]
    again = recover_stale_runs(services)  # a second look (another API process): nothing to do
    assert not (again.resumed or again.failed or again.cancelled)
    assert services.queue.pending_count() == pending + 1
    assert client.get(f"/v1/runs/{live}").json["state"] == "running"
    assert record(services, lost).resumes == 1


def test_a_worker_that_beats_after_the_look_keeps_its_run(
    tenant: tuple, start_run: Send, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The decision is taken on the heartbeat the check read: a beat in between wins."""
    client, services, dataset_id = tenant
    run_id = start_run(client, dataset_id).json["id"]
    lose_workers(services, run_id)
    real_session = services.db.session
    calls = {"n": 0}

    def session_with_a_beat() -> Any:
        calls["n"] += 1
        if calls["n"] == 2:  # after the check read the runs, before it decides
            with real_session() as session:
                session.execute(
                    update(RunRecord).where(RunRecord.id == run_id).values(heartbeat=utcnow())
                )
        return real_session()

    monkeypatch.setattr(services.db, "session", session_with_a_beat)
    outcome = recover_stale_runs(services)
    monkeypatch.undo()
    assert not outcome.resumed and record(services, run_id).state == "running"


def test_the_housekeeper_resumes_a_lost_run_nobody_asks_about(
    tenant: tuple, start_run: Send
) -> None:
    client, services, dataset_id = tenant
    run_id = start_run(client, dataset_id).json["id"]
    lose_workers(services, run_id)
    keeper = Housekeeper(services, seconds=0.1).start()
    try:
        deadline = time.monotonic() + 10
        while record(services, run_id).state != "queued" and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        keeper.stop(timeout=5)
    assert record(services, run_id).state == "queued" and record(services, run_id).resumes == 1


def test_a_queued_run_whose_task_was_lost_is_queued_again(tenant: tuple, start_run: Send) -> None:
    """Redis restarted without persistence (here: the queue flushed) loses the tasks; the
    runs would stay queued for ever, holding their tenant's concurrent-run slots."""
    client, services, dataset_id = tenant
    waiting = start_run(client, dataset_id).json["id"]
    assert requeue_lost_tasks(services, older_than=0) == []  # its task is there
    services.queue.flush()
    just_now = start_run(client, dataset_id).json["id"]
    services.queue.flush()
    with services.db.session() as session:
        session.execute(
            update(RunRecord).where(RunRecord.id == waiting).values(created=utcnow() - LONG_AGO)
        )
    assert requeue_lost_tasks(services, older_than=60) == [waiting]  # not the one just made
    assert [task.args for task in services.queue.pending()] == [(waiting, 0)]
    execute_run(services, waiting)  # a worker takes the task
    assert client.get(f"/v1/runs/{waiting}").json["state"] == "succeeded"
    assert client.get(f"/v1/runs/{just_now}").json["state"] == "queued"


def test_a_part_that_joins_a_started_run_enqueues_no_warm_start(
    make_app: Any,
    client_of: Any,
    post_file: Send,
    start_run: Send,
    iris_csv: bytes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two parts both enqueueing the warm start could both pass skip_if_exists and run it
    twice; only the part that started the run enqueues it."""
    client = client_of(make_app(immediate=False, run_parallelism=2), "tenant-a")
    services = services_of(client)
    dataset_id = post_file(client, iris_csv, "iris.csv", label="species").json["id"]
    run_id = start_run(client, dataset_id).json["id"]
    assert record(services, run_id).parts == 2
    enqueued: list[dict[str, Any]] = []
    real = optuna.Study.enqueue_trial

    def counting(study: optuna.Study, params: dict[str, Any], **kwargs: Any) -> None:
        enqueued.append(params)
        real(study, params, **kwargs)

    monkeypatch.setattr(optuna.Study, "enqueue_trial", counting)
    with services.db.session() as session:  # part 0 has started the run elsewhere
        session.execute(
            update(RunRecord)
            .where(RunRecord.id == run_id)
            .values(state="running", started=utcnow(), heartbeat=utcnow())
        )
    execute_run(services, run_id, part=1)
    assert enqueued == []
    assert client.get(f"/v1/runs/{run_id}").json["state"] == "succeeded"

    second = start_run(client, dataset_id).json["id"]
    execute_run(services, second, part=0)  # the part that starts a run enqueues it
    assert enqueued, "the part that started the run enqueued no warm start"


def register(client: FlaskClient, dataset_id: str, name: str = "mine") -> TestResponse:
    body = {"name": name, "dataset_id": dataset_id, "pretrain_epochs": 1, "meta_episodes": 1}
    return client.post("/v1/sources", json=body)


def source_values(services: Services, name: str, **values: Any) -> None:
    with services.db.session() as session:
        session.execute(update(SourceRecord).where(SourceRecord.name == name).values(**values))


def source_id(services: Services, name: str) -> str:
    with services.db.session() as session:
        found = session.scalar(select(SourceRecord.id).where(SourceRecord.name == name))
        assert found is not None
        return found


def test_a_build_whose_worker_died_is_failed_and_frees_its_name_and_dataset(
    tenant: tuple, expect_problem: Any
) -> None:
    client, services, dataset_id = tenant
    assert register(client, dataset_id).json["state"] == "building"
    source_values(services, "mine", heartbeat=utcnow())  # a worker builds it, beating
    assert client.get("/v1/sources/mine").json["state"] == "building"
    expect_problem(client.delete(f"/v1/datasets/{dataset_id}"), 409, "dataset.in_use")
    source_values(services, "mine", heartbeat=utcnow() - LONG_AGO)  # ... and died
    answer = client.get("/v1/sources/mine").json
    assert answer["state"] == "failed" and "run.worker_lost" in answer["error"]
    assert client.delete("/v1/sources/mine").status_code == 204
    assert register(client, dataset_id).status_code == 202  # the name is free again


def test_a_build_already_taken_is_not_built_twice(tenant: tuple) -> None:
    client, services, dataset_id = tenant
    register(client, dataset_id)
    source_values(services, "mine", heartbeat=utcnow())  # another worker has it
    execute_source(services, source_id(services, "mine"))  # the same task, enqueued again
    assert client.get("/v1/sources/mine").json["state"] == "building"  # left to the other


def test_a_waiting_build_whose_task_was_lost_is_queued_again(tenant: tuple) -> None:
    client, services, dataset_id = tenant
    register(client, dataset_id)
    wanted = source_id(services, "mine")
    assert requeue_lost_tasks(services, older_than=0) == []  # its task is there
    services.queue.flush()
    assert requeue_lost_tasks(services, older_than=60) == []  # too recent to call lost
    source_values(services, "mine", created=utcnow() - LONG_AGO)
    assert requeue_lost_tasks(services, older_than=60) == [wanted]
    assert [task.args for task in services.queue.pending()] == [(wanted,)]
