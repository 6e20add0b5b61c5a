"""One rule matches a model's answers to given labels: run's test score, predict, compare.

A number matches by its numeric value (``1`` is ``1.0``), anything else by its text
(``True`` is not ``1``); a label the model has no class for counts as wrong everywhere, with
the same warning (:func:`advisor.prediction.label_key`).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.metrics import balanced_accuracy_score

from advisor import Advisor
from advisor.cli import cli
from advisor.comparison import compare_predictions, reading_warnings
from advisor.prediction import (
    Classified,
    classify,
    label_key,
    match_labels,
    unknown_label_warnings,
)
from learners import Learner, make_learner


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        ("1", "1.0", True),
        ("1.0", "+1", True),
        ("2.50", "2.5", True),
        ("1e3", "1000", True),
        ("-0.0", "0", True),
        ("True", "1", False),  # booleans are not numbers
        ("False", "0", False),
        ("True", "True", True),
        ("Setosa", "setosa", False),  # text as written: case
        (" 1", "1", False),  # and spaces
        ("1.5", "1.50001", False),
    ],
)
def test_numbers_match_by_value_anything_else_by_text(first: str, second: str, same: bool) -> None:
    assert (label_key(first) == label_key(second)) is same


def test_match_labels_gives_each_label_its_class_or_none() -> None:
    classes = np.array([1.0, 2.0, 3.0])
    assert match_labels(np.array([3, 1, 4, 2]), classes).tolist() == [2, 0, -1, 1]
    assert match_labels(["2", "2.0", "x"], classes).tolist() == [1, 1, -1]
    assert match_labels(np.array([0, 1]), np.array([False, True])).tolist() == [-1, -1]
    assert match_labels(np.array([False, True]), np.array([False, True])).tolist() == [0, 1]
    assert match_labels(["01", "1"], np.array(["01", "1"])).tolist() == [0, 1]  # as written


def _data(seed: int, n: int = 60) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.choice([1.0, 2.0, 3.0], n)
    X = rng.normal(size=(n, 2)) + 0.8 * y[:, None]  # some signal, not all right
    return X, y


def _csv(X: np.ndarray, labels: np.ndarray) -> bytes:
    lines = ["x0,x1,y"] + [
        f"{float(a)!r},{float(b)!r},{v}" for (a, b), v in zip(X, labels, strict=True)
    ]
    return ("\n".join(lines) + "\n").encode()


def _every_path(
    model: Learner, X: np.ndarray, given: np.ndarray, metric: str = "accuracy"
) -> tuple[float | None, float | None, float, list[str], list[str], list[list[int]] | None]:
    """The score of ``model`` on ``(X, given)`` by run's test, predict and compare."""
    scored = Advisor("glyphs")._test(model, X, given, metric)  # type: ignore[arg-type]
    classified: Classified = classify(model, _csv(X, given), name="rows.csv", label="y")
    predicted = classified.predictions.labels
    compared = compare_predictions(classified.rows.y, predicted, predicted, metric)  # type: ignore[arg-type]
    by_predict = classified.accuracy if metric == "accuracy" else classified.balanced_accuracy
    return (
        scored.score,
        by_predict,
        compared.score_a,
        scored.warnings,
        classified.rows.warnings,
        scored.confusion,
    )


@pytest.mark.parametrize("metric", ["accuracy", "balanced_accuracy"])
def test_a_float_trained_model_scores_integer_labels_alike_on_every_path(metric: str) -> None:
    """The bug: run's test scored 1,2,3 against 1.0,2.0,3.0 as equal yet warned they were
    unknown; predict and compare scored the same rows 0 %."""
    X, y = _data(0)
    model = make_learner("scratch", variant="logreg").fit(X, y)
    predicted = model.predict(X)
    expected = (
        float(np.mean(predicted == y))
        if metric == "accuracy"
        else float(balanced_accuracy_score(y, predicted))
    )
    assert 0.2 < expected < 1.0
    as_integers = y.astype(int)
    run, predict, compare, run_notes, predict_notes, confusion = _every_path(
        model, X, as_integers, metric
    )
    assert run == pytest.approx(expected)
    assert predict == pytest.approx(expected)
    assert compare == pytest.approx(expected)
    assert run_notes == [] and predict_notes == []
    assert confusion is not None and np.trace(confusion) == int(np.sum(predicted == y))
    assert int(np.sum(confusion)) == y.size


