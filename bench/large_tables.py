"""The scratch family's ``gbm`` on large tables: exact splits against histogram boosting.

``gbm`` is scikit-learn's exact-split gradient boosting on few-shot data and histogram boosting
from ``learners.families.scratch.HIST_ROWS`` (10,000) training rows on. This bench fits the
learner both ways on tables of growing size — the exact model forced past its threshold for
the comparison — and prints each fit's seconds and its accuracy on 5,000 held-out rows, for the
default settings (100 stumps) and for the deeper trees a study often tries (62 trees of depth
4, the setting of one 267-second trial on a 20,000-row table).

The tables come from scikit-learn's ``make_classification`` (20 features, 10 informative,
3 classes, seeded): nothing is downloaded.

    python -m bench.large_tables [--rows 2000 10000 20000]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from datetime import date

import numpy as np
from sklearn.datasets import make_classification

from learners import make_learner
from learners.families import scratch

SETTINGS = {
    "defaults (100 stumps)": {},
    "62 trees of depth 4": {"n_estimators": 62, "max_depth": 4, "learning_rate": 0.1},
}
HELD_OUT = 5_000


def fit_once(X: np.ndarray, y: np.ndarray, test: tuple[np.ndarray, np.ndarray], *,
             histogram: bool, settings: dict[str, float]) -> tuple[float, float]:  # fmt: skip
    """Seconds to fit ``gbm`` on ``(X, y)`` one way, and its accuracy on ``test``."""
    saved = scratch.HIST_ROWS
    scratch.HIST_ROWS = 0 if histogram else len(X) + 1
    try:
        start = time.perf_counter()
        model = make_learner("scratch", variant="gbm", **settings).fit(X, y)
        seconds = time.perf_counter() - start
    finally:
        scratch.HIST_ROWS = saved
    assert model.histogram_ is histogram
    return seconds, float(np.mean(model.predict(test[0]) == test[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[2_000, 10_000, 20_000])
    args = parser.parse_args()
    print(
        f"`python -m bench.large_tables --rows {' '.join(map(str, args.rows))}` — "
        f"{date.today()}, {platform.machine()}, {os.cpu_count()} CPUs, "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, "
        f"Python {platform.python_version()}\n"
    )
    print("| rows | settings | exact: s | histogram: s | exact: accuracy | histogram: accuracy |")
    print("| --- | --- | --- | --- | --- | --- |")
    for rows in args.rows:
        X, y = make_classification(
            n_samples=rows + HELD_OUT, n_features=20, n_informative=10, n_classes=3,
            random_state=rows,
        )  # fmt: skip
        train, test = (X[:rows], y[:rows]), (X[rows:], y[rows:])
        for name, settings in SETTINGS.items():
            exact = fit_once(*train, test, histogram=False, settings=settings)
            binned = fit_once(*train, test, histogram=True, settings=settings)
            print(
                f"| {rows:,} | {name} | {exact[0]:.1f} | {binned[0]:.1f} | "
                f"{100 * exact[1]:.1f} % | {100 * binned[1]:.1f} % |",
                flush=True,
            )


if __name__ == "__main__":
    main()
