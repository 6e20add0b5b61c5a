"""One tenant's simultaneous requests: the run limit, unique source names and datasets in use.

Checks and inserts that decide from what a tenant already has (active runs under the limit, a
source name not taken, a dataset nobody needs) run under the tenant's lock
(:func:`api.db.lock_tenant`). The concurrency tests send their requests from threads that
start together (a barrier) and make every insert pause (an ORM ``before_insert`` hook), so that
without the lock each request would decide before any other had written: deterministic.
They run on SQLite and, where it is reachable, on PostgreSQL (a fresh database per test).
"""

from __future__ import annotations

import datetime
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, func, select, update
from werkzeug.test import TestResponse

import api.db
from api.db import DatasetRecord, RunRecord, SourceRecord, utcnow
from tests.api.test_runs_routes import services_of, set_running

Send = Callable[..., TestResponse]
Problem = Callable[[TestResponse, int, str], dict[str, Any]]
AppFactory = Callable[..., Any]


@pytest.fixture
def slow_inserts() -> Iterator[None]:
    """Every run or source insert pauses: a check made without the lock goes stale."""

    def pause(*_args: Any) -> None:
        time.sleep(0.05)

    for model in (RunRecord, SourceRecord):
        event.listen(model, "before_insert", pause)
    yield
    for model in (RunRecord, SourceRecord):
        event.remove(model, "before_insert", pause)


