"""Tuning for accuracy or for balanced accuracy on tables with a rare class.

    OMP_NUM_THREADS=1 .venv/bin/python -m bench.imbalanced          # about 2 min on 2 cores

scikit-learn's bundled breast cancer (malignant made rare), wine (class 2 made rare) and the
digits 0–4 (digit 3 made rare), read as tables. Each training set holds ``--common`` rows of
every class but the rare one, and ``common / ratio`` rows of the rare class; every other row
of the table is the test set. The scratch family (logistic regression and boosting) is tuned
on the training set as ``advisor run --family scratch`` tunes it — the defaults as the
incumbent, ``--trials`` trials — once maximising accuracy and once balanced accuracy (which
also searches the class priors), and the final model is scored on the test set — and, to
separate the re-weighting from the tuning, the accuracy-tuned configuration with its
probabilities re-weighted to equal classes after the fact: balanced
accuracy (the mean of the classes' recalls, which the test set's own class mix does not move)
and the rare class's recall. Means over ``--seeds`` draws.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
import optuna
from sklearn.datasets import load_breast_cancer, load_digits, load_wine

from learners.tuning import fold_score, tune

TABLES: dict[str, tuple[Callable[..., Any], int, tuple[int, ...]]] = {
    # name: (loader, rare class, classes kept)
    "breast cancer": (load_breast_cancer, 0, (0, 1)),
    "wine": (load_wine, 2, (0, 1, 2)),
    "digits 0-4": (load_digits, 3, (0, 1, 2, 3, 4)),
}
METRICS = ("accuracy", "balanced_accuracy")
ARMS = {"accuracy": "accuracy", "balanced_accuracy": "balanced accuracy"}
REWEIGHTED = "accuracy, then equal priors"
"""The accuracy-tuned configuration with its probabilities re-weighted to equal classes after
tuning: what the re-weighting alone does, without tuning for balanced accuracy."""


def _split(
    table: str, ratio: int, common: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    loader, rare, kept = TABLES[table]
    X, y = loader(return_X_y=True)
    rng = np.random.default_rng(seed)
    train: list[int] = []
    for label in kept:
        rows = rng.permutation(np.flatnonzero(y == label))
        take = max(2, round(common / ratio)) if label == rare else common
        train.extend(rows[:take].tolist())
    chosen = np.zeros(y.size, dtype=bool)
    chosen[train] = True
    test = ~chosen & np.isin(y, kept)
    return X[chosen], y[chosen], X[test], y[test]


def _measure(job: tuple[str, int, int, int, int, str]) -> list[dict[str, Any]]:
    table, ratio, common, seed, trials, metric = job
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    data = _split(table, ratio, common, seed)
    X, y = data[0], data[1]
    result = tune(
        "scratch",
        X,
        y,
        choices=["logreg", "gbm"],
        n_trials=trials,
        seed=seed,
        storage=optuna.storages.InMemoryStorage(),
        warm_start=[("logreg", {})],
        incumbent=True,
        metric=metric,  # type: ignore[arg-type]
    )
    found = [_scored(result.make(None), table, data) | {"arm": ARMS[metric]}]
    if metric == "accuracy":  # the same configuration, its probabilities re-weighted after
        reweighted = result.make(None)
        reweighted.class_prior = "equal"
        found.append(_scored(reweighted, table, data) | {"arm": REWEIGHTED})
    return [row | {"table": table, "ratio": ratio, "seed": seed} for row in found]


def _scored(model: Any, table: str, data: tuple[np.ndarray, ...]) -> dict[str, Any]:
    X, y, X_test, y_test = data
    right = model.fit(X, y).predict(X_test) == y_test
    rare = y_test == TABLES[table][1]
    return {
        "balanced": fold_score(right, y_test, "balanced_accuracy"),
        "accuracy": float(np.mean(right)),
        "rare recall": float(np.mean(right[rare])),
        "equal priors": model.class_prior == "equal",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--ratios", type=int, nargs="+", default=[5, 15])
    parser.add_argument("--common", type=int, default=40, help="Rows of each common class.")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--trials", type=int, default=15)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    jobs = [
        (table, ratio, args.common, seed, args.trials, metric)
        for table in TABLES
        for ratio in args.ratios
        for seed in range(args.seeds)
        for metric in METRICS
    ]
    with ProcessPoolExecutor(args.workers) as pool:
        rows = [row for found in pool.map(_measure, jobs) for row in found]
    arms = (ARMS["accuracy"], REWEIGHTED, ARMS["balanced_accuracy"])
    print(
        "| table | rare class | tuned for | test balanced accuracy | rare-class recall "
        "| test accuracy | equal priors |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for table in TABLES:
        for ratio in args.ratios:
            rare = max(2, round(args.common / ratio))
            for arm in arms:
                group = [
                    r for r in rows if (r["table"], r["ratio"], r["arm"]) == (table, ratio, arm)
                ]
                mean = {
                    k: 100 * np.mean([r[k] for r in group])
                    for k in ("balanced", "rare recall", "accuracy")
                }
                chosen = sum(r["equal priors"] for r in group)
                print(
                    f"| {table} | {rare} vs {args.common} | {arm} "
                    f"| {mean['balanced']:.1f} % | {mean['rare recall']:.1f} % "
                    f"| {mean['accuracy']:.1f} % | {chosen} of {len(group)} |"
                )
    for arm in arms:
        group = [r for r in rows if r["arm"] == arm]
        print(
            f"\nAll tasks, {arm}: balanced accuracy "
            f"{100 * np.mean([r['balanced'] for r in group]):.1f} %, rare-class recall "
            f"{100 * np.mean([r['rare recall'] for r in group]):.1f} %, accuracy "
            f"{100 * np.mean([r['accuracy'] for r in group]):.1f} % ({len(group)} tasks)"
        )


if __name__ == "__main__":
    main()
