"""A tuned run for balanced accuracy: its scores, what it saves, its report, the local KB."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
from sklearn.metrics import balanced_accuracy_score

from advisor import Advisor
from advisor.core import load_run
from learners.families.scratch import LogisticRegressionLearner
from learners.tuning import TuningResult


def _imbalanced(seed: int, majority: int, minority: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.array(["common"] * majority + ["rare"] * minority)
    X = rng.normal(size=(y.size, 5)) + 1.3 * (y == "rare")[:, None]
    return X, y


def test_a_run_for_balanced_accuracy_scores_saves_and_reports_it(
    own_home: Path, tmp_path: Path
) -> None:
    X, y = _imbalanced(0, 80, 10)
    X_test, y_test = _imbalanced(1, 60, 60)
    adv = Advisor("glyphs")
    result = adv.run(
        X,
        y,
        family="scratch",
        n_trials=4,
        X_test=X_test,
        y_test=y_test,
        metric="balanced_accuracy",
    )
    assert result.metric == "balanced_accuracy"
    predicted = result.model.predict(X_test)
    assert result.test_score == pytest.approx(balanced_accuracy_score(y_test, predicted))
    assert result.study.user_attrs["metric"] == "balanced_accuracy"
    summary = result.summary()
    assert summary["metric"] == "balanced_accuracy"
    assert summary["class_prior"] == result.model.class_prior

    again = load_run(result.run_id)
    assert again.metric == "balanced_accuracy" and again.cv_score == result.cv_score
    assert again.model.class_prior == result.model.class_prior
    recalls = {c.label: c for c in result.cv_recalls}
    assert set(recalls) == {"common", "rare"} and recalls["rare"].held_out == 10
    balanced = np.mean([c.recall for c in result.cv_recalls])
    assert balanced == pytest.approx(result.cv_score, abs=0.05)  # pooled against fold means
    assert again.cv_recalls == result.cv_recalls
    assert result.calibration is not None and again.calibration == result.calibration
    assert sum(b.rows for b in result.calibration.bins) == len(y_test)
    assert np.array_equal(again.model.predict(X_test), predicted)

    text = adv.report(again, tmp_path / "run.md", format="md").read_text()
    assert "maximising balanced accuracy" in text
    assert "## Recall per class, cross-validated" in text
    assert f"Expected calibration error: **{100 * result.calibration.ece:.1f} points**" in text
    assert ("calibrated for data whose classes are equally many" in text) == (
        result.model.class_prior == "equal"
    )
    assert f"| rare | 10 | {100 * recalls['rare'].recall:.1f} % |" in text
    assert f"Balanced accuracy on the test set: **{100 * result.test_score:.1f} %**" in text


def test_an_accuracy_run_says_nothing_of_metrics(own_home: Path, tmp_path: Path) -> None:
    X, y = _imbalanced(2, 30, 10)
    adv = Advisor("glyphs")
    result = adv.run(X, y, family="scratch", n_trials=2, X_test=X, y_test=y)
    assert result.metric == "accuracy" and result.model.class_prior == "training"
    assert result.test_score == pytest.approx(np.mean(result.model.predict(X) == y))
    text = adv.report(result, tmp_path / "run.md", format="md").read_text()
    assert "maximising" not in text and "Cross-validated accuracy on the training" in text


def test_unseen_test_labels_are_a_class_never_recalled() -> None:
    X, y = _imbalanced(3, 30, 10)
    model = LogisticRegressionLearner().fit(X, y)
    truth = y.copy()
    truth[:5] = "unseen"
    scored = Advisor("glyphs")._test(model, X, truth, "balanced_accuracy")
    score, interval, warnings = scored.score, scored.interval, scored.warnings
    assert score is not None and interval is not None and interval[0] <= score <= interval[1]
    assert score == pytest.approx(balanced_accuracy_score(truth, model.predict(X)))
    assert warnings and "never recalled" in warnings[0]


def test_the_local_kb_keeps_accuracies_whatever_the_metric(own_home: Path) -> None:
    X, y = _imbalanced(4, 30, 10)
    adv = Advisor("glyphs")
    recommendation = adv.recommend(X, y)
    study = optuna.create_study(storage=optuna.storages.InMemoryStorage())
    measured = TuningResult(
        "scratch",
        "logreg",
        {"C": 1.0},
        0.9,
        study,
        1.0,
        metric="balanced_accuracy",
        cv_accuracy=0.7,
    )
    adv._remember(recommendation, [("scratch", measured)])
    local = pd.read_parquet(adv.local_kb_path())
    assert local["accuracy"].tolist() == [0.7]  # not the balanced 0.9
    assert not math.isnan(local["accuracy"].iloc[0])
