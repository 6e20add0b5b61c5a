"""``/v1/runs``: start (202 + Location), get, list, cancel, result, report, predict, budgets,
the concurrent-run limit (runs whose workers died: ``test_run_recovery.py``)."""

from __future__ import annotations

import datetime
import io
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import optuna
import pandas as pd
import pytest
from flask.testing import FlaskClient
from sqlalchemy import delete, update
from werkzeug.test import TestResponse

from api.db import DatasetRecord, RunRecord, utcnow
from api.jobs import Heartbeat, Progress, execute_run, run_prefix
from api.services import Services

Send = Callable[..., TestResponse]
Problem = Callable[[TestResponse, int, str], dict[str, Any]]
AppFactory = Callable[..., Any]


def services_of(client: FlaskClient) -> Services:
    found: Services = client.application.extensions["advisor"]
    return found


Queued = tuple[FlaskClient, str]


@pytest.fixture
def queued(make_app: AppFactory, client_of: Any, post_file: Send, iris_csv: bytes) -> Queued:
    """Tenant A and its iris dataset on an app whose queue nobody consumes (runs stay queued)."""
    client: FlaskClient = client_of(make_app(immediate=False), "tenant-a")
    answer = post_file(client, iris_csv, "iris.csv", label="species")
    return client, answer.json["id"]


def test_start_get_and_result(client: FlaskClient, iris_id: str, start_run: Send) -> None:
    answer = start_run(client, iris_id, seed=3, test_dataset_id=iris_id)
    assert answer.status_code == 202, answer.json
    run = answer.json
    assert answer.headers["Location"] == f"/v1/runs/{run['id']}"
    assert run["state"] == "succeeded" and run["family"] == "scratch" and run["n_trials"] == 2
    assert run["progress"]["trials_done"] == 2 and run["progress"]["trials_total"] == 2
    assert run["started"] and run["finished"] and run["error"] is None
    got = client.get(answer.headers["Location"]).json
    assert got["id"] == run["id"] and got["state"] == "succeeded"
    result = client.get(f"/v1/runs/{run['id']}/result")
    assert result.status_code == 200
    assert result.json["family"] == "scratch" and 0.8 < result.json["cv_score"] <= 1.0
    assert 0.8 < result.json["test_score"] <= 1.0
    assert sorted(result.json["labels"]) == ["setosa", "versicolor", "virginica"]
    assert result.json == got["result"]


@pytest.mark.parametrize("family", [None, "scratch"])
def test_a_run_spends_its_whole_trial_budget(
    client: FlaskClient, iris_id: str, start_run: Send, family: str | None
) -> None:
    """Warm-start trials enqueued up to the budget and still waiting do not count against
    it: they once stopped a 2-trial run after 1 trial, the other left waiting."""
    run = start_run(client, iris_id, family=family, n_trials=2).json
    assert run["state"] == "succeeded", run["error"]
    study = optuna.load_study(
        study_name=f"run-{run['id']}", storage=services_of(client).study_storage()
    )
    states = [t.state for t in study.trials]
    assert states.count(optuna.trial.TrialState.WAITING) == 0, states
    assert sum(s.is_finished() for s in states) == 2 and run["progress"]["trials_done"] == 2


def test_list_runs_pages(queued: Queued, start_run: Send) -> None:
    client, dataset_id = queued
    ids = [start_run(client, dataset_id, seed=i).json["id"] for i in range(3)]
    page = client.get("/v1/runs?per_page=2").json
    assert page["total"] == 3 and [r["id"] for r in page["items"]] == ids[::-1][:2]
    assert [r["id"] for r in client.get("/v1/runs?page=2&per_page=2").json["items"]] == [ids[0]]
    assert all(r["state"] == "queued" for r in page["items"])


