"""Does the learning curve's "twice the data" gain come true?

    OMP_NUM_THREADS=1 .venv/bin/python -m bench.learning_curve      # about 5 min on 2 cores

For each case — a table or the built-in Greek glyphs, and a learner with its default
parameters — ``N`` examples of each class are drawn as the training set, ``N`` more of each
class as the extra data, and the rest of those classes is the test set. On the ``N`` per class
the learner's learning curve is measured and extrapolated as ``advisor run --learning-curve``
does (:mod:`advisor.learning_curve`: the study's folds, a quarter to all of each fold's
training examples, a power law of the error). Then the learner is fitted on the ``N`` and on
the ``2N`` per class, and both are scored on the test set: the realised gain. Over
``--draws`` draws (each a new draw of rows, and for the glyphs of as many of Greek's 34
classes as the case names; glyphs stay uint8 pixels, as a user's images reach the learners):
the mean predicted and realised gains in accuracy points, the mean absolute error of the
prediction, and the errors of two naive predictions, all over the draws that gave a gain:
"the next doubling gains what the last did" (the curve's score at all of each fold's data
minus its score at half of it) and "no gain".

The tables are scikit-learn's bundled breast cancer, wine and digits (as 64 pixel columns).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from functools import cache, lru_cache
from typing import Any

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, load_wine

from advisor.learning_curve import learning_curve
from learners import Learner, learner_class
from learners.tensors import InputSpec
from learners.tuning import Split, validation_splits

Loader = Callable[[], tuple[np.ndarray, np.ndarray]]


def _glyphs() -> tuple[np.ndarray, np.ndarray]:
    from advisor.datasets import load_builtin

    greek = load_builtin("glyphs", "greek", seed=0)
    return np.asarray(greek.X), np.asarray(greek.y_encoded)


TABLES: dict[str, Loader] = {
    "breast cancer": lambda: load_breast_cancer(return_X_y=True),
    "wine": lambda: load_wine(return_X_y=True),
    "digits": lambda: load_digits(return_X_y=True),
    "greek glyphs, 5 ways": _glyphs,
    "greek glyphs, 20 ways": _glyphs,
}
CASES: list[tuple[str, str, str, tuple[int, ...]]] = [
    # table, family, variant, examples per class N
    ("breast cancer", "scratch", "logreg", (5, 10, 20)),
    ("breast cancer", "scratch", "gbm", (5, 10, 20)),
    ("wine", "scratch", "logreg", (5, 10, 20)),
    ("wine", "scratch", "gbm", (5, 10, 20)),
    ("digits", "scratch", "logreg", (5, 10, 20)),
    ("greek glyphs, 5 ways", "transfer", "linear_probe", (3, 5)),
    ("greek glyphs, 5 ways", "meta", "protonet", (3, 5)),
    ("greek glyphs, 20 ways", "transfer", "linear_probe", (3, 5)),
    ("greek glyphs, 20 ways", "meta", "protonet", (3, 5)),
]


def glyph_ways(table: str) -> int:
    """Classes drawn from the glyphs for each draw, from the name (tables keep all of theirs)."""
    return int(table.split(", ")[1].split(maxsplit=1)[0])


@cache
def _data(table: str) -> tuple[np.ndarray, np.ndarray]:
    return TABLES[table]()


@lru_cache(maxsize=1)
def _source() -> Any:
    from advisor.sources import get_source

    return get_source("glyphs")


def _draw(
    table: str, per_class: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Training rows (N per class), the extra rows (N more), and the test rows."""
    X, y = _data(table)
    rng = np.random.default_rng(seed)
    classes = np.unique(y)
    if table.startswith("greek"):
        classes = rng.choice(classes, glyph_ways(table), replace=False)
    train, extra, test = [], [], []
    for code, label in enumerate(classes):
        rows = rng.permutation(np.flatnonzero(y == label))
        train += [(row, code) for row in rows[:per_class]]
        extra += [(row, code) for row in rows[per_class : 2 * per_class]]
        test += [(row, code) for row in rows[2 * per_class :]]
    parts = []
    for chosen in (train, extra, test):
        rows, codes = np.array(chosen).T
        parts += [X[rows] if X.ndim > 2 else X[rows].astype(np.float64), codes]  # uint8 pixels
    X_train, y_train, X_extra, y_extra, X_test, y_test = parts
    return X_train, y_train, X_extra, y_extra, X_test, y_test


