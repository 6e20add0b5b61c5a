"""Tuned against default accuracy, and what pruning saves, at a 20-trial budget.

    .venv/bin/python -m bench.tuning --tasks 20 --target digits --shots 5
    .venv/bin/python -m bench.tuning --families transfer --target tabular:0:synthetic_covariate

For each of ``--tasks`` seeded 5-way tasks and each family: the family's default learner, and
the best learner of a :func:`learners.tuning.tune` study on the support set (``--trials``
trials, TPE, all the family's variants) — once with the median pruner and once without — each
refitted on the whole support set and scored on the queries. Reported per family: mean query
accuracy of default / tuned-with-pruning / tuned-without-pruning (with 95 % intervals), the
mean tuning time with and without pruning, and the share of trials pruned. Studies live in
memory. Tasks run in ``--workers`` processes with one torch thread each; ``--families`` measures
only those families (same seeds, so their rows are the ones a full run gives).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import optuna
import torch

from advisor.datasets import sample_task
from bench.learners import FIRST_SEED, source_for, target_data
from learners import FAMILIES, Learner, make_learner
from learners.tuning import tune

optuna.logging.set_verbosity(optuna.logging.WARNING)


def run_task(
    arguments: tuple[str, int, int, int, int, tuple[str, ...]],
) -> dict[str, dict[str, float]]:
    target, shots, seed, trials, folds, families = arguments
    torch.set_num_threads(1)
    task = sample_task(target_data(target), ways=5, shots=shots, queries=15, seed=seed)
    results: dict[str, dict[str, float]] = {}
    for family in families:
        source = None if family == "scratch" else source_for(target)

        def score(model: Learner) -> float:
            fitted = model.fit(task.X_support, task.y_support)
            return float(np.mean(fitted.predict(task.X_query) == task.y_query))

        row = {"default": score(make_learner(family, source=source, random_state=seed))}
        for pruner in ("median", "none"):
            start = time.perf_counter()
            result = tune(
                family,
                task.X_support,
                task.y_support,
                source=source,
                n_trials=trials,
                storage=optuna.storages.InMemoryStorage(),
                pruner=pruner,
                folds=folds,
                seed=seed,
            )
            row[f"seconds_{pruner}"] = time.perf_counter() - start
            row[f"tuned_{pruner}"] = score(result.make(source))
            states = [t.state for t in result.study.trials]
            row[f"pruned_{pruner}"] = states.count(optuna.trial.TrialState.PRUNED) / len(states)
        results[family] = row
    return results


def interval(values: list[float]) -> str:
    array = 100 * np.asarray(values)
    half = 1.96 * array.std(ddof=1) / np.sqrt(array.size) if array.size > 1 else float("nan")
    return f"{array.mean():.1f} ± {half:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--target", default="digits")
    parser.add_argument("--shots", type=int, default=5)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--families", nargs="+", choices=list(FAMILIES), default=list(FAMILIES))
    args = parser.parse_args()
    families = tuple(f for f in FAMILIES if f in args.families)
    started = time.perf_counter()
    jobs = [
        (args.target, args.shots, FIRST_SEED + seed, args.trials, args.folds, families)
        for seed in range(args.tasks)
    ]
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        outcomes = list(pool.map(run_task, jobs))
    total = time.perf_counter() - started
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d")
    print(
        f"`python -m bench.tuning --tasks {args.tasks} --target {args.target} --shots "
        f"{args.shots} --trials {args.trials} --folds {args.folds}"
        + ("" if families == tuple(FAMILIES) else f" --families {' '.join(families)}")
        + f"` — {now}, "
        f"{platform.machine()}, {os.cpu_count()} CPUs, {args.workers} workers; "
        f"{total / 60:.0f} min in all\n"
    )
    print(
        "| family | default | tuned (median pruner) | tuned (no pruner) | tuning time, pruner "
        "| tuning time, none | trials pruned |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for family in families:
        rows = [outcome[family] for outcome in outcomes]
        column = {key: [row[key] for row in rows] for key in rows[0]}
        print(
            f"| {family} | {interval(column['default'])} | {interval(column['tuned_median'])} "
            f"| {interval(column['tuned_none'])} | {np.mean(column['seconds_median']):.0f} s "
            f"| {np.mean(column['seconds_none']):.0f} s "
            f"| {100 * np.mean(column['pruned_median']):.0f} % |"
        )


if __name__ == "__main__":
    main()
