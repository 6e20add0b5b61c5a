"""Does temperature scaling on out-of-fold predictions make a run's probabilities truer?

    OMP_NUM_THREADS=1 .venv/bin/python -m bench.recalibration       # about 5 min on 2 cores

For each case — a table or the built-in Greek glyphs, and a learner with its default
parameters — ``N`` examples of each class are drawn as the training set and the rest of those
classes is the test set. The temperature is fitted as ``advisor run --recalibrate`` fits it
(:mod:`advisor.recalibration`: the study's folds, the chosen configuration's out-of-fold
probabilities, ``T`` minimising their log-loss); the learner is fitted on the training set and
its test log-probabilities are scored as fitted and tempered: the expected calibration error
(:func:`advisor.scores.calibration`, 10 bins) and the log-loss. Means over ``--draws`` draws;
"better" counts the draws whose tempered test log-loss is lower (a draw where no temperature
was kept is neither). Accuracy does not move.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from advisor.recalibration import (
    negative_log_likelihood,
    out_of_fold_log_probabilities,
    recalibration,
)
from advisor.scores import calibration
from bench.learning_curve import measured_draws, prepared

CASES: list[tuple[str, str, str, int]] = [
    # table, family, variant, examples per class N
    ("breast cancer", "scratch", "logreg", 30),
    ("breast cancer", "scratch", "logreg", 100),
    ("breast cancer", "scratch", "gbm", 30),
    ("breast cancer", "scratch", "gbm", 100),
    ("wine", "scratch", "logreg", 20),
    ("wine", "scratch", "gbm", 20),
    ("digits", "scratch", "logreg", 20),
    ("digits", "scratch", "logreg", 80),
    ("digits", "scratch", "gbm", 20),
    ("digits", "scratch", "gbm", 80),
    ("greek glyphs, 5 ways", "transfer", "linear_probe", 8),
    ("greek glyphs, 5 ways", "meta", "protonet", 8),
    ("greek glyphs, 20 ways", "transfer", "linear_probe", 3),
    ("greek glyphs, 20 ways", "meta", "protonet", 3),
]


def _measure(job: tuple[str, str, str, int, int]) -> dict[str, Any]:
    table, family, variant, per_class, _ = job
    make, (X, y, _, _, X_test, y_test), splits = prepared(job)
    found = recalibration(*out_of_fold_log_probabilities(make, X, y, splits))
    model = make().fit(X, y)
    fitted = model.predict_log_proba(X_test)
    model.calibration_temperature = found.temperature  # as the run saves it
    tempered = model.predict_log_proba(X_test)
    scores = {}
    for name, logs in (("fitted", fitted), ("tempered", tempered)):
        right = np.argmax(logs, axis=1) == y_test
        found_calibration = calibration(np.exp(logs.max(axis=1)), right)
        scores[name] = {
            "ece": np.nan if found_calibration is None else found_calibration.ece,
            "nll": negative_log_likelihood(logs, y_test),
        }
    return {
        "case": (table, f"{family} ({variant})", per_class),
        "temperature": found.temperature,
        "fitted": found.note == "",
        "examples": per_class,
        **{f"{k} {m}": v[m] for k, v in scores.items() for m in ("ece", "nll")},
    }


def main() -> None:
    rows = measured_draws(_measure, CASES, __doc__)
    print(
        "| data | learner | N per class | T (median) | fitted | test ECE as fitted | tempered "
        "| test log-loss as fitted | tempered | better |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for case in dict.fromkeys(r["case"] for r in rows):
        group = [r for r in rows if r["case"] == case]
        mean = {k: float(np.nanmean([r[k] for r in group])) for k in group[0] if " " in k}
        better = sum(r["tempered nll"] < r["fitted nll"] for r in group)
        table, learner, per_class = case
        print(
            f"| {table} | {learner} | {per_class} "
            f"| {np.median([r['temperature'] for r in group]):.2f} "
            f"| {sum(r['fitted'] for r in group)} of {len(group)} "
            f"| {100 * mean['fitted ece']:.1f} | {100 * mean['tempered ece']:.1f} "
            f"| {mean['fitted nll']:.3f} | {mean['tempered nll']:.3f} | {better} of {len(group)} |"
        )
    for name, low, high in (("30 or fewer", 0, 30), ("80 or more", 80, 10**6)):
        group = [r for r in rows if low <= r["examples"] <= high]
        print(f"\n{name} examples per class, {len(group)} draws: " + _overall(group))
    print(f"\nAll {len(rows)} draws: " + _overall(rows))


def _overall(rows: list[dict[str, Any]]) -> str:
    ece = [(r["fitted ece"], r["tempered ece"]) for r in rows]
    nll = [(r["fitted nll"], r["tempered nll"]) for r in rows]
    return (
        f"test ECE {100 * np.nanmean([a for a, _ in ece]):.1f} → "
        f"{100 * np.nanmean([b for _, b in ece]):.1f} points, log-loss "
        f"{np.mean([a for a, _ in nll]):.3f} → {np.mean([b for _, b in nll]):.3f}; lower "
        f"log-loss in {sum(b < a for a, b in nll)}, higher in {sum(b > a for a, b in nll)}."
    )


if __name__ == "__main__":
    main()
