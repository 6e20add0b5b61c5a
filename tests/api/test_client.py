"""``advisor.client.AdvisorClient``: end to end through Flask and over real HTTP, problems as
``ApiError``, retries on 429/503 and lost connections (never a request that creates something
once it may have been carried out), and rows to predict as JSON (images, gaps, dates)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import requests

import advisor.client
from advisor.client import (
    AdvisorClient,
    ApiError,
    NoAnswerError,
    NotSentError,
    Reply,
)
from api.auth import create_key

OK_PAGE = {"items": [], "total": 0, "page": 1, "per_page": 20}
UNAVAILABLE = {"title": "Service unavailable", "status": 503, "code": "service.unavailable"}


class Scripted:
    """A transport that answers from a script (a Reply, or an exception to raise).

    A JSON body is encoded as ``requests`` encodes it (``allow_nan=False``), and kept.
    """

    def __init__(self, *answers: Reply | Exception) -> None:
        self.answers = list(answers)
        self.sent: list[tuple[str, str]] = []
        self.bodies: list[Any] = []
        self.params: list[Any] = []

    def send(self, method: str, path: str, *, json_body: Any = None, **options: Any) -> Reply:
        self.sent.append((method, path))
        self.params.append(options.get("params"))
        if json_body is not None:
            prepared = requests.Request(method, "http://service" + path, json=json_body).prepare()
            assert prepared.body is not None
            self.bodies.append(json.loads(prepared.body))
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
    assert raised.value.details == {"label": "x"}  # the problem's facts, as a local error's
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


def test_http_transport_tells_a_refused_connection_from_a_lost_answer(
    sleeps: list[float],
) -> None:
    """A refused connection never reached the service: even an upload is sent again."""
    client = AdvisorClient(f"http://127.0.0.1:{free_port()}", retries=2, backoff=0.5, timeout=2)
    with pytest.raises(NotSentError):
        client.upload(b"a,label\n1,x\n", name="rows.csv")
    assert sleeps == [0.5, 1.0]


# -- requests that may have been carried out -------------------------------------------------

PREDICTED = {"labels": ["a"], "probabilities": [[1.0]], "classes": ["a"]}
INVALID = {"title": "Unprocessable content", "status": 422, "code": "request.invalid"}
GONE = {"title": "Not found", "status": 404, "code": "dataset.unknown"}


@pytest.mark.parametrize(
    "lost",
    [NoAnswerError("read timed out"), ConnectionError("connection reset by peer")],
    ids=["no-answer", "unknown-failure"],
)
def test_a_request_that_creates_something_is_not_sent_again_once_it_went_out(
    sleeps: list[float], lost: ConnectionError
) -> None:
    """The bug: a read timeout made the client upload the same file again (4 datasets)."""
    creates: list[Callable[[AdvisorClient], object]] = [
        lambda client: client.upload(b"a,label\n1,x\n", name="rows.csv"),
        lambda client: client.run("d1", n_trials=2),
        lambda client: client.recommend("d1"),
    ]
    for create in creates:
        transport = Scripted(lost, reply(422, INVALID))
        with pytest.raises(NoAnswerError, match="may have carried it out") as raised:
            create(AdvisorClient(transport=transport, backoff=0))
        assert len(transport.sent) == 1 and transport.sent[0][0] == "POST"
        assert isinstance(raised.value, ConnectionError)  # what callers caught before
    assert sleeps == []


def test_requests_safe_to_repeat_are_retried_after_a_lost_answer(sleeps: list[float]) -> None:
    reads = Scripted(NoAnswerError("read timed out"), reply(200, OK_PAGE))
    assert AdvisorClient(transport=reads, backoff=0).datasets().total == 0
    assert len(reads.sent) == 2
    predictions = Scripted(NoAnswerError("read timed out"), reply(200, PREDICTED))
    assert AdvisorClient(transport=predictions, backoff=0).predict("r1", [[1.0]]).labels == ["a"]
    assert predictions.sent == [("POST", "/v1/runs/r1/predict")] * 2
    refused = Scripted(NotSentError("connection refused"), reply(422, INVALID))
    with pytest.raises(ApiError):  # never reached the service: an upload may go again
        AdvisorClient(transport=refused, backoff=0).upload(b"x", name="rows.csv")
    assert len(refused.sent) == 2


def test_a_request_that_creates_something_is_retried_on_429_and_503_only(
    sleeps: list[float],
) -> None:
    """429 and 503 say the service did not do it; a gateway's 504 may come after it did."""
    transport = Scripted(reply(503, UNAVAILABLE), reply(504, b"Gateway timeout"))
    with pytest.raises(ApiError) as raised:
        AdvisorClient(transport=transport, backoff=0).upload(b"x", name="rows.csv")
    assert raised.value.code == "http.504" and len(transport.sent) == 2