def test_a_label_the_model_never_saw_is_treated_alike_on_every_path() -> None:
    X, y = _data(1)
    model = make_learner("scratch", variant="logreg").fit(X, y)
    given = y.astype(int)
    given[:7] = 4  # no class of the model's
    keys = np.array([str(v) for v in given])
    predicted = np.array([str(int(v)) for v in model.predict(X)])
    for metric, expected in (
        ("accuracy", float(np.mean(predicted == keys))),
        ("balanced_accuracy", float(balanced_accuracy_score(keys, predicted))),
    ):
        run, predict, compare, run_notes, predict_notes, confusion = _every_path(
            model, X, given, metric
        )
        assert run == pytest.approx(expected)
        assert predict == pytest.approx(expected)
        assert compare == pytest.approx(expected)
        assert confusion is not None and int(np.sum(confusion)) == y.size - 7  # left out
    assert predict_notes == [
        "Labels the model was not trained on: '4' (their rows count as wrong — in balanced "
        "accuracy, a class of its own, never recalled)."
    ]
    assert run_notes == [
        "Test labels the model was not trained on: '4' (their rows count as wrong — in "
        "balanced accuracy, a class of its own, never recalled; they are left out of the "
        "confusion matrix)."
    ]


def test_booleans_do_not_match_numbers_and_the_warning_says_so() -> None:
    X, y = _data(2)
    truth = y > 1.5
    model = make_learner("scratch", variant="logreg").fit(X, truth)
    run, predict, compare, run_notes, predict_notes, confusion = _every_path(
        model, X, truth.astype(int)
    )
    assert run == predict == compare == 0.0  # 0 and 1 are not False and True
    assert confusion == [[0, 0], [0, 0]]
    hint = (
        "The model's classes are True and False, which match only True and False, never the "
        "numbers 1 and 0."
    )
    assert [note.endswith(hint) for note in run_notes + predict_notes] == [True, True]
    assert unknown_label_warnings(truth, model.classes_) == []  # True and False themselves
    run_right, predict_right, _, _, _, _ = _every_path(model, X, truth)
    assert run_right == predict_right == pytest.approx(np.mean(model.predict(X) == truth))


def _write(path: Path, X: np.ndarray, labels: np.ndarray) -> Path:
    path.write_bytes(_csv(X, labels))
    return path


def test_run_predict_and_compare_agree_on_a_file_of_integer_labels(
    own_home: Path, tmp_path: Path
) -> None:
    """The report's steps: a table labeled 1.0/2.0/3.0, a test file labeled 1/2/3."""
    X, y = _data(3)
    X_test, y_test = _data(4)
    train = _write(tmp_path / "train.csv", X, y)
    test = _write(tmp_path / "test.csv", X_test, y_test.astype(int))
    runner = CliRunner()
    ran = runner.invoke(
        cli,
        ["run", str(train), "--label", "y", "--family", "scratch", "--trials", "1",
         "--test", str(test), "--json"],
    )  # fmt: skip
    assert ran.exit_code == 0, ran.output
    summary = json.loads(ran.output)
    assert summary["warnings"] == [] and sum(map(sum, summary["confusion"])) == y_test.size
    run_id = summary["run_id"]
    predicted = runner.invoke(cli, ["predict", run_id, str(test), "--label", "y", "--json"])
    assert predicted.exit_code == 0, predicted.output
    answer = json.loads(predicted.output)
    assert answer["warnings"] == []
    assert answer["accuracy"] == pytest.approx(summary["test_score"])
    assert 0.2 < summary["test_score"] < 1.0
    compared = runner.invoke(cli, ["compare", run_id, run_id, str(test), "--label", "y", "--json"])
    assert compared.exit_code == 0, compared.output
    assert json.loads(compared.output)["score_a"] == pytest.approx(summary["test_score"])
    assert json.loads(compared.output)["warnings"] == []
    unknown = _write(tmp_path / "unknown.csv", X_test, np.where(y_test == 1, 7, y_test).astype(int))
    again = runner.invoke(cli, ["compare", run_id, run_id, str(unknown), "--label", "y"])
    assert again.exit_code == 0, again.output
    # both models read the rows alike: the note once, unmarked
    assert "Warning      Labels the model was not trained on: '7'" in again.output
    assert "A: " not in again.output and "B: " not in again.output


def test_a_note_of_one_model_alone_is_marked() -> None:
    assert reading_warnings(["gap", "a only"], ["gap", "b only"]) == [
        "gap",
        "A: a only",
        "B: b only",
    ]
