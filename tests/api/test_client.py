"""``advisor.client.AdvisorClient``: end to end through Flask and over real HTTP, problems as
``ApiError``, and retries on 429/503 and lost connections."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import requests

import advisor.client
from advisor.client import AdvisorClient, ApiError, Reply
from api.auth import create_key

OK_PAGE = {"items": [], "total": 0, "page": 1, "per_page": 20}
UNAVAILABLE = {"title": "Service unavailable", "status": 503, "code": "service.unavailable"}


class Scripted:
    """A transport that answers from a script (a Reply, or an exception to raise)."""

    def __init__(self, *answers: Reply | Exception) -> None:
        self.answers = list(answers)
        self.sent: list[tuple[str, str]] = []

    def send(self, method: str, path: str, **_options: Any) -> Reply:
        self.sent.append((method, path))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def reply(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Reply:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Reply(status, dict(headers or {}), content)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The client's waits between retries, recorded instead of slept."""
    waits: list[float] = []
    monkeypatch.setattr(advisor.client.time, "sleep", waits.append)
    return waits


def test_end_to_end_through_flask(
    app: Any, iris_csv: bytes, iris_rows: np.ndarray, tmp_path: Path
) -> None:
    key = create_key(app.extensions["advisor"].db, "tenant-a").key
    client = AdvisorClient.for_flask(app.test_client(), key)
    path = tmp_path / "iris.csv"
    path.write_bytes(iris_csv)
    data = client.upload(path, label="species")
    assert data.name == "iris.csv" and data.info.n_classes == 3
    assert client.dataset(data.id) == data and client.datasets().total == 1
    sepals = ["sepal length (cm)", "sepal width (cm)"]
    narrower = client.upload(path, label="species", drop=sepals)  # a list, sent as JSON
    assert narrower.info.n_features == 2
    client.delete_dataset(narrower.id)
    assert client.meta_features(data.id).values["nr_class"] == 3
    assert [s.name for s in client.sources()] == ["glyphs"]
    started = client.run(data.id, family="scratch", n_trials=2, learning_curve=True)
    run = client.wait(started.id, poll=0, timeout=30, progress=False)
    assert run.state == "succeeded" and client.runs().items[0].id == run.id
    result = client.result(run.id)
    assert result.family == "scratch" and result.cv_score > 0.8
    assert run.learning_curve and result.learning_curve is not None
    assert result.learning_curve.points[-1].score == pytest.approx(result.cv_score)
    html = client.report(run.id, tmp_path / "report.html")
    assert (tmp_path / "report.html").read_bytes() == html and b"<html" in html.lower()
    assert json.loads(client.report(run.id, format="json"))
    predicted = client.predict(run.id, iris_rows[[0, 100]])
    assert predicted.labels == ["setosa", "virginica"]
    table = pd.read_csv(path).drop(columns="species").iloc[[0, 100]]
    table.iloc[0, 1] = np.nan  # a gap, filled the training data's way
    assert client.predict(run.id, table[table.columns[::-1]]).labels == predicted.labels
    table.to_parquet(tmp_path / "rows.parquet")
    assert client.predict_file(run.id, tmp_path / "rows.parquet").labels == predicted.labels
    labeled = table.assign(species=["setosa", "virginica"]).to_csv(index=False).encode()
    by_bytes = client.predict_file(run.id, labeled, name="rows.csv", label="species")
    assert by_bytes.labels == predicted.labels
    assert client.cancel(run.id).state == "succeeded"  # final runs stay as they are
    client.delete_run(run.id)
    assert client.runs().total == 0
    client.delete_dataset(data.id)
    assert client.datasets().total == 0


def test_problems_raise_api_error_with_code(app: Any) -> None:
    anonymous = AdvisorClient.for_flask(app.test_client(), retries=0)
    with pytest.raises(ApiError) as raised:
        anonymous.datasets()
    assert raised.value.code == "auth.unauthorized" and raised.value.status_code == 401
    key = create_key(app.extensions["advisor"].db, "tenant-a").key
    client = AdvisorClient.for_flask(app.test_client(), key)
    with pytest.raises(ApiError) as raised:
        client.upload(b"a,label\n1,x\n2,x\n", name="one.csv")
    assert raised.value.code == "dataset.single_class" and raised.value.problem.status == 422
    with pytest.raises(ApiError) as raised:
        client.result("00000000")
    assert raised.value.code == "run.unknown"


