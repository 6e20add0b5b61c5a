"""A table's units do not move its advice: its columns are standardised before it is measured."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_wine

import meta_features as mf
from advisor import Advisor
from advisor.core import read_local_kb
from advisor.kb.runner import FEATURE_PREFIX

# CART's choice among equally good splits rests on the thresholds' float rounding
TREE_LANDMARKS = ("best_node", "random_node", "worst_node", "elite_nn")


def _wine(rows: int = 60) -> tuple[np.ndarray, np.ndarray]:
    X, y = load_wine(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(y))[:rows]
    return X[order], y[order]


def _in_other_units(X: np.ndarray) -> np.ndarray:
    units = np.linspace(0.001, 1000.0, X.shape[1])  # grams to milligrams, and so on
    return X * units + np.arange(X.shape[1]) * 10.0


def test_the_advisor_measures_a_table_the_same_in_any_units() -> None:
    X, y = _wine()
    advisor = Advisor("glyphs")
    given = advisor.meta_features(X, y)
    other = advisor.meta_features(_in_other_units(X), y)
    differ = [
        name
        for name in given
        if not name.startswith(TREE_LANDMARKS)
        and not (math.isnan(given[name]) and math.isnan(other[name]))
        and not math.isclose(given[name], other[name], rel_tol=1e-6, abs_tol=1e-9)
    ]
    assert differ == []
    assert given["mean.mean"] == 0.0  # zero, not float noise
    assert "rescaled (standard)" in given.view
    as_given = mf.extract(X, y, groups=["statistical"])  # the extractor's own default
    assert as_given["mean.mean"] > 10  # wine's columns in their units: proline ~ 750


@pytest.mark.slow  # reads the shipped recommender: ~5 s the first time in a process
def test_a_table_and_the_same_table_in_other_units_get_the_same_advice() -> None:
    X, y = _wine()
    advisor = Advisor("glyphs")
    given = advisor.recommend(X, y)
    other = advisor.recommend(_in_other_units(X), y)
    standardised = advisor.recommend((X - X.mean(axis=0)) / X.std(axis=0), y)
    for advice in (other, standardised):
        assert (advice.family, advice.variant) == (given.family, given.variant)
        assert advice.explanation.in_range == given.explanation.in_range
        for family, predicted in given.predicted.items():
            assert advice.predicted[family].accuracy == pytest.approx(predicted.accuracy, abs=0.01)
        assert advice.explanation.neighbours[0].task_id == given.explanation.neighbours[0].task_id


def test_own_runs_measured_in_a_tables_units_lose_only_their_unit_bound_features(
    tmp_path: Path,
) -> None:
    unit_bound = FEATURE_PREFIX + "mean.mean"
    rows = pd.DataFrame(
        {
            "task_id": ["local/a", "local/b", "local/c"],
            "modality": ["vector", "vector", "image"],
            "rescale": [None, "standard", None],
            unit_bound: [750.0, 0.0, 0.4],
            FEATURE_PREFIX + "nr_class": [3.0, 3.0, 5.0],
            FEATURE_PREFIX + "logme": [0.5, 0.6, 0.7],
            "accuracy": [0.9, 0.8, 0.7],
        }
    )
    path = tmp_path / "local.parquet"
    rows.to_parquet(path, index=False)
    read = read_local_kb(path)
    assert math.isnan(read.at[0, unit_bound])  # a table in its own units, from before
    assert read.at[1, unit_bound] == 0.0 and read.at[2, unit_bound] == 0.4
    pd.testing.assert_frame_equal(read.drop(columns=unit_bound), rows.drop(columns=unit_bound))
    before = rows.drop(columns="rescale")  # written before the column existed
    before.to_parquet(path, index=False)
    assert read_local_kb(path)[unit_bound].isna().tolist() == [True, True, False]
