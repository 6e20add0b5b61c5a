"""Arrays given to ``Advisor`` (the Python API) are checked before anything is measured or tuned.

Each bad input gets the data layer's (or the learners') stable code at once — never a raw
exception, a run that tunes and then fails with a misleading "no trial completed", or a run
that silently scores garbage.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pytest
from click.testing import CliRunner
from PIL import Image

from advisor import Advisor
from advisor.cli import cli
from advisor.core import load_run
from advisor.errors import AdvisorError


def _table(rows: int = 24, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.array(["a", "b", "c"] * (rows // 3))
    X = rng.normal(size=(rows, 4)) + 2.0 * (y == "b")[:, None] - 2.0 * (y == "c")[:, None]
    return X, y


@pytest.fixture
def no_tuning(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if a study starts (every refusal must come before it)."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a study started")

    monkeypatch.setattr("advisor.core.tune", refuse)


def _code(call: Any) -> str:
    with pytest.raises(AdvisorError) as caught:
        call()
    return caught.value.code


NAN_ROW = np.array([[np.nan, 0.0, 0.0, 0.0]])
INF_ROW = np.array([[0.0, np.inf, 0.0, 0.0]])


@pytest.mark.parametrize(
    ("test_set", "code"),
    [
        (lambda X, y: (np.vstack([X[:-1], NAN_ROW]), y), "dataset.non_finite"),
        (lambda X, y: (np.vstack([X[:-1], INF_ROW]), y), "dataset.non_finite"),
        (lambda X, y: (X, None), "config.invalid"),  # X_test without y_test
        (lambda X, y: (None, y), "config.invalid"),  # y_test without X_test
        (lambda X, y: (X, y[:10]), "dataset.shape_mismatch"),
        (lambda X, y: (X[:, :3], y), "dataset.shape_mismatch"),
        (lambda X, y: (np.zeros((len(y), 8, 8)), y), "dataset.encoding_mismatch"),
        (lambda X, y: (X, np.array([None, *y[1:]], dtype=object)), "dataset.missing_labels"),
    ],
    ids=["nan", "inf", "no-y_test", "no-X_test", "short-y_test", "narrow", "images", "none"],
)
def test_a_bad_test_set_is_refused_before_tuning(no_tuning: None, test_set: Any, code: str) -> None:
    X, y = _table()
    X_test, y_test = test_set(X, y)
    adv = Advisor("glyphs")
    assert _code(lambda: adv.run(X, y, "scratch", 1, X_test=X_test, y_test=y_test)) == code


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (lambda X, y: (np.vstack([X[:-1], NAN_ROW]), y), "dataset.non_finite"),
        (lambda X, y: (X, np.array([None, *y[1:]], dtype=object)), "dataset.missing_labels"),
        (lambda X, y: (X, np.full(len(y), "a")), "dataset.single_class"),
        (lambda X, y: (X, y[:-1]), "dataset.shape_mismatch"),
        (lambda X, y: (X.astype(str), y), "dataset.bad_dtype"),
        (lambda X, y: (X[:, 0], y), "dataset.shape_mismatch"),
        (lambda X, y: (np.full((len(y), 6, 6), 200), y), "dataset.bad_dtype"),  # int64 0-255
        (lambda X, y: (np.full((len(y), 6, 6), 2.0), y), "dataset.bad_dtype"),
    ],
    ids=["nan", "none-label", "one-class", "short-y", "text", "1-d", "int-pixels", "float-pixels"],
)
def test_bad_training_data_is_refused_by_recommend_and_run(
    no_tuning: None, data: Any, code: str
) -> None:
    X, y = data(*_table())
    adv = Advisor("glyphs")
    assert _code(lambda: adv.recommend(X, y)) == code
    assert _code(lambda: adv.run(X, y, n_trials=1)) == code
    assert _code(lambda: adv.run(X, y, "scratch", 1)) == code


def test_an_unknown_family_is_named_as_such_not_as_a_source_mismatch(no_tuning: None) -> None:
    X, y = _table()  # a table against the glyphs (image) source
    assert _code(lambda: Advisor("glyphs").run(X, y, family="bogus", n_trials=1)) == (
        "learners.unknown_family"
    )
    assert _code(lambda: Advisor("glyphs").plan_run(X, y, "bogus")) == "learners.unknown_family"


@pytest.mark.parametrize(
    "budget",
    [
        {"n_trials": 0},
        {"n_trials": -3},
        {"n_trials": 2.5},
        {"n_trials": True},
        {"n_trials": 2, "timeout": 0},
        {"n_trials": 2, "timeout": -1.0},
        {"n_trials": None, "timeout": float("nan")},
        {"n_trials": None, "timeout": None},
    ],
    ids=["zero", "negative", "fraction", "bool", "no-time", "negative-time", "nan-time", "none"],
)
def test_a_budget_no_study_can_run_on_is_refused_at_once(
    no_tuning: None, budget: dict[str, Any]
) -> None:
    X, y = _table()
    with pytest.raises(AdvisorError) as caught:
        Advisor("glyphs").run(X, y, "scratch", **budget)
    assert caught.value.code == "learners.bad_parameter"
    assert "completed" not in caught.value.message  # not "No trial of the study completed"


def test_no_more_trials_finish_a_named_study_that_has_one(own_home: Path) -> None:
    """``n_trials=0`` is refused for a fresh study, but finishes a named one with trials done
    (``advisor run --study NAME`` after a run cut off between the study and the save)."""
    X, y = _table()
    adv = Advisor("glyphs")
    storage = optuna.storages.InMemoryStorage()
    first = adv.run(X, y, "scratch", 1, storage=storage, study_name="cut-off")
    with pytest.raises(AdvisorError) as caught:
        adv.run(X, y, "scratch", 0, storage=storage, study_name="never-started")
    assert caught.value.code == "learners.bad_parameter" and "0" in caught.value.message
    again = adv.run(X, y, "scratch", 0, storage=storage, study_name="cut-off")
    assert len(again.study.trials) == len(first.study.trials)
    assert again.cv_score == first.cv_score


def test_labels_of_a_pandas_column_or_mixed_kinds_run_and_save(own_home: Path) -> None:
    """Object arrays of strings (a pandas column) reached the model as objects, which it could
    not save (no pickle) after the whole study; labels mixing kinds did not even sort. Both are
    read as the data layer reads labels: as strings."""
    X, y = _table()
    adv = Advisor("glyphs")
    result = adv.run(X, y.astype(object), "scratch", 1, X_test=X, y_test=y.astype(object))
    assert result.test_score is not None and result.test_score > 0.5
    assert list(load_run(result.run_id).model.classes_) == ["a", "b", "c"]
    mixed = np.array([1, "b", "c"], dtype=object)[np.arange(len(y)) % 3]
    assert list(adv.run(X, mixed, "scratch", 1).model.classes_) == ["1", "b", "c"]


def test_a_saved_model_refuses_rows_it_would_answer_with_nonsense(own_home: Path) -> None:
    X, y = _table()
    result = Advisor("glyphs").run(X, y, "scratch", 1)
    model = load_run(result.run_id).model
    for rows in (np.vstack([X[:2], NAN_ROW]), INF_ROW, X[:, :3]):
        for answer in (model.predict, model.predict_proba, model.predict_log_proba):
            with pytest.raises(AdvisorError) as caught:
                answer(rows)
            assert caught.value.code == "learners.input_mismatch"


# -- the command line ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value"),
    [("--trials", "0"), ("--trials", "-3"), ("--timeout", "0"), ("--timeout", "-1")],
)
def test_the_cli_refuses_an_empty_budget(tmp_path: Path, option: str, value: str) -> None:
    data = tmp_path / "train.csv"
    data.write_text("x,label\n1,a\n2,a\n3,b\n4,b\n")
    result = CliRunner().invoke(cli, ["run", str(data), "--label", "label", option, value])
    assert result.exit_code == 2
    assert f"Invalid value for '{option}'" in result.output


def test_the_demo_refuses_an_empty_budget(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["demo", "--trials", "0", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "Invalid value for '--trials'" in result.output
    assert not any(tmp_path.iterdir())  # refused before the tour began


def test_the_cli_refuses_a_table_to_test_a_model_of_images(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reverse (images to test a table's model) was refused by the table's encoder; this
    way round the run tuned, then failed with learners.input_mismatch."""
    rng = np.random.default_rng(0)
    for label in ("a", "b"):
        (tmp_path / "images" / label).mkdir(parents=True)
        for index in range(3):
            pixels = rng.integers(0, 255, size=(8, 8), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / "images" / label / f"{index}.png")
    table = tmp_path / "test.csv"
    table.write_text("x,y,label\n1,2,a\n3,4,b\n")

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the run started")

    monkeypatch.setattr("advisor.core.Advisor.plan_run", refuse)
    arguments = ["--family", "scratch", "--trials", "1", "--test", str(table), "--label", "label"]
    result = CliRunner().invoke(cli, ["run", str(tmp_path / "images"), *arguments])
    assert result.exit_code == 1, result.output
    assert "error [dataset.encoding_mismatch]" in result.output
    assert "The training data was images, but this file holds a table." in result.output
