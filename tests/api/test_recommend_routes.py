"""``/v1/recommendations`` and runs without a family (they use the shipped knowledge base,
``advisor/data/kb/kb.parquet``, part of the package)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

Send = Callable[..., TestResponse]
Problem = Callable[[TestResponse, int, str], dict[str, Any]]
FAMILIES = {"transfer", "meta", "hybrid", "scratch"}


@pytest.fixture
def recommendation(shared_client: FlaskClient, shared_dataset_id: str) -> dict[str, Any]:
    answer = shared_client.post("/v1/recommendations", json={"dataset_id": shared_dataset_id})
    assert answer.status_code == 201, answer.json
    assert answer.headers["Location"] == f"/v1/recommendations/{answer.json['id']}"
    found: dict[str, Any] = answer.json
    return found


def test_recommend_refusals(
    shared_client: FlaskClient, shared_dataset_id: str, expect_problem: Problem
) -> None:
    def recommend(**body: Any) -> TestResponse:
        return shared_client.post("/v1/recommendations", json=body)

    expect_problem(recommend(dataset_id="0000"), 404, "dataset.unknown")
    unknown = recommend(dataset_id=shared_dataset_id, source="nope")
    expect_problem(unknown, 404, "source.unknown")
    expect_problem(recommend(), 422, "request.invalid")
    expect_problem(recommend(dataset_id=shared_dataset_id, extra=1), 422, "request.invalid")


def test_unknown_recommendation(shared_client: FlaskClient, expect_problem: Problem) -> None:
    expect_problem(shared_client.get("/v1/recommendations/abc123"), 404, "recommendation.unknown")
    report = shared_client.get("/v1/recommendations/abc123/report")
    expect_problem(report, 404, "recommendation.unknown")
    expect_problem(shared_client.get("/v1/recommendations/XYZ"), 422, "request.invalid")


def test_recommend_and_get(
    shared_client: FlaskClient, shared_dataset_id: str, recommendation: dict[str, Any]
) -> None:
    body = recommendation["recommendation"]
    assert recommendation["dataset_id"] == shared_dataset_id
    assert body["family"] in FAMILIES and body["source"] == "glyphs"
    assert set(body["p_best"]) <= FAMILIES
    assert abs(sum(body["p_best"].values()) - 1.0) < 1e-6
    assert body["meta_features"]["nr_class"] == 3
    # Iris against the glyph source: only scratch can run, so there is no runner-up.
    assert body["family"] == "scratch" and body["explanation"]["runner_up"] is None
    got = shared_client.get(f"/v1/recommendations/{recommendation['id']}")
    assert got.status_code == 200 and got.json == recommendation


@pytest.mark.parametrize(
    ("fmt", "media"),
    [("html", "text/html"), ("md", "text/markdown"), ("json", "application/json")],
)
def test_recommendation_report(
    shared_client: FlaskClient, recommendation: dict[str, Any], fmt: str, media: str
) -> None:
    path = f"/v1/recommendations/{recommendation['id']}/report?format={fmt}"
    answer = shared_client.get(path)
    assert answer.status_code == 200 and answer.mimetype == media
    assert shared_client.get(path).data == answer.data  # stored on first ask, then served
    text = answer.get_data(as_text=True)
    assert recommendation["recommendation"]["family"] in text
    if fmt == "json":
        json.loads(text)


def test_other_tenant_gets_404_for_a_recommendation(
    shared_client: FlaskClient,
    shared_other: FlaskClient,
    recommendation: dict[str, Any],
    expect_problem: Problem,
) -> None:
    path = f"/v1/recommendations/{recommendation['id']}"
    expect_problem(shared_other.get(path), 404, "recommendation.unknown")
    expect_problem(shared_other.get(f"{path}/report"), 404, "recommendation.unknown")
    assert shared_client.get(path).status_code == 200


def test_recommend_for_images(upload: Send, client: FlaskClient, glyph_npz: bytes) -> None:
    dataset_id = upload(glyph_npz, "support.npz").json["id"]
    answer = client.post("/v1/recommendations", json={"dataset_id": dataset_id})
    assert answer.status_code == 201, answer.json
    assert answer.json["recommendation"]["family"] in FAMILIES
    assert answer.json["recommendation"]["meta_features"]["nr_class"] == 5


@pytest.mark.slow  # tunes the recommended family (transfer/meta/hybrid) on 25 images: ~5 s
def test_run_without_family_follows_the_recommendation(
    client: FlaskClient, upload: Send, glyph_npz: bytes, start_run: Send
) -> None:
    dataset_id = upload(glyph_npz, "support.npz").json["id"]
    answer = start_run(client, dataset_id, family=None, n_trials=2)
    assert answer.status_code == 202, answer.json
    run = answer.json
    assert run["family"] is None and run["state"] == "succeeded", run
    recommended = run["result"]["recommendation"]
    assert recommended is not None and run["result"]["family"] == recommended["family"]
    report = client.get(f"/v1/runs/{run['id']}/report?format=md").get_data(as_text=True)
    assert run["result"]["family"] in report


@pytest.fixture(scope="module")
def cities_csv() -> bytes:
    """A table whose one text column is categorical (3 cities, one-hot encoded)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"x": rng.normal(size=18), "city": ["Paris", "Lyon", "Nice"] * 6})
    frame["label"] = frame["city"].map({"Paris": "n", "Lyon": "c", "Nice": "s"})
    return frame.to_csv(index=False).encode()


def test_the_service_measures_a_tables_categorical_columns(
    client: FlaskClient, upload: Send, cities_csv: bytes, start_run: Send
) -> None:
    """The recommendation, and a run's own one, see the categorical columns as
    `advisor recommend` does (they were measured as numbers: nr_cat 0)."""
    from advisor import Advisor
    from advisor.datasets import load_dataset

    dataset_id = upload(cities_csv, "cities.csv").json["id"]
    answer = client.post("/v1/recommendations", json={"dataset_id": dataset_id})
    assert answer.status_code == 201, answer.json
    measured = answer.json["recommendation"]["meta_features"]
    table = load_dataset(cities_csv, name="cities.csv")
    local = Advisor("glyphs").recommend(table.X, table.y, categorical=table.categorical_mask)
    assert measured["nr_cat"] == 3 and measured["nr_num"] == 1
    assert measured == json.loads(json.dumps(local.meta_features))  # NaN as null, as served
    run = start_run(client, dataset_id, family=None, n_trials=1).json
    assert run["state"] == "succeeded", run
    assert run["result"]["recommendation"]["meta_features"] == measured