@pytest.mark.parametrize("fmt", ["html", "md", "json"])
def test_report_formats(shared_client: FlaskClient, run_id: str, fmt: str) -> None:
    answer = shared_client.get(f"/v1/runs/{run_id}/report", query_string={"format": fmt})
    assert answer.status_code == 200
    media = {"html": "text/html", "md": "text/markdown", "json": "application/json"}[fmt]
    assert answer.mimetype == media
    text = answer.get_data(as_text=True)
    if fmt == "html":
        assert text.lstrip().lower().startswith("<!doctype html") and run_id in text
    elif fmt == "md":
        assert text.startswith("#") and "scratch" in text
        # the training data as read from the upload: its rows, classes and columns
        assert (
            "## Your data" in text
            and "150 rows of 4 features (from 4 numeric columns) of 3 classes" in text
        )
    else:
        assert "scratch" in text and answer.json is not None
        assert answer.json["data"]["class_counts"] == {
            "setosa": 50,
            "versicolor": 50,
            "virginica": 50,
        }


def test_report_default_is_html_and_bad_format_refused(
    shared_client: FlaskClient, run_id: str, expect_problem: Problem
) -> None:
    assert shared_client.get(f"/v1/runs/{run_id}/report").mimetype == "text/html"
    expect_problem(
        shared_client.get(f"/v1/runs/{run_id}/report?format=pdf"), 422, "request.invalid"
    )


def test_predict_json_instances(
    shared_client: FlaskClient, run_id: str, iris_rows: np.ndarray
) -> None:
    rows = iris_rows[[0, 60, 120]]
    answer = shared_client.post(f"/v1/runs/{run_id}/predict", json={"instances": rows.tolist()})
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert body["classes"] == ["setosa", "versicolor", "virginica"]
    assert body["labels"] == ["setosa", "versicolor", "virginica"]
    assert np.allclose(np.sum(body["probabilities"], axis=1), 1.0, atol=1e-4)


def test_predict_uploaded_csv(shared_client: FlaskClient, run_id: str, iris_csv: bytes) -> None:
    labeled = {"file": (io.BytesIO(iris_csv), "rows.csv"), "label": "species"}
    answer = shared_client.post(f"/v1/runs/{run_id}/predict", data=labeled)
    assert answer.status_code == 200, answer.json
    assert len(answer.json["labels"]) == 150
    assert answer.json["labels"].count("setosa") >= 45
    unlabeled = b"a,b,c,d\n5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n"
    answer = shared_client.post(
        f"/v1/runs/{run_id}/predict", data={"file": (io.BytesIO(unlabeled), "x.csv")}
    )
    assert answer.status_code == 200, answer.json
    assert answer.json["labels"] == ["setosa", "virginica"]


IRIS_COLUMNS = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]


def test_predict_rows_named_by_the_training_columns(
    shared_client: FlaskClient, run_id: str, iris_rows: np.ndarray
) -> None:
    """Rows that name the training table's columns are encoded its way: in any column
    order, with missing values filled by the training data's statistics."""
    rows = iris_rows[[0, 60, 120]]
    url = f"/v1/runs/{run_id}/predict"
    expected = shared_client.post(url, json={"instances": rows.tolist()}).json
    records = [dict(zip(IRIS_COLUMNS, row, strict=True)) for row in rows.tolist()]
    by_name = shared_client.post(url, json={"instances": records})
    assert by_name.status_code == 200, by_name.json
    reordered = (
        ",".join(f'"{c}"' for c in IRIS_COLUMNS[::-1])
        + "\n"
        + "\n".join(",".join(str(v) for v in row[::-1]) for row in rows.tolist())
    )
    as_file = expected | {"ids": ["1", "2", "3"]}  # a file's answer names its rows
    unlabeled = {"file": (io.BytesIO(reordered.encode()), "rows.csv")}
    assert shared_client.post(url, data=unlabeled).json == as_file
    assert by_name.json == as_file  # records are read as a file's table is
    gap = ",".join(f'"{c}"' for c in IRIS_COLUMNS) + "\n5.1,,1.4,0.2\n"
    filled = shared_client.post(url, data={"file": (io.BytesIO(gap.encode()), "gap.csv")})
    assert filled.status_code == 200 and filled.json["labels"] == ["setosa"], filled.json
    assert filled.json["warnings"] == ["1 missing feature values filled with the training "
                                       "data's values (its median or mean, its most frequent "
                                       "category)."]  # fmt: skip
    frame = pd.DataFrame(rows, columns=IRIS_COLUMNS)  # other table formats, read the same way
    parquet = io.BytesIO()
    frame.to_parquet(parquet)
    for data, name in (
        (parquet.getvalue(), "rows.parquet"),
        (frame.to_json(orient="records").encode(), "rows.json"),
        (frame.to_json(orient="records", lines=True).encode(), "rows.jsonl"),
    ):
        answer = shared_client.post(url, data={"file": (io.BytesIO(data), name)})
        assert answer.json == as_file, name


