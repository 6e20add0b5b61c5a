"""Tuning for balanced accuracy: the metric, its weights, the paired rule, class priors."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np
import optuna
import pytest
from sklearn.metrics import balanced_accuracy_score

from learners.errors import BAD_PARAMETER, STUDY_MISMATCH, ConfigurationError
from learners.families.base import Learner, equal_prior_probabilities
from learners.families.scratch import LogisticRegressionLearner
from learners.registry import learner_class
from learners.tuning import (
    ANSWERS,
    CLASS_PRIOR,
    INCUMBENT,
    best_of,
    default_class_prior,
    example_weights,
    fold_score,
    tune,
)


def _imbalanced(seed: int = 0, majority: int = 60, minority: int = 8, dim: int = 4):
    """Two overlapping Gaussian classes, the second ``majority / minority`` times rarer."""
    rng = np.random.default_rng(seed)
    y = np.array([0] * majority + [1] * minority)
    X = rng.normal(size=(y.size, dim)) + 1.2 * y[:, None]
    return X, y


def test_fold_score_is_accuracy_or_the_mean_of_the_recalls() -> None:
    rng = np.random.default_rng(3)
    truth = rng.choice(["a", "b", "c"], size=200, p=[0.7, 0.2, 0.1])
    guess = np.where(rng.random(200) < 0.7, truth, "a")
    right = guess == truth
    assert fold_score(right, truth, "accuracy") == pytest.approx(np.mean(right))
    assert fold_score(right, truth, "balanced_accuracy") == pytest.approx(
        balanced_accuracy_score(truth, guess)
    )
    majority = truth == "a"  # always answering "a": right exactly on the a's
    assert fold_score(majority, truth, "balanced_accuracy") == pytest.approx(1 / 3)
    assert fold_score(majority, truth, "accuracy") > 0.6


def test_an_unknown_metric_is_refused() -> None:
    with pytest.raises(ConfigurationError) as caught:
        fold_score(np.ones(3, dtype=bool), np.zeros(3), "f1")  # type: ignore[arg-type]
    assert caught.value.code == BAD_PARAMETER
    with pytest.raises(ConfigurationError):
        example_weights([0, 1], "f1")  # type: ignore[arg-type]


def test_example_weights_sum_the_metric() -> None:
    y = np.array([0] * 12 + [1] * 3 + [2] * 5)
    right = np.random.default_rng(1).random(y.size) < 0.6
    for metric in ("accuracy", "balanced_accuracy"):
        weights = example_weights(y, metric)
        assert weights.sum() == pytest.approx(1.0)
        assert weights @ right == pytest.approx(fold_score(right, y, metric))
    balanced = example_weights(y, "balanced_accuracy")
    assert balanced[12] == pytest.approx(4 * balanced[0])  # a class four times smaller


def _trial(value: float, answers: str, *, incumbent: bool = False) -> optuna.trial.FrozenTrial:
    attrs = {ANSWERS: answers, "variant": "logreg", "params": {"C": 1.0}, "validated": 24}
    if incumbent:
        attrs[INCUMBENT] = True
    return optuna.trial.create_trial(
        params={"logreg.C": 1.0},
        distributions={"logreg.C": optuna.distributions.FloatDistribution(1e-4, 1e3, log=True)},
        value=value,
        user_attrs=attrs,
    )


def test_the_paired_rule_weighs_each_example_as_the_metric_does() -> None:
    # 20 examples of class 0, 4 of class 1. The challenger gets the 4 of the rare class right
    # and 4 of the common one wrong: level in accuracy, far ahead in balanced accuracy.
    y = np.array([0] * 20 + [1] * 4)
    incumbent = "1" * 20 + "0" * 4
    challenger = "0" * 4 + "1" * 16 + "1" * 4
    study = optuna.create_study(direction="maximize")
    study.add_trial(_trial(0.8, incumbent, incumbent=True))
    study.add_trial(_trial(0.9, challenger))
    level = best_of(study, "scratch", weights=example_weights(y, "accuracy"))
    assert level.cv_score == pytest.approx(0.8)  # W − L = 0: the incumbent stays
    assert best_of(study, "scratch").cv_score == pytest.approx(0.8)  # equal weights alike
    ahead = best_of(study, "scratch", weights=example_weights(y, "balanced_accuracy"))
    # D = 4/8 − 4/40 = 0.4 against z₂ √(4/64 + 4/1600) = 1.41 × 0.255 = 0.36
    assert ahead.cv_score == pytest.approx(0.9)


def test_tuning_for_balanced_accuracy_searches_the_class_priors(tmp_path: Path) -> None:
    X, y = _imbalanced()
    url = f"sqlite:///{tmp_path / 's.sqlite3'}"
    result = tune(
        "scratch",
        X,
        y,
        choices=["logreg"],
        n_trials=8,
        storage=url,
        study_name="rare",
        metric="balanced_accuracy",
        warm_start=[("logreg", {})],
        incumbent=True,
    )
    study = optuna.load_study(study_name="rare", storage=url)
    assert (
        study.user_attrs["metric"] == "balanced_accuracy"
        and result.metric == study.user_attrs["metric"]
    )
    defaults = study.trials[0]
    assert defaults.user_attrs[CLASS_PRIOR] == "equal"  # logistic regression learns priors
    searched = {t.params.get(CLASS_PRIOR) for t in study.trials[1:]}
    assert searched <= {"training", "equal"} and searched != {None}
    assert 0.0 <= result.cv_accuracy <= 1.0 and 0.0 <= result.cv_score <= 1.0
    for trial in study.trials:
        if trial.value is not None:  # the score is the metric; the accuracy is kept beside it
            assert 0.0 <= trial.user_attrs["accuracy"] <= 1.0
    assert result.make(None).class_prior == result.class_prior

    with pytest.raises(ConfigurationError) as caught:  # its trials are not accuracies
        tune("scratch", X, y, choices=["logreg"], n_trials=1, storage=url, study_name="rare")
    assert caught.value.code == STUDY_MISMATCH and "balanced_accuracy" in caught.value.message


def test_accuracy_studies_do_not_search_priors(tmp_path: Path) -> None:
    X, y = _imbalanced(seed=1)
    url = f"sqlite:///{tmp_path / 's.sqlite3'}"
    result = tune("scratch", X, y, choices=["logreg"], n_trials=3, storage=url, study_name="a")
    study = optuna.load_study(study_name="a", storage=url)
    assert all(CLASS_PRIOR not in t.params for t in study.trials)
    assert result.class_prior == "training" and result.cv_accuracy == pytest.approx(result.cv_score)


def test_prototype_classifiers_start_from_their_own_scores() -> None:
    assert default_class_prior(learner_class("meta", "protonet"), "balanced_accuracy") == (
        "training"
    )
    assert default_class_prior(learner_class("scratch", "gbm"), "balanced_accuracy") == "equal"
    assert default_class_prior(learner_class("scratch", "gbm"), "accuracy") == "training"


def test_equal_priors_reweigh_probabilities_by_bayes_rule() -> None:
    p = np.array([[0.8, 0.2], [0.6, 0.4], [0.5, 0.5], [0.0, 0.0]])
    prior = np.array([0.8, 0.2])
    adjusted = equal_prior_probabilities(p, prior)
    assert adjusted[:3].sum(axis=1) == pytest.approx(np.ones(3))
    assert adjusted[0] == pytest.approx([0.5, 0.5])  # exactly the prior: no evidence left
    assert adjusted[1, 1] == pytest.approx((0.4 / 0.2) / (0.6 / 0.8 + 0.4 / 0.2))
    assert np.argmax(adjusted[2]) == 1  # a tie under skewed priors goes to the rare class
    assert adjusted[3] == pytest.approx([0.5, 0.5])  # no mass: undecided, not NaN
    assert equal_prior_probabilities(p[:3], np.array([0.5, 0.5])) == pytest.approx(p[:3])


def test_equal_priors_recall_the_rare_class_and_survive_saving(tmp_path: Path) -> None:
    X, y = _imbalanced(seed=2, majority=200, minority=20)
    X_test, y_test = _imbalanced(seed=3, majority=200, minority=200)
    fitted = LogisticRegressionLearner().fit(X, y)
    as_fitted = fitted.predict(X_test)
    fitted.class_prior = "equal"
    equal = fitted.predict(X_test)
    rare = y_test == 1
    assert np.mean(equal[rare] == 1) > np.mean(as_fitted[rare] == 1) + 0.1
    assert balanced_accuracy_score(y_test, equal) > balanced_accuracy_score(y_test, as_fitted)
    assert fitted.class_frequencies_ == pytest.approx([200 / 220, 20 / 220])

    reloaded = Learner.load(fitted.save(tmp_path / "model"))
    assert reloaded.class_prior == "equal"
    assert np.array_equal(reloaded.predict(X_test), equal)


def test_models_saved_before_priors_load_as_fitted(tmp_path: Path) -> None:
    X, y = _imbalanced(seed=4)
    folder = LogisticRegressionLearner().fit(X, y).save(tmp_path / "model")
    with np.load(folder / "model.npz", allow_pickle=False) as stored:  # the old layout
        arrays = {k: stored[k] for k in stored.files if k != "class_frequencies"}
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **arrays)
    (folder / "model.npz").write_bytes(buffer.getvalue())
    document = json.loads((folder / "model.json").read_text())
    del document["class_prior"]
    document["sha256"]["model.npz"] = hashlib.sha256(buffer.getvalue()).hexdigest()
    (folder / "model.json").write_text(json.dumps(document))
    old = Learner.load(folder)
    assert old.class_prior == "training"
    assert old.class_frequencies_ == pytest.approx([0.5, 0.5])  # unknown: taken as equal


def test_a_bad_class_prior_is_refused_when_predicting() -> None:
    X, y = _imbalanced(seed=5)
    fitted = LogisticRegressionLearner().fit(X, y)
    fitted.class_prior = "uniform"  # type: ignore[assignment]
    with pytest.raises(ConfigurationError) as caught:
        fitted.predict(X)
    assert caught.value.code == BAD_PARAMETER
