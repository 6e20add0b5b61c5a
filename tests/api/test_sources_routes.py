"""``/v1/sources``: list, get, unknown, register (202; 404/409/422), a tiny build, failures."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

import api.jobs
from advisor.errors import InvalidInputError

Send = Callable[..., TestResponse]
Problem = Callable[[TestResponse, int, str], dict[str, Any]]
TINY = {"pretrain_epochs": 1, "meta_episodes": 1}


def test_list_and_get_builtin(shared_client: FlaskClient, expect_problem: Problem) -> None:
    listed = shared_client.get("/v1/sources")
    assert listed.status_code == 200
    glyphs = next(s for s in listed.json if s["name"] == "glyphs")
    assert glyphs["where"] == "built-in" and glyphs["state"] == "ready"
    assert glyphs["modality"] == "image" and glyphs["starts"][0] == "pretrained"
    got = shared_client.get("/v1/sources/glyphs")
    assert got.status_code == 200 and got.json == glyphs
    expect_problem(shared_client.get("/v1/sources/nope"), 404, "source.unknown")
    expect_problem(shared_client.get("/v1/sources/" + "x" * 41), 422, "request.invalid")


def test_register_refusals(
    shared_client: FlaskClient, shared_dataset_id: str, expect_problem: Problem
) -> None:
    def register(**body: Any) -> TestResponse:
        return shared_client.post("/v1/sources", json={"dataset_id": shared_dataset_id, **body})

    expect_problem(register(name="mine", dataset_id="0000"), 404, "dataset.unknown")
    expect_problem(register(name="glyphs"), 409, "source.exists")
    expect_problem(register(name="Bad Name"), 422, "request.invalid")
    expect_problem(register(name="synthetic-0"), 400, "source.bad_name")  # the KB's own
    expect_problem(register(name="mine", pretrain_epochs=0), 422, "request.invalid")
    expect_problem(register(name="mine", surprise=True), 422, "request.invalid")
    assert [s["name"] for s in shared_client.get("/v1/sources").json] == ["glyphs"]


TWO_CLASSES = b"a,b,label\n" + b"".join(
    b"%d,%d,%s\n" % (i, i % 3, b"xy"[i % 2 : i % 2 + 1]) for i in range(12)
)


def test_register_and_use_a_tenant_source(
    client: FlaskClient, client_of: Any, upload: Send, expect_problem: Problem
) -> None:
    dataset_id = upload(TWO_CLASSES, "two.csv").json["id"]
    answer = client.post("/v1/sources", json={"name": "two", "dataset_id": dataset_id, **TINY})
    assert answer.status_code == 202, answer.json
    assert answer.headers["Location"] == "/v1/sources/two"
    source = answer.json  # immediate mode: built within the request
    assert source["state"] == "ready" and source["where"] == "tenant", source
    assert source["classes"] == 2 and source["modality"] == "vector"
    assert client.get("/v1/sources/two").json == source
    assert [s["name"] for s in client.get("/v1/sources").json] == ["glyphs", "two"]
    features = client.get(f"/v1/datasets/{dataset_id}/meta-features?source=two")
    assert features.status_code == 200 and features.json["source"] == "two"
    again = client.post("/v1/sources", json={"name": "two", "dataset_id": dataset_id, **TINY})
    expect_problem(again, 409, "source.exists")
    other = client_of(client.application, "tenant-b")  # another tenant does not see it
    expect_problem(other.get("/v1/sources/two"), 404, "source.unknown")


def test_a_source_is_deleted_unless_a_run_needs_it_and_its_name_is_free_again(
    client: FlaskClient, upload: Send, start_run: Send, expect_problem: Problem
) -> None:
    dataset_id = upload(TWO_CLASSES, "two.csv").json["id"]
    body = {"name": "two", "dataset_id": dataset_id, **TINY}
    assert client.post("/v1/sources", json=body).json["state"] == "ready"
    run = start_run(client, dataset_id, source="two", family="transfer", n_trials=1).json
    assert run["state"] == "succeeded", run
    needed = expect_problem(client.delete("/v1/sources/two"), 409, "source.in_use")
    assert needed["facts"]["runs"] == [run["id"]]  # its model starts from the source
    scratch = start_run(client, dataset_id, source="two").json  # scratch: never needs it
    assert scratch["state"] == "succeeded"
    assert client.delete(f"/v1/runs/{run['id']}").status_code == 204
    assert client.delete("/v1/sources/two").status_code == 204
    expect_problem(client.get("/v1/sources/two"), 404, "source.unknown")
    expect_problem(client.delete("/v1/sources/two"), 404, "source.unknown")
    assert [s["name"] for s in client.get("/v1/sources").json] == ["glyphs"]
    again = client.post("/v1/sources", json={**body, "meta_episodes": 2})  # the name is free
    assert again.status_code == 202 and again.json["state"] == "ready", again.json
    predicted = client.post(f"/v1/runs/{scratch['id']}/predict", json={"instances": [[1]]})
    assert predicted.status_code == 200, predicted.json
    expect_problem(client.delete("/v1/sources/glyphs"), 409, "source.builtin")


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            InvalidInputError("too few", code="learners.bad_training_data"),
            "[learners.bad_training_data] too few",
        ),
        (RuntimeError("disk on fire"), "RuntimeError: disk on fire"),
    ],
    ids=["advisor-error", "unexpected-error"],
)
def test_failed_build_is_reported(
    client: FlaskClient,
    upload: Send,
    monkeypatch: pytest.MonkeyPatch,
    error: Exception,
    expected: str,
) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise error

    monkeypatch.setattr(api.jobs, "build_source", broken)
    dataset_id = upload(TWO_CLASSES, "two.csv").json["id"]
    answer = client.post("/v1/sources", json={"name": "two", "dataset_id": dataset_id, **TINY})
    assert answer.status_code == 202
    assert answer.json["state"] == "failed" and answer.json["error"] == expected
    listed = client.get("/v1/sources").json
    assert listed[-1]["name"] == "two" and listed[-1]["state"] == "failed"