def test_json_records_get_a_files_checks_and_warnings(
    shared_client: FlaskClient, run_id: str, expect_problem: Problem
) -> None:
    """A gap and a column the model does not take: the same answer, warnings included, as a
    file of the same rows; a missing training column is the same error."""
    url = f"/v1/runs/{run_id}/predict"
    record = dict(zip(IRIS_COLUMNS, [5.1, None, 1.4, 0.2], strict=True)) | {"colour": "blue"}
    as_file = pd.DataFrame([record]).to_csv(index=False).encode()
    from_file = shared_client.post(url, data={"file": (io.BytesIO(as_file), "rows.csv")})
    from_json = shared_client.post(url, json={"instances": [record]})
    assert from_file.status_code == from_json.status_code == 200, from_json.json
    assert from_json.json == from_file.json
    assert len(from_json.json["warnings"]) == 2  # the filled gap, the ignored column
    assert "filled with the training data's values" in from_json.json["warnings"][0]
    assert "['colour'] are not the model's inputs" in from_json.json["warnings"][1]
    lacking = [dict.fromkeys(IRIS_COLUMNS[1:], 1.0)]
    expect_problem(
        shared_client.post(url, json={"instances": lacking}), 422, "predict.bad_instances"
    )


def test_a_test_table_is_scored_in_the_training_encoding(
    client: FlaskClient, upload: Send, start_run: Send
) -> None:
    """The test table lacks one of the training table's categories: read on its own, its
    one-hot columns would differ from the model's input."""
    cities = ["Paris", "Lyon", "Nice"] * 6
    region = {"Paris": "north", "Lyon": "centre", "Nice": "south"}
    rows = [f"{i % 5},{c},{region[c]}" for i, c in enumerate(cities)]
    train = "noise,city,region\n" + "\n".join(rows) + "\n"
    test = "noise,city,region\n" + "\n".join(r for r in rows if "Paris" not in r) + "\n"
    train_id = upload(train.encode(), "train.csv", label="region").json["id"]
    test_id = upload(test.encode(), "test.csv", label="region").json["id"]
    run = start_run(client, train_id, test_dataset_id=test_id)
    assert run.json["state"] == "succeeded", run.json
    assert run.json["result"]["test_score"] == 1.0  # the region follows the city exactly
    answer = client.post(
        f"/v1/runs/{run.json['id']}/predict", json={"instances": [{"noise": 1, "city": "Nice"}]}
    )
    assert answer.status_code == 200 and answer.json["labels"] == ["south"], answer.json
    assert answer.json["warnings"] == [] and answer.json["ids"] == ["1"]
    unseen = client.post(
        f"/v1/runs/{run.json['id']}/predict", json={"instances": [{"noise": 1, "city": "Rome"}]}
    )
    assert unseen.status_code == 200, unseen.json
    assert (
        "Column 'city' holds values the training data did not: 'Rome'" in unseen.json["warnings"][0]
    )
    labeled = {"file": (io.BytesIO(test.encode()), "t.csv"), "label": "region"}
    scored = client.post(f"/v1/runs/{run.json['id']}/predict", data=labeled)
    assert scored.json["accuracy"] == 1.0 and scored.json["ids"] == [str(i) for i in range(1, 13)]


