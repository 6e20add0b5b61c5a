"""One service for the whole bad-input module: two tenants, each with a dataset and a run.

The fixture lines are copied from ``tests/api/conftest.py`` (``ADVISOR_HOME`` and limits set
through a monkeypatch, then ``create_app(get_settings(), immediate=True)``) rather than
imported: a ``tests`` package installed in site-packages shadows ``tests.*`` imports.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from flask_openapi3.openapi import OpenAPI
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.test import TestResponse

from advisor.settings import get_settings, reset_settings
from api import create_app
from api.auth import create_key

KiB = 1024

# Limits low enough that small files cross them (a class limit instead of a million labels).
LIMITS = {
    "MAX_UPLOAD_BYTES": str(256 * KiB),
    "MAX_CLASSES": "10",
    "MAX_ZIP_ENTRIES": "100",
    "RATE_LIMIT": "1000000/minute",
}

GOOD_CSV = ("a,b,label\n" + "".join(f"{i},{i % 7},{'xy'[i % 2]}\n" for i in range(20))).encode()
"""A valid dataset: 20 rows, 2 numeric features, 2 balanced classes."""


def upload(client: FlaskClient, data: bytes, name: str = "good.csv") -> TestResponse:
    """POST ``data`` as the ``file`` part of a multipart upload."""
    fields = {"file": (io.BytesIO(data), name)}
    return client.post("/v1/datasets", data=fields, content_type="multipart/form-data")


@dataclass
class Tenant:
    """A tenant's client (its own API key on every request) and what it owns."""

    client: FlaskClient
    dataset_id: str
    run_id: str


@dataclass
class Service:
    """The app, tenant A (who sends the bad inputs), tenant B (who must stay untouched)."""

    app: OpenAPI
    a: Tenant
    b: Tenant
    anonymous: FlaskClient
    artifacts: Path
    good_csv: bytes = GOOD_CSV

    def upload(self, client: FlaskClient, data: bytes, name: str = "good.csv") -> TestResponse:
        """POST ``data`` as the ``file`` part of a multipart upload by ``client``."""
        return upload(client, data, name)


def _tenant(app: OpenAPI, name: str) -> Tenant:
    client = app.test_client()
    key = create_key(app.extensions["advisor"].db, name).key
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    dataset = upload(client, GOOD_CSV)
    assert dataset.status_code == 201, dataset.get_data(as_text=True)
    payload = {"dataset_id": dataset.json["id"], "family": "scratch", "n_trials": 1}
    run = client.post("/v1/runs", json=payload)
    assert run.status_code == 202 and run.json["state"] == "succeeded", run.json
    return Tenant(client, dataset.json["id"], run.json["id"])


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """Built once per module; every test leaves it as it found it (or fails saying so)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ADVISOR_HOME", str(tmp_path_factory.mktemp("bad-inputs-home")))
        patch.delenv("ADVISOR_OPEN_ACCESS", raising=False)
        for name, value in LIMITS.items():
            patch.setenv(f"ADVISOR_{name}", value)
        reset_settings()
        settings = get_settings()
        app = create_app(settings, immediate=True)
        yield Service(
            app=app,
            a=_tenant(app, "tenant-a"),
            b=_tenant(app, "tenant-b"),
            anonymous=app.test_client(),
            artifacts=Path(settings.artifacts),
        )
    reset_settings()


@pytest.fixture(scope="module")
def http_server(service: Service) -> Iterator[BaseWSGIServer]:
    """The same app behind werkzeug's real HTTP server, for requests a test client cannot
    malform (header and request-line limits live in the server, not in the app)."""
    server = make_server("127.0.0.1", 0, service.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    thread.join(timeout=5)
