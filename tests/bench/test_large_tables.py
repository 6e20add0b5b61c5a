"""bench.large_tables: each fit is made the way it says, and the threshold is left as it was."""

from __future__ import annotations

from sklearn.datasets import make_classification

from bench.large_tables import fit_once
from learners.families import scratch


def test_both_ways_are_fitted_and_the_threshold_restored() -> None:
    X, y = make_classification(n_samples=300, n_features=5, n_classes=3, n_informative=3,
                               random_state=0)  # fmt: skip
    test = (X[200:], y[200:])
    for histogram in (False, True):
        seconds, accuracy = fit_once(X[:200], y[:200], test, histogram=histogram, settings={})
        assert seconds > 0 and 0.5 < accuracy <= 1.0  # well above chance (1/3)
    assert scratch.HIST_ROWS == 10_000