def test_a_test_set_uploaded_to_score_may_hold_one_example_of_a_class(
    client: FlaskClient, upload: Send, start_run: Send, expect_problem: Problem, iris_id: str
) -> None:
    """A test set's labels only score: uploaded with purpose=score it may hold a single
    example of a class (refused as training data, at upload or when a run would train)."""
    rows = "sepal length (cm),sepal width (cm),petal length (cm),petal width (cm),species\n"
    test = rows + "5.1,3.5,1.4,0.2,setosa\n4.9,3.0,1.4,0.2,setosa\n6.3,3.3,6.0,2.5,virginica\n"
    expect_problem(upload(test.encode(), "t.csv", label="species"), 422, "dataset.class_too_small")
    answer = upload(test.encode(), "t.csv", label="species", purpose="score")
    assert answer.status_code == 201, answer.json
    test_id = answer.json["id"]
    assert answer.json["info"]["class_counts"] == {"setosa": 2, "virginica": 1}
    run = start_run(client, iris_id, test_dataset_id=test_id)
    assert run.json["state"] == "succeeded", run.json
    assert run.json["result"]["test_score"] == 1.0
    expect_problem(start_run(client, test_id), 422, "dataset.class_too_small")
    recommend = client.post("/v1/recommendations", json={"dataset_id": test_id})
    expect_problem(recommend, 422, "dataset.class_too_small")
    whole = upload(test.encode() + b"6.5,3.0,5.8,2.2,virginica\n", "w.csv", label="species",
                   purpose="score")  # fmt: skip
    assert start_run(client, whole.json["id"]).json["state"] == "succeeded"  # trains fine


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"instances": [[1.0, 2.0]]}, 422, "predict.bad_instances"),  # 2 features, not 4
        ({"instances": [[1.0, 2.0, 3.0, 4.0], [1.0]]}, 422, "predict.bad_instances"),  # ragged
        ({"instances": [["a", "b", "c", "d"]]}, 422, "predict.bad_instances"),
        ({"instances": []}, 422, "request.invalid"),
        ({"rows": [[1.0, 2.0, 3.0, 4.0]]}, 422, "request.invalid"),
        ({"instances": [{"sepal length (cm)": 5.1}]}, 422, "predict.bad_instances"),
        ({"instances": [dict.fromkeys(IRIS_COLUMNS, "wide")]}, 422, "dataset.encoding_mismatch"),
    ],
    ids=["wrong-width", "ragged", "strings", "empty", "unknown-field", "named-too-few", "text"],
)
def test_predict_bad_instances(
    shared_client: FlaskClient,
    run_id: str,
    expect_problem: Problem,
    body: dict[str, Any],
    status: int,
    code: str,
) -> None:
    expect_problem(shared_client.post(f"/v1/runs/{run_id}/predict", json=body), status, code)


def test_predict_refuses_missing_values(
    shared_client: FlaskClient, run_id: str, expect_problem: Problem
) -> None:
    # Python's json (and so requests and AdvisorClient) sends NaN as a bare NaN token
    nan = shared_client.post(
        f"/v1/runs/{run_id}/predict",
        data='{"instances": [[5.1, 3.5, NaN, 0.2]]}',
        content_type="application/json",
    )
    expect_problem(nan, 422, "predict.bad_instances")
    gap = {"file": (io.BytesIO(b"a,b,c,d\n5.1,3.5,,0.2\n"), "rows.csv")}
    answer = shared_client.post(f"/v1/runs/{run_id}/predict", data=gap)
    expect_problem(answer, 422, "predict.bad_instances")


def test_predict_bad_file(shared_client: FlaskClient, run_id: str, expect_problem: Problem) -> None:
    text = {"file": (io.BytesIO(b"a,b\nx,y\n"), "rows.csv")}
    expect_problem(
        shared_client.post(f"/v1/runs/{run_id}/predict", data=text), 422, "predict.bad_instances"
    )


