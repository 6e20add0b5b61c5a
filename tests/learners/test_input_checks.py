"""Learners refuse inputs they would answer with nonsense, and tuning refuses empty budgets."""

from __future__ import annotations

from typing import Any

import numpy as np
import optuna
import pytest

from learners import make_learner
from learners.errors import InvalidInputError
from learners.families._linear import LinearModel
from learners.tuning import check_budget, tune
from meta_features.errors import AdvisorError


def _data(rows: int = 20) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    y = np.array(["a", "b"] * (rows // 2))
    return rng.normal(size=(rows, 3)) + 2.0 * (y == "b")[:, None], y


def _code(call: Any) -> str:
    with pytest.raises(AdvisorError) as caught:
        call()
    return caught.value.code


@pytest.mark.parametrize("variant", ["logreg", "gbm"])
@pytest.mark.parametrize(
    "rows",
    [
        np.array([[np.nan, 0.0, 0.0]]),
        np.array([[0.0, -np.inf, 0.0]]),
        np.zeros((2, 2)),  # too narrow
        np.zeros((2, 3, 3)),  # images for a vector model
        np.zeros(3),  # one row, not a matrix
        np.array([["a", "b", "c"]]),
    ],
    ids=["nan", "inf", "narrow", "images", "1-d", "text"],
)
def test_a_fitted_learner_refuses_rows_that_do_not_fit(variant: str, rows: np.ndarray) -> None:
    """A NaN row came back as the first class with NaN probabilities, a narrow one as a raw
    broadcasting ValueError."""
    X, y = _data()
    model = make_learner("scratch", variant=variant).fit(X, y)
    for answer in (model.predict, model.predict_proba, model.predict_log_proba):
        assert _code(lambda answer=answer: answer(rows)) == "learners.input_mismatch"


def test_fitting_refuses_non_finite_inputs_and_labels_that_do_not_sort() -> None:
    X, y = _data()
    bad = X.copy()
    bad[3, 1] = np.inf
    assert _code(lambda: make_learner("scratch").fit(bad, y)) == "learners.input_mismatch"
    labels = np.array([None, *y[1:]], dtype=object)
    assert _code(lambda: make_learner("scratch").fit(X, labels)) == "learners.bad_training_data"


def test_the_linear_model_refuses_rows_of_another_width_or_not_finite() -> None:
    X, y = _data()
    model = LinearModel.fit(X, (y == "b").astype(np.int64), C=1.0, seed=0)
    for rows in (X[:, :2], np.array([[np.nan, 0.0, 0.0]])):
        with pytest.raises(InvalidInputError) as caught:
            model.predict_proba(rows)
        assert caught.value.code == "learners.input_mismatch"


@pytest.mark.parametrize(
    ("n_trials", "timeout"),
    [(0, None), (-1, None), (1.5, None), (True, None), (1, 0), (1, -2.0), (None, float("inf"))],
)
def test_a_budget_no_study_can_run_on_is_refused(n_trials: Any, timeout: Any) -> None:
    assert _code(lambda: check_budget(n_trials, timeout)) == "learners.bad_parameter"


def test_tuning_refuses_an_empty_budget_or_one_class_before_any_study() -> None:
    """Both ended, after the study, in "No trial of the scratch study completed"."""
    X, y = _data()
    storage = optuna.storages.InMemoryStorage()
    for n_trials, timeout in ((0, None), (-2, None), (2, 0)):
        with pytest.raises(AdvisorError) as caught:
            tune("scratch", X, y, storage=storage, n_trials=n_trials, timeout=timeout)
        assert caught.value.code == "learners.bad_parameter"
    for labels in (np.full(len(y), "a"), y[:-1]):
        with pytest.raises(AdvisorError) as caught:
            tune("scratch", X, labels, n_trials=1, storage=storage)
        assert caught.value.code == "learners.bad_training_data"
    assert optuna.get_all_study_names(storage) == []
    with pytest.raises(AdvisorError) as caught:  # 0 trials continue a named study, if it has any
        tune("scratch", X, y, n_trials=0, storage=storage, study_name="empty")
    assert caught.value.code == "learners.bad_parameter" and "no completed trial" in str(
        caught.value
    )
    done = tune("scratch", X, y, n_trials=1, storage=storage, study_name="done")
    assert tune("scratch", X, y, n_trials=0, storage=storage, study_name="done").params == (
        done.params
    )
