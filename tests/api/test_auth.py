"""API keys, open access, tenant isolation, rate limits and the ``advisor keys`` commands."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from advisor.cli import cli
from advisor.errors import NotFoundError
from api.auth import authenticate, create_key, revoke_key
from api.db import ApiKey

Send = Callable[..., TestResponse]
Problem = Callable[[TestResponse, int, str], dict[str, Any]]
AppFactory = Callable[..., Any]

V1_ROUTES = [
    ("GET", "/v1/datasets"),
    ("POST", "/v1/datasets"),
    ("GET", "/v1/datasets/abc"),
    ("DELETE", "/v1/datasets/abc"),
    ("GET", "/v1/datasets/abc/meta-features"),
    ("GET", "/v1/sources"),
    ("POST", "/v1/sources"),
    ("GET", "/v1/sources/glyphs"),
    ("DELETE", "/v1/sources/glyphs"),
    ("POST", "/v1/recommendations"),
    ("GET", "/v1/recommendations/abc"),
    ("GET", "/v1/recommendations/abc/report"),
    ("GET", "/v1/runs"),
    ("POST", "/v1/runs"),
    ("GET", "/v1/runs/abc"),
    ("POST", "/v1/runs/abc/cancel"),
    ("GET", "/v1/runs/abc/result"),
    ("GET", "/v1/runs/abc/report"),
    ("POST", "/v1/runs/abc/predict"),
]


@pytest.mark.parametrize(("method", "path"), V1_ROUTES, ids=[f"{m} {p}" for m, p in V1_ROUTES])
def test_no_key_is_401_on_every_route(
    shared_client: FlaskClient, expect_problem: Problem, method: str, path: str
) -> None:
    anonymous = shared_client.application.test_client()
    body = expect_problem(anonymous.open(path, method=method), 401, "auth.unauthorized")
    assert body["instance"] == path


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer adv_00000000_not-a-key"},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"X-API-Key": "adv_nope"},
    ],
    ids=["unknown", "empty-bearer", "basic", "unknown-x-api-key"],
)
def test_bad_key_is_401(
    shared_client: FlaskClient, expect_problem: Problem, headers: dict[str, str]
) -> None:
    anonymous = shared_client.application.test_client()
    expect_problem(anonymous.get("/v1/datasets", headers=headers), 401, "auth.unauthorized")


def test_key_format_and_storage(app: Any) -> None:
    db = app.extensions["advisor"].db
    made = create_key(db, "tenant-a")
    assert re.fullmatch(r"adv_[0-9a-f]{8}_[A-Za-z0-9_-]{40,}", made.key)
    assert made.key.startswith(f"adv_{made.prefix}_") and made.tenant == "tenant-a"
    with db.session() as session:
        stored = session.scalars(select(ApiKey)).all()
    assert [k.hash for k in stored] == [hashlib.sha256(made.key.encode()).hexdigest()]
    assert made.key.split("_", 2)[2] not in {k.hash for k in stored}
    assert authenticate(db, made.key, open_access=False) == stored[0].tenant_id


def test_x_api_key_header_and_revocation(app: Any, expect_problem: Problem) -> None:
    db = app.extensions["advisor"].db
    key = create_key(db, "tenant-a").key
    client = app.test_client()
    assert client.get("/v1/datasets", headers={"X-API-Key": key}).status_code == 200
    bearer = {"Authorization": f"Bearer {key}"}
    assert client.get("/v1/datasets", headers=bearer).status_code == 200
    assert revoke_key(db, key) == 1
    expect_problem(client.get("/v1/datasets", headers=bearer), 401, "auth.unauthorized")
    with pytest.raises(NotFoundError) as raised:  # already revoked
        revoke_key(db, key)
    assert raised.value.code == "auth.unknown_key"


def test_revoke_by_prefix_spares_other_keys(app: Any, expect_problem: Problem) -> None:
    db = app.extensions["advisor"].db
    first, second = create_key(db, "tenant-a"), create_key(db, "tenant-a")
    assert revoke_key(db, first.prefix) == 1
    client = app.test_client()
    revoked = client.get("/v1/datasets", headers={"Authorization": f"Bearer {first.key}"})
    expect_problem(revoked, 401, "auth.unauthorized")
    kept = client.get("/v1/datasets", headers={"Authorization": f"Bearer {second.key}"})
    assert kept.status_code == 200


def test_open_access_serves_without_key(
    make_app: AppFactory, iris_csv: bytes, post_file: Send, expect_problem: Problem
) -> None:
    app = make_app(open_access=1)
    anonymous = app.test_client()
    uploaded = post_file(anonymous, iris_csv, "iris.csv", label="species")
    assert uploaded.status_code == 201
    listing = anonymous.get("/v1/datasets").json
    assert [d["id"] for d in listing["items"]] == [uploaded.json["id"]]
    # a key still means its own tenant, which does not see the local tenant's data
    key = create_key(app.extensions["advisor"].db, "tenant-a").key
    keyed = anonymous.get("/v1/datasets", headers={"Authorization": f"Bearer {key}"})
    assert keyed.status_code == 200 and keyed.json["total"] == 0
    wrong = anonymous.get("/v1/datasets", headers={"Authorization": "Bearer adv_x_y"})
    expect_problem(wrong, 401, "auth.unauthorized")


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics", "/openapi.json", "/docs/"])
def test_public_routes_need_no_key(shared_client: FlaskClient, path: str) -> None:
    assert shared_client.application.test_client().get(path).status_code == 200


# -- tenant isolation ---------------------------------------------------------------------


def test_other_tenant_gets_404_for_a_dataset(
    shared_other: FlaskClient,
    shared_client: FlaskClient,
    shared_dataset_id: str,
    expect_problem: Problem,
) -> None:
    dataset = f"/v1/datasets/{shared_dataset_id}"
    expect_problem(shared_other.get(dataset), 404, "dataset.unknown")
    expect_problem(shared_other.delete(dataset), 404, "dataset.unknown")
    expect_problem(shared_other.get(f"{dataset}/meta-features"), 404, "dataset.unknown")
    run = {"dataset_id": shared_dataset_id, "family": "scratch", "n_trials": 1}
    expect_problem(shared_other.post("/v1/runs", json=run), 404, "dataset.unknown")
    run_with_test = {**run, "dataset_id": "0000", "test_dataset_id": shared_dataset_id}
    expect_problem(shared_other.post("/v1/runs", json=run_with_test), 404, "dataset.unknown")
    source = {"name": "stolen", "dataset_id": shared_dataset_id}
    expect_problem(shared_other.post("/v1/sources", json=source), 404, "dataset.unknown")
    recommend = {"dataset_id": shared_dataset_id}
    expect_problem(shared_other.post("/v1/recommendations", json=recommend), 404, "dataset.unknown")
    assert shared_other.get("/v1/datasets").json["total"] == 0
    assert shared_client.get(dataset).status_code == 200  # still there for its owner


def test_other_tenant_gets_404_for_a_run(
    shared_other: FlaskClient, shared_client: FlaskClient, run_id: str, expect_problem: Problem
) -> None:
    run = f"/v1/runs/{run_id}"
    expect_problem(shared_other.get(run), 404, "run.unknown")
    expect_problem(shared_other.post(f"{run}/cancel"), 404, "run.unknown")
    expect_problem(shared_other.get(f"{run}/result"), 404, "run.unknown")
    expect_problem(shared_other.get(f"{run}/report"), 404, "run.unknown")
    predict = shared_other.post(f"{run}/predict", json={"instances": [[5.1, 3.5, 1.4, 0.2]]})
    expect_problem(predict, 404, "run.unknown")
    assert shared_other.get("/v1/runs").json["total"] == 0
    assert shared_client.get(run).json["state"] == "succeeded"


# -- rate limits --------------------------------------------------------------------------


def test_rate_limit_per_key(make_app: AppFactory, client_of: Any, expect_problem: Problem) -> None:
    app = make_app(rate_limit="3/minute")
    client, other = client_of(app, "tenant-a"), client_of(app, "tenant-b")
    answers = [client.get("/v1/datasets") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0"]
    assert "Retry-After" not in answers[0].headers  # only a 429 says when to come back
    limited = client.get("/v1/datasets")
    expect_problem(limited, 429, "http.429")
    assert 0 < int(limited.headers["Retry-After"]) <= 60
    assert other.get("/v1/datasets").status_code == 200  # each key has its own budget
    assert all(client.get("/healthz").status_code == 200 for _ in range(5))  # exempt


# -- the advisor keys commands ------------------------------------------------------------


def test_keys_create_and_revoke_commands(app: Any, expect_problem: Problem) -> None:
    runner = CliRunner()
    created = runner.invoke(cli, ["keys", "create", "--tenant", "t"])
    assert created.exit_code == 0, created.output
    key = created.stdout.strip()
    assert key.startswith("adv_") and "\n" not in key
    client = app.test_client()  # same ADVISOR_HOME, so the same database
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/v1/datasets", headers=headers).status_code == 200
    revoked = runner.invoke(cli, ["keys", "revoke", key.split("_")[1]])
    assert revoked.exit_code == 0 and "revoked 1 key" in revoked.output
    expect_problem(client.get("/v1/datasets", headers=headers), 401, "auth.unauthorized")
    unknown = runner.invoke(cli, ["keys", "revoke", "ffffffff"])
    assert unknown.exit_code == 1 and "auth.unknown_key" in unknown.output
