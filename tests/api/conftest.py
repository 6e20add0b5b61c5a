"""Shared fixtures of the REST API tests: apps on a per-test ADVISOR_HOME, keys, data files."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from flask.testing import FlaskClient
from flask_openapi3.openapi import OpenAPI
from sklearn.datasets import load_iris
from werkzeug.test import TestResponse

from advisor.datasets import load_builtin, sample_task
from advisor.settings import get_settings, reset_settings
from api import create_app
from api.auth import create_key
from api.services import Services

AppFactory = Callable[..., OpenAPI]
Send = Callable[..., TestResponse]


@pytest.fixture
def make_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppFactory]:
    """Build apps on one fresh ADVISOR_HOME: ``make_app(immediate=True, rate_limit="3/minute")``.

    Keyword settings become ``ADVISOR_<NAME>`` variables and stay set for later apps of the test.
    """
    monkeypatch.setenv("ADVISOR_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("ADVISOR_OPEN_ACCESS", raising=False)

    def make(*, immediate: bool = True, **settings: Any) -> OpenAPI:
        for name, value in settings.items():
            monkeypatch.setenv(f"ADVISOR_{name.upper()}", str(value))
        reset_settings()
        return create_app(get_settings(), immediate=immediate)

    yield make
    reset_settings()


def authorized(app: OpenAPI, tenant: str) -> FlaskClient:
    """A test client that sends a new key of ``tenant`` on every request."""
    client = app.test_client()
    services: Services = app.extensions["advisor"]
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {create_key(services.db, tenant).key}"
    return client


@pytest.fixture
def client_of() -> Callable[[OpenAPI, str], FlaskClient]:
    """``client_of(app, tenant)``: a test client with a new key of ``tenant``."""
    return authorized


@pytest.fixture
def app(make_app: AppFactory) -> OpenAPI:
    """An app that runs jobs inside the request (immediate mode)."""
    return make_app()


@pytest.fixture
def client(app: OpenAPI) -> FlaskClient:
    """Tenant A's client."""
    return authorized(app, "tenant-a")


@pytest.fixture(scope="session")
def iris_csv() -> bytes:
    """Iris as CSV; the label column is ``species`` (names, not codes)."""
    iris = load_iris(as_frame=True)
    frame = iris.data.copy()
    frame["species"] = iris.target_names[iris.target]
    return frame.to_csv(index=False).encode()


@pytest.fixture(scope="session")
def iris_rows() -> np.ndarray:
    """The iris features, as they would be sent to predict."""
    return np.asarray(load_iris().data, dtype=np.float64)


@pytest.fixture(scope="session")
def glyph_task() -> tuple[np.ndarray, np.ndarray]:
    """The support set of a 5-way 5-shot task of Greek glyphs (25 images, 28x28 uint8)."""
    greek = load_builtin("glyphs", domain="greek", seed=0)
    task = sample_task(greek, ways=5, shots=5, queries=0, seed=0)
    return task.X_support, task.y_support


@pytest.fixture(scope="session")
def glyph_npz(glyph_task: tuple[np.ndarray, np.ndarray]) -> bytes:
    """The glyph support set as NPZ: arrays ``X`` and ``y`` (labels as integer codes)."""
    X, y = glyph_task
    buffer = io.BytesIO()
    np.savez(buffer, X=X, y=np.unique(y, return_inverse=True)[1].astype(np.int64))
    return buffer.getvalue()


def upload_to(
    client: FlaskClient, data: bytes, name: str = "data.csv", **form: str
) -> TestResponse:
    """POST a file to /v1/datasets with form fields."""
    fields: dict[str, Any] = {"file": (io.BytesIO(data), name), **form}
    return client.post("/v1/datasets", data=fields, content_type="multipart/form-data")


@pytest.fixture
def post_file() -> Send:
    """``post_file(client, data, name, **form)``: upload with any client."""
    return upload_to


@pytest.fixture
def upload(client: FlaskClient) -> Send:
    """``upload(data, name, **form)``: upload as tenant A."""

    def send(data: bytes, name: str = "data.csv", **form: str) -> TestResponse:
        return upload_to(client, data, name, **form)

    return send


@pytest.fixture
def iris_id(upload: Send, iris_csv: bytes) -> str:
    """Tenant A's uploaded iris dataset."""
    answer = upload(iris_csv, "iris.csv", label="species")
    assert answer.status_code == 201, answer.json
    dataset_id: str = answer.json["id"]
    return dataset_id