def test_unknown_run(client: FlaskClient, expect_problem: Problem) -> None:
    for path in ("", "/result", "/report"):
        expect_problem(client.get(f"/v1/runs/00000000{path}"), 404, "run.unknown")
    expect_problem(client.post("/v1/runs/00000000/cancel"), 404, "run.unknown")
    expect_problem(
        client.post("/v1/runs/00000000/predict", json={"instances": [[1]]}), 404, "run.unknown"
    )
    expect_problem(client.get("/v1/runs/not-hex"), 422, "request.invalid")


def test_start_refusals(
    client: FlaskClient, iris_id: str, start_run: Send, expect_problem: Problem
) -> None:
    expect_problem(start_run(client, "0000"), 404, "dataset.unknown")
    expect_problem(start_run(client, iris_id, test_dataset_id="0000"), 404, "dataset.unknown")
    unknown_source = start_run(client, iris_id, family="transfer", source="nope")
    expect_problem(unknown_source, 404, "source.unknown")
    image_source_on_a_table = start_run(client, iris_id, family="meta", source="glyphs")
    expect_problem(image_source_on_a_table, 422, "run.source_mismatch")  # before any trial
    expect_problem(start_run(client, iris_id, family="magic"), 422, "request.invalid")
    expect_problem(start_run(client, iris_id, surprise=1), 422, "request.invalid")
    assert client.get("/v1/runs").json["total"] == 0


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"n_trials": None, "timeout": None}, 422, "run.bad_budget"),
        ({"n_trials": 4}, 422, "run.bad_budget"),  # over ADVISOR_MAX_TRIALS=3
        ({"n_trials": 1, "timeout": 11}, 422, "run.bad_budget"),  # over MAX_RUN_SECONDS=10
        ({"n_trials": 0}, 422, "request.invalid"),
        ({"timeout": 0}, 422, "request.invalid"),
        ({"seed": -1}, 422, "request.invalid"),
    ],
    ids=["no-budget", "too-many-trials", "too-long", "zero-trials", "zero-timeout", "bad-seed"],
)
def test_budget_errors(
    make_app: AppFactory,
    client_of: Any,
    post_file: Send,
    start_run: Send,
    expect_problem: Problem,
    iris_csv: bytes,
    body: dict[str, Any],
    status: int,
    code: str,
) -> None:
    client = client_of(make_app(max_trials=3, max_run_seconds=10), "tenant-a")
    dataset_id = post_file(client, iris_csv, "iris.csv", label="species").json["id"]
    expect_problem(start_run(client, dataset_id, **body), status, code)


def test_a_timeout_given_alone_is_the_only_budget(
    make_app: AppFactory, client_of: Any, post_file: Send, iris_csv: bytes
) -> None:
    client = client_of(make_app(immediate=False, max_trials=3), "tenant-a")
    dataset_id = post_file(client, iris_csv, "iris.csv", label="species").json["id"]
    alone = client.post("/v1/runs", json={"dataset_id": dataset_id, "timeout": 30})
    assert alone.status_code == 202, alone.json  # not refused for 20 trials over max_trials 3
    assert alone.json["n_trials"] is None and alone.json["timeout"] == 30
    trials = client.post("/v1/runs", json={"dataset_id": dataset_id, "n_trials": 3})
    assert trials.json["n_trials"] == 3 and trials.json["timeout"] is None
    default = client.post("/v1/runs", json={"dataset_id": dataset_id})
    assert default.status_code == 422  # 20 trials by default: over max_trials 3
    both = client.post("/v1/runs", json={"dataset_id": dataset_id, "n_trials": 2, "timeout": 9})
    assert (both.json["n_trials"], both.json["timeout"]) == (2, 9)