TOO_MANY_RUNS = {"title": "Too many requests", "status": 429, "code": "run.too_many"}
RATE_LIMITED = {"title": "Too many requests", "status": 429, "code": "http.429"}


def test_too_many_runs_raises_at_once(sleeps: list[float]) -> None:
    """The bug: run.too_many (with the Retry-After: 60 the server stamped on every 429) was
    retried five times, blocking client.run() for minutes."""
    transport = Scripted(reply(429, TOO_MANY_RUNS, {"Retry-After": "60"}), reply(422, INVALID))
    with pytest.raises(ApiError) as raised:
        AdvisorClient(transport=transport, backoff=0.5).run("d1", n_trials=2)
    assert raised.value.code == "run.too_many" and raised.value.status == 429
    assert len(transport.sent) == 1 and sleeps == []
    # the rate limit's 429 is still waited out, on creates as on reads
    limited = Scripted(reply(429, RATE_LIMITED, {"Retry-After": "3"}), reply(422, INVALID))
    with pytest.raises(ApiError) as raised:
        AdvisorClient(transport=limited, backoff=0.5).run("d1", n_trials=2)
    assert raised.value.code == "request.invalid" and len(limited.sent) == 2
    assert sleeps == [3.0]
    gateway = Scripted(reply(429, b"<html>Too many</html>"), reply(200, OK_PAGE))  # no problem
    assert AdvisorClient(transport=gateway, backoff=0).datasets().total == 0


def test_api_error_status_is_the_answers() -> None:
    """The bug: ApiError.status was AdvisorError's class default, 400, for a 409 answer."""
    in_use = {"title": "Conflict", "status": 409, "code": "dataset.in_use", "detail": "r1"}
    with pytest.raises(ApiError) as raised:
        AdvisorClient(transport=Scripted(reply(409, in_use))).delete_dataset("d1")
    assert raised.value.status == 409 and raised.value.status_code == 409
    assert raised.value.code == "dataset.in_use"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("report.md", "md"),
        ("REPORT.Markdown", "md"),
        ("report.html", "html"),
        ("report.htm", "html"),
        ("report.json", "json"),
    ],
)
def test_report_format_follows_the_files_suffix(tmp_path: Path, name: str, expected: str) -> None:
    """The bug: client.report(run_id, path="x.md") wrote HTML."""
    transport = Scripted(reply(200, b"the report"))
    content = AdvisorClient(transport=transport).report("r1", tmp_path / name)
    assert transport.params == [{"format": expected}]
    assert content == (tmp_path / name).read_bytes() == b"the report"


def test_report_format_without_a_suffix_it_knows() -> None:
    transport = Scripted(reply(200, b"# md"), reply(200, b"<html>"))
    client = AdvisorClient(transport=transport)
    for path in ("report.txt", "report"):
        with pytest.raises(ValueError, match=r"\.md.*format="):
            client.report("r1", path)
    assert transport.sent == []  # refused before anything is sent
    assert client.report("r1", format="md") == b"# md"  # an explicit format, no file
    assert client.report(recommendation_id="c1") == b"<html>"  # no path: HTML
    assert transport.params == [{"format": "md"}, {"format": "html"}]


