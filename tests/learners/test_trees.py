"""Boosted trees as plain arrays: the scratch family's gbm saved without its training data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier

from learners import Learner, make_learner
from learners.errors import InvalidInputError
from learners.families.scratch import GradientBoostingLearner
from learners.trees import BLOCK_ROWS, classifier_ensembles, classifier_probabilities

from .synthetic import blob_classes


@pytest.mark.parametrize("classes", [2, 3, 5])
def test_the_trees_predict_exactly_what_scikit_learn_predicts(classes: int) -> None:
    rng = np.random.default_rng(classes)
    X, y = rng.normal(size=(150, 6)), rng.integers(0, classes, 150)
    model = GradientBoostingClassifier(
        n_estimators=25, max_depth=3, subsample=0.8, random_state=0
    ).fit(X, y)
    ensembles = classifier_ensembles(model)
    new = rng.normal(size=(BLOCK_ROWS + 300, 6)) * 3  # two blocks of rows
    raw = model.decision_function(new).reshape(len(new), -1)
    seen = new.astype(np.float32).astype(np.float64)  # as scikit-learn's trees see the inputs
    mine = np.column_stack([ensemble.predict(seen) for ensemble in ensembles])
    np.testing.assert_array_equal(mine, raw)  # the same sums, to the last bit
    probabilities = classifier_probabilities(ensembles, new)
    np.testing.assert_array_equal(probabilities, model.predict_proba(new))


@pytest.mark.parametrize("classes", [2, 3, 5])
def test_histogram_trees_predict_exactly_what_scikit_learn_predicts(classes: int) -> None:
    rng = np.random.default_rng(10 + classes)
    X, y = rng.normal(size=(400, 6)), rng.integers(0, classes, 400)
    model = HistGradientBoostingClassifier(
        max_iter=25, max_depth=3, max_leaf_nodes=None, early_stopping=False, random_state=0
    ).fit(X, y)
    ensembles = classifier_ensembles(model)
    assert len(ensembles) == (1 if classes == 2 else classes)
    new = np.vstack([rng.normal(size=(BLOCK_ROWS + 300, 6)) * 3, X])  # training values too
    raw = model.decision_function(new).reshape(len(new), -1)
    mine = np.column_stack([ensemble.predict(new) for ensemble in ensembles])
    np.testing.assert_array_equal(mine, raw)
    probabilities = classifier_probabilities(ensembles, new, float32_inputs=False)
    np.testing.assert_array_equal(probabilities, model.predict_proba(new))


def test_a_gbm_on_many_rows_is_histogram_boosting_and_saved_as_such(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From HIST_ROWS rows on (lowered here to 60) gbm bins its inputs; its trees, saved and
    read back, predict what scikit-learn's histogram model predicts, inputs in float64."""
    monkeypatch.setattr("learners.families.scratch.HIST_ROWS", 60)
    X, y = blob_classes(3, 30, 5, seed=7)
    model = make_learner("scratch", variant="gbm", max_depth=2, n_estimators=20).fit(X, y)
    assert model.histogram_
    codes = np.unique(y, return_inverse=True)[1].reshape(-1)
    reference = HistGradientBoostingClassifier(
        max_iter=20, max_depth=2, max_leaf_nodes=None, min_samples_leaf=1,
        early_stopping=False, random_state=0,
    ).fit(X.astype(np.float64), codes)  # fmt: skip
    trees = model.trees_[0]  # rows a hair either side of each split: float32 would move them
    splits = np.flatnonzero(~trees.leaf)
    near = np.repeat(X[:1].astype(np.float64), 2 * len(splits), axis=0)
    for side, rows in ((np.inf, near[::2]), (-np.inf, near[1::2])):
        rows[np.arange(len(splits)), trees.feature[splits]] = np.nextafter(
            trees.threshold[splits], side
        )
    new = np.vstack([X, near])
    np.testing.assert_array_equal(model.predict_proba(new), reference.predict_proba(new))
    monkeypatch.setattr(HistGradientBoostingClassifier, "fit", None)  # never fitted again
    again = Learner.load(model.save(tmp_path / "hist"))
    assert again.histogram_
    np.testing.assert_array_equal(again.predict_proba(new), model.predict_proba(new))
    few = make_learner("scratch", variant="gbm").fit(X[:40], y[:40])
    assert not few.histogram_  # under the threshold: the exact model, as the KB measured


def test_a_saved_gbm_holds_its_trees_and_loads_without_fitting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    X, y = blob_classes(3, 12, 5, seed=4)
    model = make_learner("scratch", variant="gbm", max_depth=2, n_estimators=30).fit(X, y)
    folder = model.save(tmp_path / "gbm")
    with np.load(folder / "model.npz", allow_pickle=False) as stored:
        assert "train_x" not in stored.files  # the training rows are not kept

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("fitted again on load")

    monkeypatch.setattr(GradientBoostingClassifier, "fit", refuse)
    again = Learner.load(folder)
    np.testing.assert_array_equal(again.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(again.predict(X), model.predict(X))


def test_a_gbm_saved_with_its_training_data_is_fitted_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    X, y = blob_classes(3, 12, 5, seed=5)
    model = make_learner("scratch", variant="gbm").fit(X, y)
    codes = np.unique(y, return_inverse=True)[1].reshape(-1).astype(np.int64)
    older = {"train_x": X.astype(np.float64), "train_codes": codes}
    monkeypatch.setattr(GradientBoostingLearner, "_state", lambda self: ({}, older))
    folder = model.save(tmp_path / "older")
    monkeypatch.undo()
    np.testing.assert_array_equal(Learner.load(folder).predict_proba(X), model.predict_proba(X))


def test_trees_that_do_not_make_a_model_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    X, y = blob_classes(2, 10, 4, seed=6)
    model = make_learner("scratch", variant="gbm", max_depth=2).fit(X, y)
    _, arrays = model._state()
    arrays["trees.0.left"] = np.full_like(arrays["trees.0.left"], 10**6)  # out of range
    monkeypatch.setattr(GradientBoostingLearner, "_state", lambda self: ({}, arrays))
    folder = model.save(tmp_path / "bad")  # a consistent checksum over inconsistent trees
    monkeypatch.undo()
    with pytest.raises(InvalidInputError) as caught:
        Learner.load(folder)
    assert caught.value.code == "learners.corrupt_file"
