"""The service around the routes: OpenAPI document, health, metrics, error handling, restarts,
the JSON queue serializer and the artifact store."""

from __future__ import annotations

import datetime
import json
import pickle
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask.testing import FlaskClient
from huey.registry import Message
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.exc import OperationalError
from werkzeug.test import TestResponse

from api.artifacts import ArtifactStore, safe_key
from api.queue import EmbeddedWorker, JsonSerializer

Send = Callable[..., TestResponse]
Problem = Callable[[TestResponse, int, str], dict[str, Any]]
AppFactory = Callable[..., Any]

V1_PATHS = {
    "/v1/datasets",
    "/v1/datasets/{dataset_id}",
    "/v1/datasets/{dataset_id}/meta-features",
    "/v1/sources",
    "/v1/sources/{name}",
    "/v1/recommendations",
    "/v1/recommendations/{recommendation_id}",
    "/v1/recommendations/{recommendation_id}/report",
    "/v1/runs",
    "/v1/runs/{run_id}",
    "/v1/runs/{run_id}/cancel",
    "/v1/runs/{run_id}/result",
    "/v1/runs/{run_id}/report",
    "/v1/runs/{run_id}/predict",
    "/v1/runs/{run_id}/compare",
}


# -- documents and probes -----------------------------------------------------------------


def test_openapi_document(shared_client: FlaskClient) -> None:
    answer = shared_client.get("/openapi.json")
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    document = answer.json
    assert document["openapi"].startswith("3.")
    schemathesis.openapi.from_dict(document).validate()  # the OpenAPI 3.x meta-schema
    assert {p for p in document["paths"] if p.startswith("/v1/")} == V1_PATHS
    assert document["components"]["securitySchemes"]["api_key"]["scheme"] == "bearer"
    for path in V1_PATHS:
        for operation in document["paths"][path].values():
            assert operation["security"] == [{"api_key": []}], path
            problem = operation["responses"]["401"]["content"]
            assert list(problem) == ["application/problem+json"], path


def test_docs_page(shared_client: FlaskClient) -> None:
    answer = shared_client.get("/docs/")
    assert answer.status_code == 200 and answer.mimetype == "text/html"


def test_health_and_readiness(shared_client: FlaskClient) -> None:
    assert shared_client.get("/healthz").json == {"status": "ok", "checks": {}}
    ready = shared_client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json == {"status": "ok", "checks": {"database": "ok", "queue": "ok"}}