def test_queued_run_has_no_result_and_cancels(
    queued: Queued, start_run: Send, expect_problem: Problem
) -> None:
    client, dataset_id = queued
    answer = start_run(client, dataset_id)
    assert answer.status_code == 202 and answer.json["state"] == "queued"
    run_id = answer.json["id"]
    expect_problem(client.get(f"/v1/runs/{run_id}/result"), 409, "run.not_succeeded")
    expect_problem(client.get(f"/v1/runs/{run_id}/report"), 409, "run.not_succeeded")
    predict = client.post(f"/v1/runs/{run_id}/predict", json={"instances": [[1, 2, 3, 4]]})
    expect_problem(predict, 409, "run.not_succeeded")
    cancelled = client.post(f"/v1/runs/{run_id}/cancel")
    assert cancelled.status_code == 202 and cancelled.json["state"] == "cancelled"
    assert cancelled.json["finished"] is not None
    again = client.post(f"/v1/runs/{run_id}/cancel")  # final: nothing changes
    assert again.status_code == 202 and again.json["state"] == "cancelled"
    execute_run(services_of(client), run_id)  # a worker that picks it up later skips it
    assert client.get(f"/v1/runs/{run_id}").json["state"] == "cancelled"


def test_cancel_stops_a_running_run_after_its_trial(queued: Queued, start_run: Send) -> None:
    client, dataset_id = queued
    run_id = start_run(client, dataset_id, n_trials=5).json["id"]
    set_running(client, run_id, utcnow())
    answer = client.post(f"/v1/runs/{run_id}/cancel")
    assert answer.status_code == 202 and answer.json["state"] == "running"  # asked, not yet
    study = optuna.create_study(direction="maximize")
    progress_callback = Progress(services_of(client).db, run_id, 5)
    study.optimize(lambda _trial: 0.5, n_trials=5, callbacks=[progress_callback])
    assert len(study.trials) == 1  # stopped by the callback after the first trial
    progress = client.get(f"/v1/runs/{run_id}").json["progress"]
    assert progress["trials_done"] == 1 and progress["best_score"] == 0.5


