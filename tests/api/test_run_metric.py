"""``/v1/runs`` with a ``metric``: balanced accuracy asked for, stored, reported and scored;
accuracy by default; an unknown metric refused; the Python client passes it through."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from flask.testing import FlaskClient
from sklearn.metrics import balanced_accuracy_score
from werkzeug.test import TestResponse

from advisor.client import AdvisorClient
from api.auth import create_key

Send = Callable[..., TestResponse]
Problem = Callable[[TestResponse, int, str], dict[str, Any]]


def imbalanced_csv(major: int, minor: int, seed: int) -> bytes:
    """``major`` rows of class ``big`` and ``minor`` of class ``small``, shifted by one standard
    deviation: learnable, with a few mistakes (so accuracy and balanced accuracy differ)."""
    rng = np.random.default_rng(seed)
    rows = ["x1,x2,x3,kind"]
    for kind, count, shift in (("big", major, 0.0), ("small", minor, 1.0)):
        for values in rng.normal(shift, 1.0, size=(count, 3)):
            rows.append(",".join(f"{v:.4f}" for v in values) + f",{kind}")
    return ("\n".join(rows) + "\n").encode()


@pytest.fixture(scope="module")
def train_csv() -> bytes:
    return imbalanced_csv(30, 6, seed=1)


@pytest.fixture(scope="module")
def test_csv() -> bytes:
    return imbalanced_csv(15, 5, seed=2)


@pytest.fixture
def train_id(upload: Send, train_csv: bytes) -> str:
    answer = upload(train_csv, "train.csv", label="kind")
    assert answer.status_code == 201, answer.json
    assert answer.json["info"]["class_counts"] == {"big": 30, "small": 6}
    dataset_id: str = answer.json["id"]
    return dataset_id


def test_a_balanced_accuracy_run_reports_its_metric_and_scores_by_it(
    client: FlaskClient, upload: Send, start_run: Send, train_id: str, test_csv: bytes
) -> None:
    test_id = upload(test_csv, "test.csv", label="kind").json["id"]
    answer = start_run(
        client, train_id, n_trials=3, metric="balanced_accuracy", test_dataset_id=test_id
    )
    assert answer.status_code == 202, answer.json
    run = answer.json
    assert run["metric"] == "balanced_accuracy" and run["state"] == "succeeded", run
    got = client.get(f"/v1/runs/{run['id']}").json
    assert got["metric"] == "balanced_accuracy"
    result = client.get(f"/v1/runs/{run['id']}/result").json
    assert result == got["result"]
    assert result["metric"] == "balanced_accuracy"
    assert result["class_prior"] in ("training", "equal")
    assert 0.0 <= result["cv_score"] <= 1.0 and 0.0 <= result["test_score"] <= 1.0
    listed = client.get("/v1/runs").json["items"]
    assert [r["metric"] for r in listed] == ["balanced_accuracy"]
    # the test score is the balanced accuracy of the model's predictions on the test table
    labeled = {"file": (io.BytesIO(test_csv), "test.csv"), "label": "kind"}
    predicted = client.post(f"/v1/runs/{run['id']}/predict", data=labeled)
    assert predicted.status_code == 200, predicted.json
    truth = [line.rsplit(",", 1)[1] for line in test_csv.decode().splitlines()[1:]]
    expected = balanced_accuracy_score(truth, predicted.json["labels"])
    assert result["test_score"] == pytest.approx(expected, abs=1e-9)
    assert predicted.json["accuracy"] != pytest.approx(expected)  # not the plain accuracy
    assert predicted.json["balanced_accuracy"] == pytest.approx(expected)
    low, high = result["test_interval"]
    assert low <= result["test_score"] <= high
    assert sorted(item["column"] for item in result["importance"]) == ["x1", "x2", "x3"]


def test_a_run_without_a_metric_maximises_accuracy(
    client: FlaskClient, start_run: Send, train_id: str
) -> None:
    answer = start_run(client, train_id, n_trials=2)
    assert answer.status_code == 202 and answer.json["state"] == "succeeded", answer.json
    assert answer.json["metric"] == "accuracy"
    result = client.get(f"/v1/runs/{answer.json['id']}/result").json
    assert result["metric"] == "accuracy" and result["class_prior"] == "training"
    assert 0.0 <= result["cv_score"] <= 1.0


@pytest.mark.parametrize("metric", ["f1", "Balanced_Accuracy", "", None])
def test_an_unknown_metric_is_refused_and_starts_no_run(
    client: FlaskClient, start_run: Send, expect_problem: Problem, train_id: str, metric: Any
) -> None:
    expect_problem(start_run(client, train_id, metric=metric), 422, "request.invalid")
    assert client.get("/v1/runs").json["total"] == 0


def test_the_client_passes_the_metric(app: Any, train_csv: bytes) -> None:
    key = create_key(app.extensions["advisor"].db, "tenant-a").key
    client = AdvisorClient.for_flask(app.test_client(), key)
    data = client.upload(train_csv, name="train.csv", label="kind")
    started = client.run(data.id, family="scratch", n_trials=2, metric="balanced_accuracy")
    assert started.metric == "balanced_accuracy"
    run = client.wait(started.id, poll=0, timeout=30, progress=False)
    assert run.state == "succeeded" and run.metric == "balanced_accuracy"
    result = client.result(run.id)
    assert result.metric == "balanced_accuracy" and result.class_prior in ("training", "equal")
    assert client.runs().items[0].metric == "balanced_accuracy"
    plain = client.run(data.id, family="scratch", n_trials=2)
    assert plain.metric == "accuracy"


def test_two_runs_are_compared_on_the_same_labeled_rows(
    app: Any,
    client: FlaskClient,
    start_run: Send,
    expect_problem: Problem,
    train_id: str,
    test_csv: bytes,
) -> None:
    first = start_run(client, train_id, n_trials=2).json["id"]
    second = start_run(client, train_id, n_trials=2, metric="balanced_accuracy").json["id"]

    def compare(run: str, **form: Any) -> TestResponse:
        fields = {"file": (io.BytesIO(test_csv), "test.csv"), **form}
        return client.post(f"/v1/runs/{run}/compare", data=fields)

    answer = compare(first, other=second, label="kind")
    assert answer.status_code == 200, answer.json
    found = answer.json
    assert (found["run_a"], found["run_b"], found["metric"]) == (first, second, "accuracy")
    assert found["rows"] == 20 and 0.0 < found["p_value"] <= 1.0 and found["verdict"]
    for run, score in ((first, found["score_a"]), (second, found["score_b"])):
        labeled = {"file": (io.BytesIO(test_csv), "test.csv"), "label": "kind"}
        scored = client.post(f"/v1/runs/{run}/predict", data=labeled).json
        assert score == pytest.approx(scored["accuracy"])
    assert found["difference"] == pytest.approx(found["score_a"] - found["score_b"])
    assert found["warnings"] == []
    typo = test_csv.replace(b",small\n", b",Small\n", 1)  # a label the models never saw
    assert typo != test_csv
    noted = compare(first, other=second, label="kind", file=(io.BytesIO(typo), "t.csv")).json
    [note] = noted["warnings"]  # both models read the rows alike: once, unmarked
    assert note.startswith("Labels the model was not trained on: 'Small' (their rows count as")
    balanced = compare(second, other=first, label="kind").json  # the second run's metric
    assert balanced["metric"] == "balanced_accuracy"

    expect_problem(compare(first, other=second), 422, "compare.unlabeled")
    expect_problem(compare(first, other="abc123", label="kind"), 404, "run.unknown")

    key = create_key(app.extensions["advisor"].db, "tenant-a").key
    python = AdvisorClient.for_flask(app.test_client(), key)
    assert python.compare(first, second, test_csv, label="kind", name="t.csv").rows == 20
