"""Who may call the service and how often: open access for loopback clients only, one rate
limit budget per API key across routes (counted by the key's record, never the secret), requests
without a valid key limited per client address, the limit's setting checked at startup, the
limit's storage in readiness, Retry-After on the rate limit's 429 only, malformed JSON bodies as
documented, and /metrics summed over gunicorn's worker processes."""

from __future__ import annotations

import logging
import os
import re
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from advisor.errors import ConfigurationError
from advisor.settings import get_settings, reset_settings
from api.auth import create_key

Problem = Callable[[TestResponse, int, str], dict[str, Any]]
AppFactory = Callable[..., Any]
ROOT = Path(__file__).resolve().parents[2]
REDIS = "redis://127.0.0.1:6379"


def client_from(app: Any, address: str, key: str | None = None) -> FlaskClient:
    """A test client whose requests come from ``address`` (with ``key``, if given)."""
    client: FlaskClient = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    if key is not None:
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return client


def new_key(app: Any, tenant: str = "tenant-a") -> str:
    key: str = create_key(app.extensions["advisor"].db, tenant).key
    return key


def free_port() -> int:
    """A local TCP port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _redis_missing() -> str | None:
    """Why the tests that need a live Redis cannot run here, or None."""
    try:
        import redis
    except ImportError as error:
        return f"the 'dist' extra is not installed ({error})"
    try:
        redis.Redis.from_url(f"{REDIS}/0", socket_connect_timeout=2).ping()
    except Exception as error:
        return f"Redis is not reachable on 127.0.0.1:6379 ({type(error).__name__})"
    return None


# -- open access: loopback clients only --------------------------------------------------------


def test_open_access_serves_loopback_clients_only(
    make_app: AppFactory, expect_problem: Problem
) -> None:
    """The bug: under gunicorn on 0.0.0.0, key-less requests from anywhere got 200."""
    app = make_app(open_access=1)
    assert client_from(app, "127.0.0.1").get("/v1/datasets").status_code == 200
    assert client_from(app, "::1").get("/v1/datasets").status_code == 200
    remote = client_from(app, "203.0.113.7")
    expect_problem(remote.get("/v1/datasets"), 401, "auth.unauthorized")
    expect_problem(remote.post("/v1/runs", json={}), 401, "auth.unauthorized")
    # a proxy on this machine forwards requests from anywhere: not open to them either
    proxied = client_from(app, "127.0.0.1").get(
        "/v1/datasets", headers={"X-Forwarded-For": "203.0.113.7"}
    )
    expect_problem(proxied, 401, "auth.unauthorized")
    # a remote client with a key is served as usual
    keyed = client_from(app, "203.0.113.7", new_key(app)).get("/v1/datasets")
    assert keyed.status_code == 200


@pytest.mark.parametrize(
    ("address", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.10.0.3", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("10.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("2001:db8::1", False),
        ("localhost", False),  # a name, not an address the server saw
        ("", False),
        (None, False),
    ],
)
def test_loopback_addresses(address: str | None, loopback: bool) -> None:
    from api.auth import is_loopback_address

    assert is_loopback_address(address) is loopback


def test_a_forwarded_request_is_not_local() -> None:
    from api.auth import is_local_request

    assert is_local_request("127.0.0.1", {})
    for header in ("Forwarded", "X-Forwarded-For", "X-Real-IP"):
        assert not is_local_request("127.0.0.1", {header: "for=203.0.113.7"})
        assert not is_local_request(None, {header: "for=203.0.113.7"})
    assert not is_local_request("192.0.2.1", {})
    assert not is_local_request("", {})  # gunicorn on a Unix socket: a local proxy's
    assert not is_local_request(None, {})  # no REMOTE_ADDR at all: fail closed


# -- what the rate limit counts ----------------------------------------------------------------


def test_the_limiter_never_stores_or_logs_the_key(
    make_app: AppFactory, expect_problem: Problem, caplog: pytest.LogCaptureFixture
) -> None:
    """The bug: the limiter keyed by the raw key, so Redis key names and its 429 log line
    held the full secret."""
    caplog.set_level(logging.INFO, logger="flask-limiter")
    app = make_app(rate_limit="2/minute")
    key = new_key(app)
    client = client_from(app, "127.0.0.1", key)
    assert [client.get("/v1/datasets").status_code for _ in range(2)] == [200, 200]
    expect_problem(client.get("/v1/datasets"), 429, "http.429")
    (limiter,) = app.extensions["limiter"]
    stored = list(limiter.storage.storage)
    assert stored, "the limiter counted nothing"
    secret = key.split("_", 2)[2]
    for name in stored:
        assert key not in name and secret not in name, name
    assert "exceeded" in caplog.text  # flask-limiter's line on a 429 ...
    assert secret not in caplog.text  # ... without the secret


@pytest.mark.skipif(_redis_missing() is not None, reason=f"Redis: {_redis_missing()}")
def test_redis_key_names_never_hold_the_key(make_app: AppFactory) -> None:
    import redis

    url = f"{REDIS}/2"
    app = make_app(rate_limit="5/minute", rate_limit_storage=url)
    key = new_key(app)
    client = client_from(app, "127.0.0.1", key)
    connection = redis.Redis.from_url(url)
    before = set(connection.scan_iter(match="*LIMITER*"))
    written: set[bytes] = set()
    try:
        assert client.get("/v1/datasets").status_code == 200
        written = set(connection.scan_iter(match="*LIMITER*")) - before
        assert written, "nothing was counted in Redis"
        secret = key.split("_", 2)[2]
        assert not [n for n in written if secret.encode() in n or key.encode() in n], written
    finally:
        if written:
            connection.delete(*written)  # this test's counters only


def test_one_budget_per_key_across_routes(make_app: AppFactory, expect_problem: Problem) -> None:
    """The bug: ADVISOR_RATE_LIMIT=3/minute allowed 3 requests on each route."""
    app = make_app(rate_limit="3/minute")
    client = client_from(app, "127.0.0.1", new_key(app))
    answers = [client.get(path) for path in ("/v1/datasets", "/v1/runs", "/v1/sources")]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0"]
    limited = client.post("/v1/recommendations", json={"dataset_id": "nope"})
    expect_problem(limited, 429, "http.429")
    assert 0 < int(limited.headers["Retry-After"]) <= 60
    other = client_from(app, "127.0.0.1", new_key(app, "tenant-b"))
    assert other.get("/v1/runs").status_code == 200  # each key has its own budget
    for path in ("/healthz", "/readyz", "/metrics", "/openapi.json", "/docs/"):
        assert client.get(path).status_code == 200, path  # exempt, as before


def test_requests_without_a_valid_key_count_per_address(
    make_app: AppFactory, expect_problem: Problem
) -> None:
    """The bug: auth refused them before the limiter saw them, so key guessing was unlimited."""
    app = make_app(rate_limit="3/minute")
    guesser = client_from(app, "198.51.100.1", "adv_00000000_guess")
    for _ in range(3):
        expect_problem(guesser.get("/v1/datasets"), 401, "auth.unauthorized")
    expect_problem(guesser.get("/v1/runs"), 429, "http.429")
    anonymous = client_from(app, "198.51.100.1")  # no key: the same address's budget
    expect_problem(anonymous.get("/v1/datasets"), 429, "http.429")
    elsewhere = client_from(app, "198.51.100.2", "adv_00000000_guess")
    expect_problem(elsewhere.get("/v1/datasets"), 401, "auth.unauthorized")
    keyed = client_from(app, "198.51.100.1", new_key(app))  # a valid key has its own budget
    assert keyed.get("/v1/datasets").status_code == 200


@pytest.mark.parametrize("value", ["lots", "0/minute", "3/fortnight", "", "10/second;many"])
def test_an_invalid_rate_limit_is_refused_at_startup(make_app: AppFactory, value: str) -> None:
    """The bug: ADVISOR_RATE_LIMIT=lots started, then every keyed request answered 500."""
    with pytest.raises(ConfigurationError) as raised:
        make_app(rate_limit=value)
    assert raised.value.code == "config.invalid"
    assert "ADVISOR_RATE_LIMIT" in raised.value.message
    assert "600/minute" in raised.value.message  # says what it takes


@pytest.mark.parametrize("value", ["3/minute", "10 per second", "10/second;600/minute"])
def test_rate_limit_notations(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("ADVISOR_RATE_LIMIT", value)
    reset_settings()
    try:
        assert get_settings().rate_limit == value
    finally:
        reset_settings()


# -- the rate limit's storage ------------------------------------------------------------------


@pytest.fixture
def dead_storage_app(make_app: AppFactory) -> Any:
    """An app whose rate-limit storage is a Redis nobody runs."""
    pytest.importorskip("redis", reason="the 'dist' extra (redis) is not installed")
    return make_app(rate_limit_storage=f"redis://127.0.0.1:{free_port()}/1")


def test_not_ready_while_the_rate_limit_storage_is_down(dead_storage_app: Any) -> None:
    """The bug: /readyz said ready while every /v1 request answered 503."""
    ready = dead_storage_app.test_client().get("/readyz")
    assert ready.status_code == 503, ready.json
    assert ready.json["status"] == "unavailable"
    checks = ready.json["checks"]
    assert checks["database"] == "ok" and checks["queue"] == "ok"
    assert checks["rate_limit_storage"].startswith("unavailable")
    assert ready.headers["Retry-After"] == "5"


def test_a_rate_limit_storage_outage_is_blamed_on_it(
    dead_storage_app: Any, expect_problem: Problem
) -> None:
    """The bug: the 503 said "The database or queue is unavailable"."""
    client = client_from(dead_storage_app, "127.0.0.1", new_key(dead_storage_app))
    answer = client.get("/v1/datasets")
    body = expect_problem(answer, 503, "service.unavailable")
    assert "rate-limit storage" in body["detail"] and "database" not in body["detail"]
    assert answer.headers["Retry-After"] == "5"
    assert client.get("/healthz").status_code == 200  # exempt from the limit, as before


@pytest.mark.skipif(_redis_missing() is not None, reason=f"Redis: {_redis_missing()}")
def test_ready_with_a_live_rate_limit_storage(make_app: AppFactory) -> None:
    app = make_app(rate_limit_storage=f"{REDIS}/2")
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 200
    assert ready.json["checks"] == {"database": "ok", "queue": "ok", "rate_limit_storage": "ok"}


# -- Retry-After ----------------------------------------------------------------------------------


def test_too_many_runs_is_a_429_without_retry_after(
    make_app: AppFactory,
    iris_csv: bytes,
    post_file: Callable[..., TestResponse],
    start_run: Callable[..., TestResponse],
    expect_problem: Problem,
) -> None:
    """The bug: every 429 said Retry-After: 60, so the client waited on run.too_many."""
    app = make_app(immediate=False, max_concurrent_runs=1)
    client = client_from(app, "127.0.0.1", new_key(app))
    uploaded = post_file(client, iris_csv, "iris.csv", label="species")
    assert uploaded.status_code == 201 and uploaded.json is not None, uploaded.json
    dataset_id = uploaded.json["id"]
    assert start_run(client, dataset_id).status_code == 202
    refused = start_run(client, dataset_id)
    expect_problem(refused, 429, "run.too_many")
    assert "Retry-After" not in refused.headers
    assert "X-RateLimit-Remaining" in refused.headers  # still counted against the limit


# -- malformed JSON bodies -------------------------------------------------------------------------


def test_a_malformed_json_body_is_request_invalid_as_documented(
    make_app: AppFactory, expect_problem: Problem
) -> None:
    """The docs said a malformed request is http.400; the service answers 422 request.invalid
    (flask-openapi3 reads a body that does not parse as none). The docs now say so."""
    app = make_app()
    client = client_from(app, "127.0.0.1", new_key(app))
    for body in ("{bad", "[1, 2", ""):
        answer = client.post("/v1/runs", data=body, content_type="application/json")
        expect_problem(answer, 422, "request.invalid")
    errors_page = (ROOT / "docs" / "ERRORS.md").read_text()
    (row,) = re.findall(r"^\| `request\.invalid` \| (.*) \|$", errors_page, flags=re.MULTILINE)
    assert "JSON body that does not parse" in row
    (row,) = re.findall(r"^\| `http\.400` \| (.*) \|$", errors_page, flags=re.MULTILINE)
    assert "request.invalid" in row  # says where malformed JSON goes instead
    api_page = (ROOT / "docs" / "API.md").read_text()
    assert "not valid JSON" in api_page


# -- /metrics over several worker processes ----------------------------------------------------

MULTIPROCESS_SCRIPT = """
import os, sys
from api import create_app
from advisor.settings import get_settings

