"""When should a tuned run leave the recommended defaults? Four rules on real tables.

    .venv/bin/python -m bench.switch_rules --shots 5 10 20 --seeds 6    # about 6 min, 1 core

scikit-learn's iris, wine, breast cancer and digits (as a 64-column table): ``shots`` rows
per class as training data (``--seeds`` draws), the rest as test data. Out of the knowledge
base's range, the advisor recommends scratch / logistic regression for such tables; a tuned
run then searches scratch (logistic regression, boosting, the small network) with 15 trials,
logistic regression's defaults being the *incumbent*. Each rule picks one trial of the same
study; the picked configuration is refitted on the training rows and scored on the test rows:

* *best trial* — the highest cross-validated accuracy (no incumbent);
* *one SE of the best* — the incumbent unless the best beats it by one Agresti–Coull
  standard error of its own accuracy (``Advisor.run`` until 2026-11-27);
* *paired, m candidates* — :func:`learners.tuning.best_of` now: McNemar's comparison on the
  examples both validated, at one standard error's level shared among the ``m`` trials;
* *defaults* — never leave the incumbent.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
from collections.abc import Callable

import numpy as np
import optuna
import pandas as pd
from optuna.trial import FrozenTrial, TrialState
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine

from advisor.kb.evaluate import markdown
from learners import make_learner
from learners.tuning import INCUMBENT, best_of, standard_error, tune

optuna.logging.set_verbosity(optuna.logging.WARNING)

TABLES = {
    "iris": load_iris,
    "wine": load_wine,
    "breast cancer": load_breast_cancer,
    "digits": load_digits,
}
TRIALS = 15


def _completed(study: optuna.Study) -> list[FrozenTrial]:
    return [t for t in study.trials if t.state == TrialState.COMPLETE]


def _one_se_of_the_best(study: optuna.Study) -> FrozenTrial:
    best, incumbent = study.best_trial, _incumbent(study)
    accuracy = float(best.value or 0.0)
    margin = standard_error(accuracy, int(best.user_attrs.get("validated", 0)))
    return incumbent if float(incumbent.value or 0.0) >= accuracy - margin else best


def _incumbent(study: optuna.Study) -> FrozenTrial:
    return next(t for t in _completed(study) if t.user_attrs.get(INCUMBENT))


def _paired(study: optuna.Study) -> FrozenTrial:
    chosen = best_of(study, "scratch")
    return next(
        t
        for t in _completed(study)
        if t.user_attrs["variant"] == chosen.variant and t.user_attrs["params"] == chosen.params
    )


RULES: dict[str, Callable[[optuna.Study], FrozenTrial]] = {
    "best trial": lambda study: study.best_trial,
    "one SE of the best": _one_se_of_the_best,
    "paired, m candidates": _paired,
    "defaults": _incumbent,
}


def _split(y: np.ndarray, shots: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    train = np.concatenate(
        [rng.choice(np.flatnonzero(y == c), shots, replace=False) for c in np.unique(y)]
    )
    return train, np.setdiff1d(np.arange(len(y)), train)


def measure(shots: int, seeds: int) -> dict[str, float]:
    """Mean test accuracy (%) of each rule's pick over every table and seed."""
    picked: dict[str, list[float]] = {rule: [] for rule in RULES}
    for load in TABLES.values():
        X, y = load(return_X_y=True)
        X = np.asarray(X, dtype=np.float64)
        for seed in range(seeds):
            train, test = _split(y, shots, seed)
            study = tune(
                "scratch",
                X[train],
                y[train],
                n_trials=TRIALS,
                seed=seed,
                warm_start=[("logreg", {})],
                incumbent=True,
                storage=optuna.storages.InMemoryStorage(),
            ).study
            scores: dict[int, float] = {}
            for rule, choose in RULES.items():
                trial = choose(study)
                if trial.number not in scores:
                    model = make_learner(
                        "scratch", variant=trial.user_attrs["variant"], **trial.user_attrs["params"]
                    ).fit(X[train], y[train])
                    scores[trial.number] = 100 * float(np.mean(model.predict(X[test]) == y[test]))
                picked[rule].append(scores[trial.number])
    return {rule: float(np.mean(values)) for rule, values in picked.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shots", type=int, nargs="+", default=[5, 10, 20])
    parser.add_argument("--seeds", type=int, default=6)
    args = parser.parse_args()
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d")
    shots = " ".join(str(s) for s in args.shots)
    print(
        f"`python -m bench.switch_rules --shots {shots} --seeds {args.seeds}` — {now}, "
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}\n"
    )
    rows = [
        {"shots": str(s), **{rule: round(v, 2) for rule, v in measure(s, args.seeds).items()}}
        for s in args.shots
    ]
    print(f"Mean test accuracy (%) of the configuration each rule keeps, {len(TABLES)} tables:\n")
    print(markdown(pd.DataFrame(rows)))


if __name__ == "__main__":
    main()