def test_wait_times_out_on_a_queued_run(
    make_app: Any, iris_csv: bytes, sleeps: list[float]
) -> None:
    app = make_app(immediate=False)
    client = AdvisorClient.for_flask(
        app.test_client(), create_key(app.extensions["advisor"].db, "a").key
    )
    run = client.run(client.upload(iris_csv, name="iris.csv", label="species").id, n_trials=1)
    with pytest.raises(TimeoutError, match="still queued"):
        client.wait(run.id, poll=0.01, timeout=0, progress=False)
    seen: list[str] = []
    cancelled = client.wait(client.cancel(run.id).id, progress=lambda r: seen.append(r.state))
    assert cancelled.state == "cancelled" and seen == ["cancelled"]


def test_report_needs_exactly_one_id() -> None:
    client = AdvisorClient(transport=Scripted())
    with pytest.raises(ValueError):
        client.report()
    with pytest.raises(ValueError):
        client.report("r1", recommendation_id="c1")


def test_retries_503_then_succeeds(sleeps: list[float]) -> None:
    transport = Scripted(reply(503, UNAVAILABLE), reply(503, UNAVAILABLE), reply(200, OK_PAGE))
    page = AdvisorClient(transport=transport, backoff=0).datasets()
    assert page.total == 0 and len(transport.sent) == 3
    assert sleeps == [0, 0]


def test_retries_429_honouring_retry_after(sleeps: list[float]) -> None:
    limited = reply(
        429, {"title": "Too many", "status": 429, "code": "http.429"}, {"Retry-After": "7"}
    )
    transport = Scripted(limited, reply(503, UNAVAILABLE), reply(200, OK_PAGE))
    AdvisorClient(transport=transport, backoff=0.25).datasets()
    assert sleeps == [7.0, 0.5]  # Retry-After wins; otherwise the backoff, doubled each time


def test_gives_up_after_the_last_retry(sleeps: list[float]) -> None:
    transport = Scripted(*(reply(503, UNAVAILABLE) for _ in range(3)))
    with pytest.raises(ApiError) as raised:
        AdvisorClient(transport=transport, retries=2, backoff=0).datasets()
    assert raised.value.code == "service.unavailable" and len(transport.sent) == 3


def test_retries_lost_connections(sleeps: list[float]) -> None:
    transport = Scripted(ConnectionError("refused"), reply(200, OK_PAGE))
    assert AdvisorClient(transport=transport, backoff=0).datasets().total == 0
    down = Scripted(*(ConnectionError("refused") for _ in range(2)))
    with pytest.raises(ConnectionError):
        AdvisorClient(transport=down, retries=1, backoff=0).datasets()


def test_non_json_error_body(sleeps: list[float]) -> None:
    transport = Scripted(reply(502, b"<html>Bad gateway</html>"))
    with pytest.raises(ApiError) as raised:
        AdvisorClient(transport=transport, retries=0).datasets()
    assert raised.value.code == "http.502" and "Bad gateway" in raised.value.problem.detail


def test_http_transport_reports_no_connection() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    client = AdvisorClient(f"http://127.0.0.1:{port}", retries=0, timeout=2)
    with pytest.raises(ConnectionError):
        client.datasets()


# -- a real server -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.mark.slow  # starts `advisor serve` in a subprocess (imports torch, sklearn): ~10 s
def test_live_server(tmp_path: Path, iris_csv: bytes, iris_rows: np.ndarray) -> None:
    port = free_port()
    env = {**os.environ, "ADVISOR_HOME": str(tmp_path / "home"), "ADVISOR_OPEN_ACCESS": "1"}
    advisor_command = Path(sys.executable).with_name("advisor")
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(
        [str(advisor_command), "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, (tmp_path / "server.log").read_text()
            try:
                if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "the server did not come up"
            time.sleep(0.2)
        client = AdvisorClient(base, backoff=0.1)
        data = client.upload(iris_csv, name="iris.csv", label="species")
        run = client.run(data.id, family="scratch", n_trials=2)
        done = client.wait(run.id, poll=0.2, timeout=120, progress=False)
        assert done.state == "succeeded", done.error
        report = client.report(run.id, tmp_path / "report.md", format="md")
        assert report.startswith(b"#") and (tmp_path / "report.md").is_file()
        assert client.predict(run.id, iris_rows[:3]).labels == ["setosa"] * 3
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