app = create_app(get_settings(), immediate=True)
child = os.fork()  # a second worker process, as gunicorn forks them from a preloaded app
if child == 0:
    app.test_client().get("/healthz")
    os._exit(0)
os.waitpid(child, 0)
client = app.test_client()
client.get("/healthz")
sys.stdout.write(client.get("/metrics").get_data(as_text=True))
"""


@pytest.mark.slow  # a fresh interpreter imports the service (torch, sklearn): seconds
def test_metrics_sum_every_worker_process(tmp_path: Path) -> None:
    """The bug: under gunicorn each worker answered its own counts (1, 1, 2, 1 across scrapes)."""
    metrics_folder = tmp_path / "prometheus"
    metrics_folder.mkdir()
    environment = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_folder),
        "ADVISOR_HOME": str(tmp_path / "home"),
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    environment.pop("ADVISOR_OPEN_ACCESS", None)
    done = subprocess.run(
        [sys.executable, "-c", MULTIPROCESS_SCRIPT],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    from prometheus_client.parser import text_string_to_metric_families

    families = {f.name: f for f in text_string_to_metric_families(done.stdout)}
    counted = {
        (s.labels["route"], s.labels["status"]): s.value
        for s in families["advisor_http_requests"].samples
        if s.name.endswith("_total")
    }
    assert counted[("/healthz", "200")] == 2, counted  # one from each process
    assert "advisor_runs" in families  # the database's gauge lines are still there
    assert list(metrics_folder.iterdir()), "no process wrote its values to the folder"


def test_a_missing_metrics_folder_is_a_configuration_error(
    make_app: AppFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(ConfigurationError, match="PROMETHEUS_MULTIPROC_DIR"):
        make_app()
