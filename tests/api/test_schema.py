"""Schemathesis against the app in open-access mode: no 5xx, answers conform to the schema.

schemathesis' lazy pytest loader (``from_fixture``) fails on pytest 9 (``Function._nodeid``),
so each operation gets a plain Hypothesis test over ``APIOperation.as_strategy()``: once with
generated path ids (mostly 404s) and once with the ids of a real dataset and run.
POST /v1/runs and POST /v1/recommendations are not fuzzed: a valid generated body starts a
tuned run or needs the knowledge base; a fixed valid run is checked instead.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from advisor.settings import get_settings, reset_settings
from api import create_app

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXCLUDED = {("POST", "/v1/runs"), ("POST", "/v1/recommendations")}
OPERATIONS = [
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("POST", "/v1/datasets"),
    ("GET", "/v1/datasets"),
    ("GET", "/v1/datasets/{dataset_id}"),
    ("GET", "/v1/datasets/{dataset_id}/meta-features"),
    ("GET", "/v1/sources"),
    ("POST", "/v1/sources"),
    ("GET", "/v1/sources/{name}"),
    ("DELETE", "/v1/sources/{name}"),  # 'glyphs': built in, refused
    ("GET", "/v1/recommendations/{recommendation_id}"),
    ("GET", "/v1/recommendations/{recommendation_id}/report"),
    ("GET", "/v1/runs"),
    ("GET", "/v1/runs/{run_id}"),
    ("POST", "/v1/runs/{run_id}/cancel"),
    ("GET", "/v1/runs/{run_id}/result"),
    ("GET", "/v1/runs/{run_id}/report"),
    ("POST", "/v1/runs/{run_id}/predict"),
    ("POST", "/v1/runs/{run_id}/compare"),
    ("DELETE", "/v1/runs/{run_id}"),  # last but one: it deletes the seeded run
    ("DELETE", "/v1/datasets/{dataset_id}"),  # last: it deletes the seeded dataset
]


class OpenApp:
    """The schema of an open-access app holding one iris dataset and one succeeded run."""

    def __init__(self, schema: Any, dataset_id: str, run_id: str) -> None:
        self.schema, self.dataset_id, self.run_id = schema, dataset_id, run_id


def from_this_machine(wsgi_app: Any) -> Any:
    """The app, called as a WSGI server on this machine calls it: with a loopback
    ``REMOTE_ADDR`` (schemathesis's client sets none, and open access fails closed)."""

    def call(environ: dict[str, Any], start_response: Any) -> Any:
        environ.setdefault("REMOTE_ADDR", "127.0.0.1")
        return wsgi_app(environ, start_response)

    return call


@pytest.fixture(scope="module")
def open_app(tmp_path_factory: pytest.TempPathFactory, iris_csv: bytes) -> Iterator[OpenApp]:
    """One seeded app for the module (seeding runs a tuned run: too slow for every test)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ADVISOR_HOME", str(tmp_path_factory.mktemp("schema-home")))
        patch.setenv("ADVISOR_OPEN_ACCESS", "1")
        reset_settings()
        app = create_app(get_settings(), immediate=True)
        app.wsgi_app = from_this_machine(app.wsgi_app)  # type: ignore[method-assign]
        client = app.test_client()
        data = {"file": (io.BytesIO(iris_csv), "iris.csv"), "label": "species"}
        dataset_id = client.post("/v1/datasets", data=data).json["id"]
        body = {"dataset_id": dataset_id, "family": "scratch", "n_trials": 2}
        run_id = client.post("/v1/runs", json=body).json["id"]
        yield OpenApp(schemathesis.openapi.from_wsgi("/openapi.json", app), dataset_id, run_id)
    reset_settings()


def without_key(case: Any) -> Any:
    """Open access: drop the made-up API key the security scheme makes schemathesis send."""
    case.headers = {k: v for k, v in (case.headers or {}).items() if k != "Authorization"}
    return case


def test_schema_is_valid_and_every_operation_is_covered(open_app: OpenApp) -> None:
    open_app.schema.validate()  # against the OpenAPI 3.1 meta-schema
    found = {(r.ok().method.upper(), r.ok().path) for r in open_app.schema.get_all_operations()}
    assert found == set(OPERATIONS) | EXCLUDED


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_operation_conforms_to_the_schema(open_app: OpenApp, method: str, path: str) -> None:
    operation = open_app.schema[path][method]
    known = {
        "dataset_id": open_app.dataset_id,
        "run_id": open_app.run_id,
        "name": "glyphs",
        "recommendation_id": "0123abcd",
    }
    used = {k: v for k, v in known.items() if f"{{{k}}}" in path}
    statuses: list[int] = []

    def fuzz_with(strategy: Any) -> None:
        @given(case=strategy)
        @settings(
            max_examples=5, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def fuzz(case: Any) -> None:
            statuses.append(without_key(case).call_and_validate(checks=CHECKS).status_code)

        fuzz()

    fuzz_with(operation.as_strategy())
    if used:
        fuzz_with(operation.as_strategy(path_parameters=used))
    assert statuses and all(status < 500 for status in statuses)
    if not used and method == "GET":
        assert 200 in statuses


def test_upload_run_and_report_answers_conform(open_app: OpenApp, iris_csv: bytes) -> None:
    upload = open_app.schema["/v1/datasets"]["POST"]
    case = upload.Case(
        body={"file": iris_csv, "label": "species"}, media_type="multipart/form-data"
    )
    uploaded = without_key(case).call_and_validate(checks=CHECKS)
    assert uploaded.status_code == 201
    runs = open_app.schema["/v1/runs"]["POST"]
    body = {"dataset_id": uploaded.json()["id"], "family": "scratch", "n_trials": 1}
    started = without_key(runs.Case(body=body)).call_and_validate(checks=CHECKS)
    assert started.status_code == 202 and started.json()["state"] == "succeeded"
    report = open_app.schema["/v1/runs/{run_id}/report"]["GET"]
    for fmt in ("html", "md", "json"):
        case = report.Case(path_parameters={"run_id": started.json()["id"]}, query={"format": fmt})
        assert without_key(case).call_and_validate(checks=CHECKS).status_code == 200
