"""Permutation importance: what it measures, its column groups, a run's and a report's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from advisor import Advisor
from advisor.core import load_run
from advisor.datasets.encoder import TabularEncoder
from advisor.importance import MOST_COLUMNS, column_groups, permutation_importance
from advisor.reports.parts import Report
from advisor.reports.render import to_markdown
from advisor.reports.run_sections import IMPORTANCE_ROWS, _importance_section
from advisor.schemas import ColumnImportance
from learners.families.scratch import LogisticRegressionLearner


def test_the_column_the_labels_follow_matters_and_noise_does_not() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    y = (X[:, 0] > 0).astype(int)  # column 1 decides; 2 and 3 are noise

    def predict(rows: np.ndarray) -> np.ndarray:
        return (rows[:, 0] > 0).astype(int)

    found = permutation_importance(predict, X, y, {"a": [0], "b": [1], "c": [2]})
    assert found[0].column == "a"
    by_name = {item.column: item for item in found}
    assert by_name["a"].drop == pytest.approx(0.5, abs=0.08)  # shuffled: right half the time
    assert by_name["b"].drop == 0.0 and by_name["c"].drop == 0.0
    assert by_name["a"].spread > 0.0
    again = permutation_importance(predict, X, y, {"a": [0], "b": [1], "c": [2]})
    assert again == found  # seeded


def test_a_one_hot_columns_encoded_columns_are_shuffled_together() -> None:
    rng = np.random.default_rng(1)
    city = rng.integers(0, 3, size=90)
    X = np.column_stack([rng.normal(size=90), np.eye(3)[city]])
    y = city

    def predict(rows: np.ndarray) -> np.ndarray:
        assert np.array_equal(rows[:, 1:].sum(axis=1), np.ones(len(rows)))  # still one-hot
        return np.argmax(rows[:, 1:], axis=1)

    found = permutation_importance(
        predict, X, y, {"x": [0], "city": [1, 2, 3]}, metric="balanced_accuracy"
    )
    assert found[0].column == "city" and found[0].drop > 0.4


def test_column_groups_name_a_tables_columns() -> None:
    frame = pd.DataFrame(
        {"size": [1.0, 2.0, 3.0, 4.0], "city": ["x", "y", "z", "x"], "flag": ["t", "f", "t", "t"]}
    )
    encoder = TabularEncoder().fit(frame)
    groups = column_groups(encoder, len(encoder.feature_names_out_))
    assert groups == {"size": [0], "city": [1, 2, 3], "flag": [4]}  # a binary one-hot is 1
    assert TabularEncoder.from_state(encoder.state()).column_groups_ == groups
    ordinal = TabularEncoder(categorical="ordinal").fit(frame)
    assert ordinal.column_groups_ == {"size": [0], "city": [1], "flag": [2]}
    assert column_groups(None, 2) == {"column 1": [0], "column 2": [1]}
    assert column_groups(None, MOST_COLUMNS + 1) is None  # too wide to measure


def test_a_table_run_keeps_its_columns_importance(own_home: Path) -> None:
    rng = np.random.default_rng(2)
    X = rng.normal(size=(120, 4))
    y = np.where(X[:, 2] > 0, "up", "down")
    adv = Advisor("glyphs")
    result = adv.run(X[:80], y[:80], family="scratch", n_trials=2, X_test=X[80:], y_test=y[80:])
    assert result.importance[0].column == "column 3"
    assert len(result.importance) == 4
    assert load_run(result.run_id).importance == result.importance
    images = np.zeros((4, 8, 8))
    model = LogisticRegressionLearner().fit(X, y)
    assert adv._importance(model, images, y[:4], None, "accuracy") == []  # no columns
    assert adv._importance(model, None, None, None, "accuracy") == []  # no test set


def test_the_report_lists_the_first_columns_and_sums_up_the_rest(tmp_path: Path) -> None:
    importance = [
        ColumnImportance(column=f"c{i}", drop=0.3 / (i + 1), spread=0.01)
        for i in range(IMPORTANCE_ROWS + 4)
    ]
    section = _importance_section(importance, "accuracy")
    text = to_markdown(Report("r", [section], {}), tmp_path)
    assert "| c0 | +30.0 | 1.0 |" in text
    assert f"| … 4 more columns | at most +{30 / (IMPORTANCE_ROWS + 1):.1f} |" in text