def prepared(
    job: tuple[str, str, str, int, int],
) -> tuple[Callable[[], Learner], tuple[np.ndarray, ...], list[Split]]:
    """A case's learner maker, its draw (training, extra and test rows) and the study's folds."""
    table, family, variant, per_class, seed = job
    source = None if family == "scratch" else _source()

    def make() -> Learner:
        return learner_class(family, variant)(source=source, random_state=seed)

    drawn = _draw(table, per_class, seed)
    spec = source.spec if source is not None else InputSpec.from_data(drawn[0])
    return make, drawn, validation_splits(drawn[0], drawn[1], spec, seed=seed)


def measured_draws(
    measure: Callable[[tuple[str, str, str, int, int]], dict[str, Any]],
    cases: list[tuple[str, str, str, int]],
    doc: str | None,
) -> list[dict[str, Any]]:
    """``measure`` of every case (table, family, variant, N) and draw, over worker processes.

    The command line's ``--draws`` (6) and ``--workers`` (2); ``doc``'s first line describes it.
    """
    parser = argparse.ArgumentParser(description=(doc or "").split("\n", 1)[0])
    parser.add_argument("--draws", type=int, default=6)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    jobs = [(*case, seed) for case in cases for seed in range(args.draws)]
    with ProcessPoolExecutor(args.workers) as pool:
        return list(pool.map(measure, jobs, chunksize=4))


def _measure(job: tuple[str, str, str, int, int]) -> dict[str, Any]:
    table, family, variant, per_class, seed = job
    make, drawn, splits = prepared(job)
    X, y, X_extra, y_extra, X_test, y_test = drawn
    curve = learning_curve(make, X, y, splits, seed=seed)
    now = float(np.mean(make().fit(X, y).predict(X_test) == y_test))
    both = make().fit(np.concatenate([X, X_extra]), np.concatenate([y, y_extra]))
    doubled = float(np.mean(both.predict(X_test) == y_test))
    halves = [p for p in curve.points if p.share in (0.5, 1.0)]
    naive = halves[-1].score - halves[0].score if len(halves) == 2 else 0.0
    return {
        "case": (table, f"{family} ({variant})", per_class),
        "predicted": curve.gain,
        "realised": doubled - now,
        "naive": naive,
    }


def _errors(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Mean predicted and realised gains, and the mean absolute errors, over the draws given."""
    given = [r for r in rows if r["predicted"] is not None]
    realised = np.array([r["realised"] for r in given])
    predicted = np.array([r["predicted"] for r in given])
    naive = np.array([r["naive"] for r in given])
    return {
        "predicted": float(predicted.mean()),
        "realised": float(realised.mean()),
        "ours": float(np.abs(predicted - realised).mean()),
        "last doubling": float(np.abs(naive - realised).mean()),
        "no gain": float(np.abs(realised).mean()),
        "given": len(given),
    }


def _summary(rows: list[dict[str, Any]]) -> str:
    found = _errors(rows)
    if not found["given"]:
        return f"| — | — | — | — | — | 0 of {len(rows)} |"
    return (
        f"| {100 * found['predicted']:+.1f} | {100 * found['realised']:+.1f} "
        f"| {100 * found['ours']:.1f} | {100 * found['last doubling']:.1f} "
        f"| {100 * found['no gain']:.1f} | {found['given']} of {len(rows)} |"
    )


def main() -> None:
    cases = [(t, f, v, n) for t, f, v, sizes in CASES for n in sizes]
    rows = measured_draws(_measure, cases, __doc__)
    print(
        "| data | learner | N per class | predicted gain | realised gain | error of the "
        "prediction | error of 'as the last doubling' | error of 'no gain' | a gain given |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for case in dict.fromkeys(r["case"] for r in rows):
        table, learner, per_class = case
        print(
            f"| {table} | {learner} | {per_class} "
            + _summary([r for r in rows if r["case"] == case])
        )
    found = _errors(rows)
    print(
        f"\nAll {len(rows)} draws ({found['given']} with a gain): predicted "
        f"{100 * found['predicted']:+.1f}, realised {100 * found['realised']:+.1f}; mean absolute "
        f"error {100 * found['ours']:.1f}, 'as the last doubling' "
        f"{100 * found['last doubling']:.1f}, 'no gain' {100 * found['no gain']:.1f} points."
    )
    cases = [
        [r for r in rows if r["case"] == case] for case in dict.fromkeys(r["case"] for r in rows)
    ]
    errors = [_errors(group) for group in cases if any(r["predicted"] is not None for r in group)]
    beats_none = sum(e["ours"] < e["no gain"] for e in errors)
    beats_last = sum(e["ours"] < e["last doubling"] for e in errors)
    print(
        f"The prediction erred less than 'no gain' in {beats_none} of {len(errors)} cases, "
        f"less than 'as the last doubling' in {beats_last}."
    )


if __name__ == "__main__":
    main()