def test_a_run_cancelled_while_tuning_stops_there_and_makes_nothing(
    queued: Queued, start_run: Send, expect_problem: Problem, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cancel lands during the first trial: no refit, no model, reports or result."""
    client, dataset_id = queued
    run_id = start_run(client, dataset_id, n_trials=3).json["id"]
    record_progress = Progress.__call__

    def cancel_then_record(self: Progress, study: optuna.Study, trial: Any) -> None:
        client.post(f"/v1/runs/{run_id}/cancel")
        record_progress(self, study, trial)

    monkeypatch.setattr(Progress, "__call__", cancel_then_record)
    execute_run(services_of(client), run_id)
    run = client.get(f"/v1/runs/{run_id}").json
    assert run["state"] == "cancelled" and run["result"] is None
    assert run["progress"]["trials_done"] == 1
    with services_of(client).db.session() as session:
        owner = session.get(RunRecord, run_id).tenant_id
    assert not services_of(client).store.exists(run_prefix(owner, run_id))
    expect_problem(client.get(f"/v1/runs/{run_id}/result"), 409, "run.not_succeeded")


def test_worker_executes_a_queued_run(queued: Queued, start_run: Send) -> None:
    client, dataset_id = queued
    run_id = start_run(client, dataset_id).json["id"]
    execute_run(services_of(client), run_id)
    run = client.get(f"/v1/runs/{run_id}").json
    assert run["state"] == "succeeded" and run["result"]["family"] == "scratch"


def test_run_fails_visibly_when_its_dataset_is_gone(
    queued: Queued, start_run: Send, expect_problem: Problem
) -> None:
    client, dataset_id = queued
    run_id = start_run(client, dataset_id).json["id"]
    # the route refuses to delete a queued run's data (dataset.in_use): remove it underneath,
    # as a version without that check could have
    expect_problem(client.delete(f"/v1/datasets/{dataset_id}"), 409, "dataset.in_use")
    with services_of(client).db.session() as session:
        session.execute(delete(DatasetRecord).where(DatasetRecord.id == dataset_id))
    execute_run(services_of(client), run_id)
    run = client.get(f"/v1/runs/{run_id}").json
    assert run["state"] == "failed" and run["error"]["code"] == "dataset.unknown"
    expect_problem(client.get(f"/v1/runs/{run_id}/result"), 409, "run.not_succeeded")


def test_a_test_set_that_does_not_fit_fails_the_run_before_any_trial(
    queued: Queued, start_run: Send, post_file: Send, iris_csv: bytes, glyph_npz: bytes
) -> None:
    """A test table lacking a training column, a table against images: the run fails at
    once, its budget unspent."""
    client, dataset_id = queued
    frame = pd.read_csv(io.BytesIO(iris_csv))
    lacking = frame.drop(columns=[frame.columns[0]]).to_csv(index=False).encode()
    test_id = post_file(client, lacking, "test.csv", label="species").json["id"]
    run_id = start_run(client, dataset_id, n_trials=3, test_dataset_id=test_id).json["id"]
    execute_run(services_of(client), run_id)
    run = client.get(f"/v1/runs/{run_id}").json
    assert run["state"] == "failed" and run["error"]["code"] == "dataset.encoding_mismatch"
    assert (run["progress"] or {}).get("trials_done", 0) == 0
    image_id = post_file(client, glyph_npz, "glyphs.npz").json["id"]
    other_kind = start_run(client, image_id, n_trials=3, test_dataset_id=dataset_id).json["id"]
    execute_run(services_of(client), other_kind)
    run = client.get(f"/v1/runs/{other_kind}").json
    assert run["state"] == "failed" and run["error"]["code"] == "dataset.encoding_mismatch"
    assert (run["progress"] or {}).get("trials_done", 0) == 0


def test_too_many_concurrent_runs(
    make_app: AppFactory,
    client_of: Any,
    post_file: Send,
    start_run: Send,
    expect_problem: Problem,
    iris_csv: bytes,
) -> None:
    app = make_app(immediate=False, max_concurrent_runs=1)
    client, other = client_of(app, "tenant-a"), client_of(app, "tenant-b")
    dataset_id = post_file(client, iris_csv, "iris.csv", label="species").json["id"]
    first = start_run(client, dataset_id)
    assert first.status_code == 202
    expect_problem(start_run(client, dataset_id), 429, "run.too_many")
    other_id = post_file(other, iris_csv, "iris.csv", label="species").json["id"]
    assert start_run(other, other_id).status_code == 202  # the limit is per tenant
    client.post(f"/v1/runs/{first.json['id']}/cancel")
    assert start_run(client, dataset_id).status_code == 202  # a slot is free again


def set_running(client: FlaskClient, run_id: str, beat: datetime.datetime) -> None:
    with services_of(client).db.session() as session:
        session.execute(
            update(RunRecord)
            .where(RunRecord.id == run_id)
            .values(state="running", started=beat, heartbeat=beat)
        )


def test_heartbeat_stamps_the_run(queued: Queued, start_run: Send) -> None:
    client, dataset_id = queued
    run_id = start_run(client, dataset_id).json["id"]
    old = utcnow() - datetime.timedelta(hours=1)
    set_running(client, run_id, old)
    db = services_of(client).db

    def beat() -> datetime.datetime | None:
        with db.session() as session:
            run = session.get(RunRecord, run_id)
            return None if run is None else run.heartbeat

    with Heartbeat(db, run_id, 0.05):
        deadline = time.monotonic() + 10
        while beat() == old and time.monotonic() < deadline:
            time.sleep(0.05)
    stamped = beat()
    assert stamped is not None and stamped > old + datetime.timedelta(minutes=59)


def test_a_finished_run_is_deleted_with_its_files_and_study(
    client: FlaskClient, iris_id: str, start_run: Send, expect_problem: Problem
) -> None:
    run_id = start_run(client, iris_id).json["id"]
    shared = services_of(client)
    predicted = client.post(f"/v1/runs/{run_id}/predict", json={"instances": [[5, 3, 1, 0]]})
    assert predicted.status_code == 200, predicted.json
    with shared.db.session() as session:
        owner = session.get(RunRecord, run_id).tenant_id
    assert shared.store.exists(f"runs/{owner}/{run_id}/model")
    assert shared.store.exists(f"runs/{owner}/{run_id}/report.html")
    assert f"run-{run_id}" in optuna.study.get_all_study_names(shared.study_storage())
    cached = shared.settings.cache_dir / "api-models" / owner / run_id
    assert any(cached.glob("*"))

    assert client.delete(f"/v1/runs/{run_id}").status_code == 204
    expect_problem(client.get(f"/v1/runs/{run_id}"), 404, "run.unknown")
    predict = client.post(f"/v1/runs/{run_id}/predict", json={"instances": [[5, 3, 1, 0]]})
    expect_problem(predict, 404, "run.unknown")
    assert not shared.store.exists(f"runs/{owner}/{run_id}")
    assert f"run-{run_id}" not in optuna.study.get_all_study_names(shared.study_storage())
    assert not cached.exists()
    assert client.get(f"/v1/datasets/{iris_id}").status_code == 200  # its data is kept
    expect_problem(client.delete(f"/v1/runs/{run_id}"), 404, "run.unknown")


def test_an_active_run_is_not_deleted_until_it_stops(
    queued: Queued, start_run: Send, expect_problem: Problem
) -> None:
    client, dataset_id = queued
    run_id = start_run(client, dataset_id).json["id"]
    expect_problem(client.delete(f"/v1/runs/{run_id}"), 409, "run.active")
    set_running(client, run_id, utcnow())
    client.post(f"/v1/runs/{run_id}/cancel")  # asked; the running trial still finishes
    expect_problem(client.delete(f"/v1/runs/{run_id}"), 409, "run.active")
    assert client.get(f"/v1/runs/{run_id}").json["state"] == "running"


def test_a_cancelled_run_that_never_tuned_is_deleted(queued: Queued, start_run: Send) -> None:
    client, dataset_id = queued
    run_id = start_run(client, dataset_id).json["id"]
    client.post(f"/v1/runs/{run_id}/cancel")
    assert client.delete(f"/v1/runs/{run_id}").status_code == 204
    assert client.get("/v1/runs").json["total"] == 0


def test_another_tenants_run_is_not_deleted(
    shared_other: FlaskClient, run_id: str, shared_client: FlaskClient, expect_problem: Problem
) -> None:
    expect_problem(shared_other.delete(f"/v1/runs/{run_id}"), 404, "run.unknown")
    assert shared_client.get(f"/v1/runs/{run_id}").json["state"] == "succeeded"


def test_a_run_asked_for_its_learning_curve_returns_it(
    client: FlaskClient, iris_id: str, start_run: Send
) -> None:
    run = start_run(client, iris_id, learning_curve=True).json
    assert run["state"] == "succeeded" and run["learning_curve"] is True
    curve = run["result"]["learning_curve"]
    assert [p["share"] for p in curve["points"]] == [0.25, 0.5, 0.75, 1.0]
    assert curve["per_class"] == 50 and curve["metric"] == "accuracy"
    assert curve["gain"] is not None or curve["note"]
    report = client.get(f"/v1/runs/{run['id']}/report?format=md").get_data(as_text=True)
    assert "## Would more data help?" in report
    plain = start_run(client, iris_id).json
    assert plain["learning_curve"] is False and plain["result"]["learning_curve"] is None


def test_a_run_asked_to_recalibrate_keeps_its_temperature(
    client: FlaskClient, iris_id: str, start_run: Send
) -> None:
    run = start_run(client, iris_id, recalibrate=True).json
    assert run["state"] == "succeeded" and run["recalibrate"] is True
    found = run["result"]["recalibration"]
    assert found["rows"] == 150 and found["temperature"] > 0
    assert (found["temperature"] == 1.0) == bool(found["note"])
    plain = start_run(client, iris_id).json
    assert plain["recalibrate"] is False and plain["result"]["recalibration"] is None