def test_not_ready_when_the_database_is_down(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down() -> None:
        raise OperationalError("SELECT 1", {}, ConnectionError("refused"))

    monkeypatch.setattr(client.application.extensions["advisor"].db, "ping", down)
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json["status"] == "unavailable"
    assert answer.json["checks"] == {"database": "unavailable: OperationalError", "queue": "ok"}
    assert answer.headers["Retry-After"] == "5"


def test_metrics(shared_client: FlaskClient, shared_dataset_id: str) -> None:
    shared_client.get(f"/v1/datasets/{shared_dataset_id}")
    answer = shared_client.get("/metrics")
    assert answer.status_code == 200 and answer.mimetype == "text/plain"
    families = {f.name: f for f in text_string_to_metric_families(answer.get_data(as_text=True))}
    requests = [s for s in families["advisor_http_requests"].samples if s.name.endswith("_total")]
    assert any(
        s.labels == {"method": "GET", "route": "/v1/datasets/<dataset_id>", "status": "200"}
        and s.value >= 1
        for s in requests
    )
    assert "advisor_http_request_seconds" in families
    runs = {s.labels["state"]: s.value for s in families["advisor_runs"].samples}
    assert runs["succeeded"] >= 1 and set(runs) == {
        "queued",
        "running",
        "succeeded",
        "failed",
        "cancelled",
    }


# -- unexpected failures ------------------------------------------------------------------


def test_unexpected_error_is_a_500_problem_without_internals(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch, expect_problem: Problem
) -> None:
    def broken(*_args: Any) -> Any:
        raise RuntimeError("secret internals at /srv/advisor")

    monkeypatch.setattr(client.application.extensions["advisor"], "dataset_record", broken)
    body = expect_problem(client.get("/v1/datasets/abc"), 500, "server.error")
    assert "secret" not in json.dumps(body)


@pytest.mark.parametrize("path", ["/v1/recommendations", "/v1/runs"])
def test_a_body_nested_past_the_recursion_limit_is_a_client_error(
    shared_client: FlaskClient, path: str
) -> None:
    """json.loads raises RecursionError, not ValueError, on arrays nested thousands deep."""
    body = "[" * 100_000 + "]" * 100_000
    answer = shared_client.post(path, data=body, content_type="application/json")
    assert answer.status_code == 422, answer.get_data(as_text=True)
    assert answer.get_json()["code"] == "request.invalid"
    with pytest.raises(ValueError, match="nested too deeply"):
        shared_client.application.json.loads(body)


def test_database_outage_is_a_503_problem(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch, expect_problem: Problem
) -> None:
    def outage(*_args: Any) -> Any:
        raise OperationalError("SELECT", {}, ConnectionError("refused"))

    monkeypatch.setattr(client.application.extensions["advisor"], "dataset_record", outage)
    answer = client.get("/v1/datasets/abc")
    expect_problem(answer, 503, "service.unavailable")
    assert answer.headers["Retry-After"] == "5"


# -- restarts ------------------------------------------------------------------------------


def test_everything_survives_an_api_restart(
    make_app: AppFactory,
    client_of: Any,
    post_file: Send,
    start_run: Send,
    iris_csv: bytes,
    iris_rows: Any,
) -> None:
    first = client_of(make_app(), "tenant-a")
    dataset_id = post_file(first, iris_csv, "iris.csv", label="species").json["id"]
    run = start_run(first, dataset_id).json
    assert run["state"] == "succeeded"
    report = first.get(f"/v1/runs/{run['id']}/report?format=md").data

    restarted: FlaskClient = make_app().test_client()  # a new app on the same ADVISOR_HOME
    restarted.environ_base.update(first.environ_base)  # the same key
    assert restarted.get(f"/v1/datasets/{dataset_id}").json["info"]["n_rows"] == 150
    assert restarted.get(f"/v1/runs/{run['id']}/result").json == run["result"]
    assert restarted.get(f"/v1/runs/{run['id']}/report?format=md").data == report
    predicted = restarted.post(
        f"/v1/runs/{run['id']}/predict", json={"instances": iris_rows[:2].tolist()}
    )
    assert predicted.json["labels"] == ["setosa", "setosa"]


def test_queued_run_survives_an_api_restart(
    make_app: AppFactory, client_of: Any, post_file: Send, start_run: Send, iris_csv: bytes
) -> None:
    first = client_of(make_app(immediate=False), "tenant-a")
    dataset_id = post_file(first, iris_csv, "iris.csv", label="species").json["id"]
    run_id = start_run(first, dataset_id).json["id"]
    stored = first.application.extensions["advisor"].queue.storage.enqueued_items()
    assert len(stored) == 1 and run_id in json.loads(stored[0])["__message__"]["args"]

    app = make_app(immediate=False)  # restarted; a worker now consumes the queue
    client: FlaskClient = app.test_client()
    client.environ_base.update(first.environ_base)
    assert client.get(f"/v1/runs/{run_id}").json["state"] == "queued"
    worker = EmbeddedWorker(app.extensions["advisor"].queue, poll_seconds=0.05).start()
    try:
        deadline, state = time.monotonic() + 60, "queued"
        while state not in {"succeeded", "failed", "cancelled"} and time.monotonic() < deadline:
            time.sleep(0.1)
            state = client.get(f"/v1/runs/{run_id}").json["state"]
    finally:
        worker.stop(timeout=30)
    assert state == "succeeded"
    assert client.get(f"/v1/runs/{run_id}/result").json["family"] == "scratch"


# -- the queue's JSON serializer ----------------------------------------------------------


def message(*args: Any, **kwargs: Any) -> Message:
    return Message(
        id="4f1c",
        name="advisor.run",
        eta=datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
        retries=0,
        retry_delay=0,
        priority=None,
        args=args,
        kwargs=kwargs,
        on_complete=None,
        on_error=None,
        expires=None,
        expires_resolved=None,
        timeout=None,
        chord_config=None,
        retry_backoff=None,
    )


def test_json_serializer_round_trip() -> None:
    serializer = JsonSerializer()
    original = message("run-1", 3, 0.5, True, None, ["a", {"b": 1}], seed=7)
    data = serializer.serialize(original)
    json.loads(data)  # plain JSON on the wire
    assert serializer.deserialize(data) == original


@pytest.mark.parametrize(
    "value",
    [object(), b"bytes", {1, 2}, Path("/etc/passwd")],
    ids=["object", "bytes", "set", "path"],
)
def test_json_serializer_refuses_non_plain_values(value: Any) -> None:
    with pytest.raises(TypeError, match="tasks take ids and plain values"):
        JsonSerializer().serialize(message(value))


def test_json_serializer_never_unpickles() -> None:
    with pytest.raises(ValueError):
        JsonSerializer().deserialize(pickle.dumps(message("run-1")))


# -- the artifact store -------------------------------------------------------------------


@pytest.mark.parametrize(
    "parts",
    [
        ("..",),
        ("a", "..", "b"),
        ("/abs",),
        ("a/../b",),
        ("a//b",),
        ("",),
        ("a b",),
        ("a\\b",),
        ("é",),
        ("a", "."),
        ("x;rm",),
    ],
)
def test_safe_key_refuses(parts: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="Unsafe artifact key"):
        safe_key(*parts)


def test_safe_key_accepts_plain_names() -> None:
    assert safe_key("datasets", "t-1", "ab_12", "report.html") == "datasets/t-1/ab_12/report.html"


@pytest.mark.parametrize("memory", [False, True], ids=["folder", "memory"])
def test_artifact_store(tmp_path: Path, memory: bool) -> None:
    root = f"memory://advisor-test-{tmp_path.name}" if memory else str(tmp_path / "store")
    store = ArtifactStore(root)
    store.put("runs/t/r1/report.md", b"# hi")
    assert store.get("runs/t/r1/report.md") == b"# hi" and store.exists("runs/t/r1")
    folder = tmp_path / "model"
    (folder / "sub").mkdir(parents=True)
    (folder / "learner.json").write_text("{}")
    (folder / "sub" / "w.bin").write_bytes(b"\x00\x01")
    store.put_folder("runs/t/r1/model", folder)
    copy = store.get_folder("runs/t/r1/model", tmp_path / "copy")
    assert (copy / "sub" / "w.bin").read_bytes() == b"\x00\x01"
    assert (copy / "learner.json").read_text() == "{}"
    store.delete("runs/t/r1")
    assert not store.exists("runs/t/r1/report.md")
    with pytest.raises(FileNotFoundError):
        store.get("runs/t/r1/report.md")
    with pytest.raises(ValueError):
        store.put("../outside", b"x")
    store.delete("runs/never")  # absent: nothing happens