def test_an_explicit_report_format_wins(tmp_path: Path) -> None:
    transport = Scripted(reply(200, b"{}"))
    AdvisorClient(transport=transport).report("r1", tmp_path / "out.txt", format="json")
    assert transport.params == [{"format": "json"}]
    assert (tmp_path / "out.txt").read_bytes() == b"{}"


def test_a_delete_whose_answer_was_lost_is_done(sleeps: list[float]) -> None:
    """The lost attempt deleted it: the retry's 404 means it is gone, as asked."""
    transport = Scripted(NoAnswerError("read timed out"), reply(404, GONE))
    AdvisorClient(transport=transport, backoff=0).delete_dataset("d1")
    assert transport.sent == [("DELETE", "/v1/datasets/d1")] * 2
    with pytest.raises(ApiError) as raised:  # without a lost attempt, 404 is an unknown id
        AdvisorClient(transport=Scripted(reply(404, GONE))).delete_dataset("d1")
    assert raised.value.code == "dataset.unknown"


@pytest.fixture
def slow_service() -> Iterator[tuple[str, list[str]]]:
    """An HTTP server that reads each request, notes its method, and answers after 5 s
    (or when the test ends): every request times out at the client."""
    received: list[str] = []
    done = threading.Event()

    class Slow(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            received.append(self.command)
            done.wait(5)
            body = json.dumps(OK_PAGE).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            self._answer()

        def do_POST(self) -> None:
            self._answer()

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        done.set()
        server.shutdown()
        server.server_close()


def test_over_http_an_upload_that_timed_out_is_sent_once(
    slow_service: tuple[str, list[str]], sleeps: list[float]
) -> None:
    """The tester's case: ``timeout=0.3, retries=3`` created 4 datasets."""
    url, received = slow_service
    client = AdvisorClient(url, timeout=0.3, retries=3, backoff=0)
    with pytest.raises(NoAnswerError, match="may have carried it out"):
        client.upload(b"a,label\n1,x\n", name="rows.csv")
    assert received == ["POST"]
    with pytest.raises(NoAnswerError):  # a read is sent again, then gives up
        client.datasets()
    assert received == ["POST"] + ["GET"] * 4


# -- rows to predict as JSON -----------------------------------------------------------------


def test_predict_sends_gaps_as_null_and_dates_as_text(sleeps: list[float]) -> None:
    """The bug: a Timestamp column raised TypeError and NaN in an array requests'
    InvalidJSONError, before anything was sent."""
    frame = pd.DataFrame(
        {
            "x": [1.5, np.nan],
            "day": pd.to_datetime(pd.Series(["2024-01-05", None])),
            "seen": [pd.Timestamp("2024-01-05 10:30"), None],
            "city": ["Paris", None],
            "count": pd.array([3, None], dtype="Int64"),
        }
    )
    transport = Scripted(reply(200, PREDICTED), reply(200, PREDICTED))
    client = AdvisorClient(transport=transport)
    client.predict("r1", frame)
    client.predict("r1", np.array([[1.0, np.nan]]))
    assert transport.bodies == [
        {
            "instances": [
                {
                    "x": 1.5,
                    "day": "2024-01-05",
                    "seen": "2024-01-05 10:30:00",
                    "city": "Paris",
                    "count": 3,
                },
                {"x": None, "day": None, "seen": None, "city": None, "count": None},
            ]
        },
        {"instances": [[1.0, None]]},
    ]


@pytest.mark.parametrize(
    "instances",
    [
        np.array([[1.0, np.inf]]),
        pd.DataFrame({"x": [-np.inf]}),
        pd.DataFrame({"x": [object()]}),
        np.array([[1 + 2j]]),
        np.array([["2024-01-05"]], dtype="datetime64[D]"),
    ],
    ids=["infinite", "infinite-column", "object", "complex", "dates-array"],
)
def test_predict_refuses_what_json_cannot_carry_before_sending(instances: Any) -> None:
    transport = Scripted()
    with pytest.raises(ApiError) as raised:
        AdvisorClient(transport=transport).predict("r1", instances)
    assert raised.value.code == "predict.bad_instances" and raised.value.status_code == 422
    assert transport.sent == []


def test_predict_sends_uint8_images_as_levels_and_other_images_as_fractions() -> None:
    """JSON integers are pixel levels (0-255) to the service, numbers with a fraction values
    in [0, 1]: uint8 images go as integers, other dtypes as to_tensor reads them."""
    transport = Scripted(*(reply(200, PREDICTED) for _ in range(3)))
    client = AdvisorClient(transport=transport)
    client.predict("r1", np.full((1, 2, 2), 200, dtype=np.uint8))
    client.predict("r1", np.ones((1, 2, 2), dtype=np.int64))  # [0, 1], as in to_tensor
    client.predict("r1", np.full((1, 2, 2), 0.5))
    sent = [body["instances"][0][0][0] for body in transport.bodies]
    assert sent == [200, 1.0, 0.5]
    assert [type(value) for value in sent] == [int, float, float]


def test_predict_images_given_as_pixel_levels(
    app: Any, glyph_npz: bytes, glyph_task: tuple[np.ndarray, np.ndarray]
) -> None:
    """The bug: the uint8 images the data layer reads were refused (sent as 0-255 integers,
    read as float64: learners.input_mismatch); raw JSON integers the same way."""
    key = create_key(app.extensions["advisor"].db, "tenant-a").key
    client = AdvisorClient.for_flask(app.test_client(), key)
    run = client.run(client.upload(glyph_npz, name="support.npz").id, family="scratch", n_trials=1)
    run = client.wait(run.id, poll=0, timeout=60, progress=False)
    assert run.state == "succeeded", run.error
    images = glyph_task[0][:6]
    levels = client.predict(run.id, images)
    fractions = client.predict(run.id, images / 255)
    assert levels.labels == fractions.labels
    assert np.allclose(levels.probabilities, fractions.probabilities, atol=1e-5)
    raw = app.test_client().post(
        f"/v1/runs/{run.id}/predict",
        json={"instances": images.tolist()},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert raw.status_code == 200 and raw.json["labels"] == levels.labels
    with pytest.raises(ApiError) as raised:  # 0-255 as floats: still 255 times too bright
        client.predict(run.id, images.astype(np.float64))
    assert raised.value.code == "learners.input_mismatch"


def test_predict_a_table_with_dates_and_gaps(app: Any) -> None:
    """Dates reach the service as the training file's text (no unseen category), gaps as
    null, filled the training data's way."""
    rng = np.random.default_rng(0)
    labels = np.array(["a", "b"] * 20)
    days = ["2024-01-05", "2024-02-01", "2024-03-10", "2024-04-22"] * 10
    x = np.where(labels == "a", -2.0, 2.0) + rng.normal(size=40)
    table = pd.DataFrame({"x": x, "day": days, "label": labels})
    client = AdvisorClient.for_flask(
        app.test_client(), create_key(app.extensions["advisor"].db, "tenant-a").key
    )
    data = client.upload(table.to_csv(index=False).encode(), name="days.csv", label="label")
    run = client.wait(
        client.run(data.id, family="scratch", n_trials=1).id, poll=0, timeout=60, progress=False
    )
    assert run.state == "succeeded", run.error
    rows = table.drop(columns="label").iloc[:4].copy()
    rows.loc[rows.index[0], "x"] = np.nan
    as_text = client.predict(run.id, rows)
    as_dates = client.predict(run.id, rows.assign(day=pd.to_datetime(rows["day"])))
    assert as_dates.labels == as_text.labels and as_dates.warnings == as_text.warnings
    assert not any("day" in warning for warning in as_dates.warnings)  # no unseen category
    with pytest.raises(ApiError) as raised:  # encoded arrays have no columns to fill
        client.predict(run.id, np.array([[np.nan, 1.0, 0.0, 0.0, 0.0]]))
    assert raised.value.code == "predict.bad_instances"


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