def at_once(client: FlaskClient, n: int, send: Callable[[FlaskClient], TestResponse]) -> list[Any]:
    """``send`` from ``n`` threads released together; their (status, code) answers."""
    barrier = threading.Barrier(n)
    answers: list[Any] = []

    def go() -> None:
        own = client.application.test_client()  # one client per thread, the same key
        own.environ_base.update(client.environ_base)
        barrier.wait()
        answer = send(own)
        answers.append((answer.status_code, (answer.get_json(silent=True) or {}).get("code")))

    threads = [threading.Thread(target=go) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(answers) == n, "a request did not answer"
    return answers


def active_runs(client: FlaskClient) -> int:
    with services_of(client).db.session() as session:
        count = session.scalar(
            select(func.count())
            .select_from(RunRecord)
            .where(RunRecord.state.in_(["queued", "running"]))
        )
    return int(count or 0)


@pytest.mark.usefixtures("slow_inserts")
def test_simultaneous_runs_of_one_tenant_stop_at_the_limit(
    queued_app: Any, client_of: Any, post_file: Send, start_run: Send, iris_csv: bytes
) -> None:
    client = client_of(queued_app, "tenant-a")
    dataset_id = post_file(client, iris_csv, "iris.csv", label="species").json["id"]
    answers = at_once(client, 10, lambda own: start_run(own, dataset_id))
    assert Counter(answers) == {(202, None): 4, (429, "run.too_many"): 6}
    assert active_runs(client) == 4
    other = client_of(queued_app, "tenant-b")  # another tenant has its own four
    other_id = post_file(other, iris_csv, "iris.csv", label="species").json["id"]
    assert start_run(other, other_id).status_code == 202


@pytest.mark.usefixtures("slow_inserts")
def test_simultaneous_sources_of_one_name_register_once(
    queued_app: Any, client_of: Any, post_file: Send, iris_csv: bytes
) -> None:
    client = client_of(queued_app, "tenant-a")
    dataset_id = post_file(client, iris_csv, "iris.csv", label="species").json["id"]
    body = {"name": "mine", "dataset_id": dataset_id, "pretrain_epochs": 1, "meta_episodes": 1}
    answers = at_once(client, 6, lambda own: own.post("/v1/sources", json=body))
    assert Counter(answers) == {(202, None): 1, (409, "source.exists"): 5}
    mine = [s for s in client.get("/v1/sources").json if s["name"] == "mine"]
    assert len(mine) == 1 and mine[0]["state"] == "building"
    other = client_of(queued_app, "tenant-b")  # names are per tenant
    other_id = post_file(other, iris_csv, "iris.csv", label="species").json["id"]
    assert other.post("/v1/sources", json={**body, "dataset_id": other_id}).status_code == 202


@pytest.mark.usefixtures("slow_inserts")
def test_a_duplicate_name_that_passes_the_check_is_refused_by_the_database(
    queued_app: Any,
    client_of: Any,
    post_file: Send,
    iris_csv: bytes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without the lock every request passes the check; the unique constraint still holds,
    and its IntegrityError is a 409, never a 500."""
    monkeypatch.setattr(api.db, "lock_tenant", lambda *_args: None)
    client = client_of(queued_app, "tenant-a")
    dataset_id = post_file(client, iris_csv, "iris.csv", label="species").json["id"]
    body = {"name": "mine", "dataset_id": dataset_id, "pretrain_epochs": 1, "meta_episodes": 1}
    answers = at_once(client, 4, lambda own: own.post("/v1/sources", json=body))
    assert Counter(answers) == {(202, None): 1, (409, "source.exists"): 3}
    with services_of(client).db.session() as session:
        assert session.scalar(select(func.count()).select_from(SourceRecord)) == 1


def set_state(client: FlaskClient, model: Any, row_id: str, state: str) -> None:
    with services_of(client).db.session() as session:
        session.execute(update(model).where(model.id == row_id).values(state=state))


def test_a_dataset_an_active_run_needs_is_not_deleted(
    queued_app: Any,
    client_of: Any,
    post_file: Send,
    start_run: Send,
    expect_problem: Problem,
    iris_csv: bytes,
) -> None:
    client = client_of(queued_app, "tenant-a")
    train = post_file(client, iris_csv, "iris.csv", label="species").json["id"]
    test = post_file(client, iris_csv, "test.csv", label="species", purpose="score").json["id"]
    run_id = start_run(client, train, test_dataset_id=test).json["id"]
    for dataset_id in (train, test):  # queued: training data and test data are both needed
        problem = expect_problem(client.delete(f"/v1/datasets/{dataset_id}"), 409, "dataset.in_use")
        assert run_id in problem["detail"]
        assert problem["facts"]["runs"] == [run_id]  # the error's details, structured
    set_running(client, run_id, utcnow())
    for dataset_id in (train, test):
        expect_problem(client.delete(f"/v1/datasets/{dataset_id}"), 409, "dataset.in_use")
        assert client.get(f"/v1/datasets/{dataset_id}").status_code == 200
    set_state(client, RunRecord, run_id, "succeeded")  # finished: its data may go
    for dataset_id in (train, test):
        assert client.delete(f"/v1/datasets/{dataset_id}").status_code == 204
    assert client.get(f"/v1/runs/{run_id}").json["state"] == "succeeded"


def test_a_dataset_a_stale_run_needed_is_deleted_once_the_run_is_failed(
    queued_app: Any,
    client_of: Any,
    post_file: Send,
    start_run: Send,
    expect_problem: Problem,
    iris_csv: bytes,
) -> None:
    """A run whose workers died is resumed, and still needs its data, until it is out of
    resumes: then it is failed (run.worker_lost) before the dataset is checked."""
    client = client_of(queued_app, "tenant-a")
    dataset_id = post_file(client, iris_csv, "iris.csv", label="species").json["id"]
    run_id = start_run(client, dataset_id).json["id"]
    long_ago = utcnow() - datetime.timedelta(days=1)

    def lose_workers(resumes: int) -> None:
        with services_of(client).db.session() as session:
            session.execute(
                update(RunRecord)
                .where(RunRecord.id == run_id)
                .values(state="running", started=long_ago, heartbeat=long_ago, resumes=resumes)
            )

    lose_workers(0)
    expect_problem(client.delete(f"/v1/datasets/{dataset_id}"), 409, "dataset.in_use")
    assert client.get(f"/v1/runs/{run_id}").json["state"] == "queued"  # resumed
    lose_workers(services_of(client).settings.run_max_resumes)
    assert client.delete(f"/v1/datasets/{dataset_id}").status_code == 204
    assert client.get(f"/v1/runs/{run_id}").json["error"]["code"] == "run.worker_lost"


def test_a_dataset_a_source_is_being_built_from_is_not_deleted(
    queued_app: Any, client_of: Any, post_file: Send, expect_problem: Problem, iris_csv: bytes
) -> None:
    client = client_of(queued_app, "tenant-a")
    dataset_id = post_file(client, iris_csv, "iris.csv", label="species").json["id"]
    body = {"name": "mine", "dataset_id": dataset_id, "pretrain_epochs": 1, "meta_episodes": 1}
    assert client.post("/v1/sources", json=body).json["state"] == "building"
    problem = expect_problem(client.delete(f"/v1/datasets/{dataset_id}"), 409, "dataset.in_use")
    assert "mine" in problem["detail"]
    with services_of(client).db.session() as session:
        source_id = session.scalars(select(SourceRecord.id)).one()
    set_state(client, SourceRecord, source_id, "failed")  # built (or not): the data may go
    assert client.delete(f"/v1/datasets/{dataset_id}").status_code == 204
    with services_of(client).db.session() as session:
        assert session.scalar(select(func.count()).select_from(DatasetRecord)) == 0


@pytest.mark.parametrize("what", ["run", "source"])
def test_nothing_is_started_on_a_dataset_deleted_meanwhile(
    what: str,
    queued_app: Any,
    client_of: Any,
    post_file: Send,
    start_run: Send,
    expect_problem: Problem,
    iris_csv: bytes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The dataset is checked again under the lock: a delete between the route's first look
    and its insert leaves no queued run or building source on a dataset that is gone."""
    client = client_of(queued_app, "tenant-a")
    dataset_id = post_file(client, iris_csv, "iris.csv", label="species").json["id"]
    real_lock = api.db.lock_tenant

    def delete_first(session: Any, tenant: str) -> None:
        real_lock(session, tenant)
        found = session.get(DatasetRecord, dataset_id)
        if found is not None:  # as if a delete had just committed
            session.delete(found)
            session.flush()

    monkeypatch.setattr(api.db, "lock_tenant", delete_first)
    if what == "run":
        answer = start_run(client, dataset_id)
    else:
        answer = client.post("/v1/sources", json={"name": "mine", "dataset_id": dataset_id})
    expect_problem(answer, 404, "dataset.unknown")
    monkeypatch.setattr(api.db, "lock_tenant", real_lock)
    assert client.get("/v1/runs").json["total"] == 0
    assert [s["name"] for s in client.get("/v1/sources").json] == ["glyphs"]