def post_run(client: FlaskClient, dataset_id: str, **body: Any) -> TestResponse:
    """POST /v1/runs: a 2-trial scratch run unless ``body`` says otherwise."""
    payload = {"dataset_id": dataset_id, "family": "scratch", "n_trials": 2, **body}
    return client.post("/v1/runs", json=payload)


@pytest.fixture
def start_run() -> Send:
    """``start_run(client, dataset_id, **body)``: POST a 2-trial scratch run."""
    return post_run


@dataclass
class Seeded:
    """An app shared by the session's read-only tests: tenant A's iris dataset and run."""

    client: FlaskClient
    other: FlaskClient
    dataset_id: str
    run_id: str


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory, iris_csv: bytes) -> Iterator[Seeded]:
    """Built once: a tuned run costs seconds. Tests that use it must not change it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ADVISOR_HOME", str(tmp_path_factory.mktemp("seeded-home")))
        patch.setenv("ADVISOR_RATE_LIMIT", "100000/minute")
        patch.delenv("ADVISOR_OPEN_ACCESS", raising=False)
        reset_settings()
        app = create_app(get_settings(), immediate=True)
    reset_settings()
    client, other = authorized(app, "tenant-a"), authorized(app, "tenant-b")
    dataset = upload_to(client, iris_csv, "iris.csv", label="species")
    assert dataset.status_code == 201, dataset.json
    run = post_run(client, dataset.json["id"])
    assert run.status_code == 202 and run.json["state"] == "succeeded", run.json
    yield Seeded(client, other, dataset.json["id"], run.json["id"])


@pytest.fixture
def shared_client(seeded: Seeded) -> FlaskClient:
    """Tenant A's client on the shared app."""
    return seeded.client


@pytest.fixture
def shared_other(seeded: Seeded) -> FlaskClient:
    """Tenant B's client on the shared app."""
    return seeded.other


@pytest.fixture
def shared_dataset_id(seeded: Seeded) -> str:
    """Tenant A's iris dataset on the shared app."""
    return seeded.dataset_id


@pytest.fixture
def run_id(seeded: Seeded) -> str:
    """Tenant A's succeeded 2-trial scratch run on iris, on the shared app."""
    return seeded.run_id


def problem_of(answer: TestResponse, status: int, code: str) -> dict[str, Any]:
    """The answer is a problem+json of ``status`` and ``code``; returns its body."""
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert answer.mimetype == "application/problem+json", answer.headers
    body: dict[str, Any] = answer.get_json(force=True)
    assert body["status"] == status and body["code"] == code, body
    assert body["title"] and "detail" in body
    return body


@pytest.fixture
def expect_problem() -> Callable[[TestResponse, int, str], dict[str, Any]]:
    """``expect_problem(answer, status, code)``: assert a problem+json answer; its body."""
    return problem_of


PG_HOST = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


def _postgres_missing() -> str | None:
    """Why the PostgreSQL variants cannot run here, or None."""
    try:
        import psycopg  # the optional 'dist' extra
    except ImportError as error:
        return f"the 'dist' extra is not installed ({error})"
    try:
        psycopg.connect(PG_HOST, connect_timeout=2).close()
    except Exception as error:
        return f"PostgreSQL is not reachable on 127.0.0.1:5432 ({type(error).__name__})"
    return None


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "postgresql",
            marks=pytest.mark.skipif(
                _postgres_missing() is not None, reason=f"PostgreSQL: {_postgres_missing()}"
            ),
        ),
    ]
)
def database(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """Settings of the metadata database: the embedded SQLite, or a fresh PostgreSQL one."""
    if request.param == "sqlite":
        yield {}
        return
    import psycopg  # the optional 'dist' extra

    name = f"advisor_locks_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_HOST, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield {"database_url": f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"}
    finally:
        with psycopg.connect(PG_HOST, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def queued_app(make_app: AppFactory, database: dict[str, str], tmp_path: Any) -> Any:
    """An app whose queue nobody consumes: runs stay queued, sources stay building."""
    optuna = {"optuna_storage": f"sqlite:///{tmp_path / 'optuna.db'}"}  # quicker than PG's
    return make_app(immediate=False, max_concurrent_runs=4, **optuna, **database)
