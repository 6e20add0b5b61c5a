"""Would more labeled data help? The chosen configuration's learning curve on the user's data.

The question behind a small dataset is often not only *which* learner but *whether to label
more*. :func:`learning_curve` answers it from the data itself: the chosen configuration is
cross-validated on the run's own folds with a share ``s`` of each fold's training examples of
every class kept (at least one; nested subsets, so that each share adds to the last), for
``s`` in :data:`SHARES`.

The points are fitted with a power law of the error in the examples per class ``n``,

    ``ε(n) = b · n^(−c)``,   fitted as ``log ε = log b − c log n`` by least squares,

the shape learning curves of classifiers take over a wide middle range (Hestness et al.,
"Deep Learning Scaling is Predictable, Empirically", 2017; Viering & Loog, "The Shape of
Learning Curves: a Review", IEEE TPAMI 2022, who also list the curves that do not). Twice the
examples per class of the whole training data, ``N``, would then add

    ``gain = ε(N) − ε(2N) = b N^(−c) (1 − 2^(−c))``

to the score. It is an extrapolation from at most four points measured on little data: a
direction and a rough size, not a promise, and the report says so. ``bench.learning_curve``
measures how far off it is: against the gain realised by twice the data on held-out rows it
erred by less than predicting no gain or "as much as the last doubling", and tended to fall
short of the realised gain (docs/BENCHMARKS.md, "Learning curves"). No range is given: the
spread of the fit over resampled folds, tried first, held the realised gain far less often
than a range should. No gain is given when the
folds train on the same number of examples at every share (two examples per class), when
fewer than two points have errors left, or when the error did not fall with more data.
The examples per class are means over the classes; with imbalanced classes the curve's note
says how many the smallest class trained on at each share (:func:`imbalance_note`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from advisor.schemas import CurvePoint, LearningCurve
from learners import Learner, Source
from learners.tuning import (
    Metric,
    Split,
    TuningResult,
    fold_score,
    metric_label,
    study_splits,
)

SHARES = (0.25, 0.5, 0.75, 1.0)
"""The shares of each fold's training examples (of every class) the curve is measured at."""
IMBALANCED = 3.0
"""Classes this many times larger than the smallest make the curve say so: its examples per
class are means over the classes, and the smallest trains on far fewer (the recommendation's
``IMBALANCED`` risk takes the same ratio)."""
IMBALANCE_NOTE = "The classes are imbalanced"
"""How the note about imbalanced classes begins (after any reason why there is no gain)."""


def kept_rows(train: np.ndarray, codes: np.ndarray, share: float, seed: int) -> np.ndarray:
    """``train``'s rows with a ``share`` of each class kept (at least one), nested in ``share``.

    Each class's rows are put in one seeded order and its first ``max(1, round(share · n_c))``
    kept, so a larger share keeps a superset of a smaller one's rows.
    """
    rng = np.random.default_rng(seed)
    kept = []
    for code in np.unique(codes[train]):
        own = train[codes[train] == code]
        order = own[rng.permutation(own.size)]
        kept.append(order[: max(1, round(share * own.size))])
    return np.sort(np.concatenate(kept))


def power_law(per_class: np.ndarray, errors: np.ndarray) -> tuple[float, float] | None:
    """``(b, c)`` of ``ε = b · n^(−c)`` by least squares on the logs; None where it cannot be.

    Only points with an error above 0 count; at least two distinct ``n`` must remain.
    """
    usable = errors > 0
    n, e = np.log(per_class[usable]), np.log(errors[usable])
    if np.unique(n).size < 2:
        return None
    slope, intercept = np.polyfit(n, e, 1)
    return float(np.exp(intercept)), float(-slope)


def doubling_gain(b: float, c: float, per_class: float) -> float:
    """``ε(N) − ε(2N)`` under ``ε = b n^(−c)``, errors capped at 1; 0 where ``c ≤ 0``."""
    if c <= 0:
        return 0.0
    return float(min(1.0, b * per_class**-c) - min(1.0, b * (2 * per_class) ** -c))


def learning_curve(
    make: Callable[[], Learner],
    X: np.ndarray,
    codes: np.ndarray,
    splits: Sequence[Split],
    *,
    metric: Metric = "accuracy",
    shares: Sequence[float] = SHARES,
    seed: int = 0,
) -> LearningCurve:
    """The curve of ``make()``'s learners over ``splits`` (the study's folds), and its gain.

    ``codes`` are the labels as ``0..K-1``; each split's training rows are cut to each share.
    The examples per class are means over the classes; where the largest class has
    :data:`IMBALANCED` times the examples of the smallest, the curve's note says how many the
    smallest had at each share (:func:`imbalance_note`).
    """
    counts = np.bincount(codes)
    per_class_now = float(counts.mean())
    points: list[CurvePoint] = []
    smallest: list[float] = []
    seen: set[tuple[int, ...]] = set()
    for share in sorted(shares):
        kept = [
            kept_rows(split.train, codes, share, seed + fold) for fold, split in enumerate(splits)
        ]
        sizes = tuple(rows.size for rows in kept)
        if sizes in seen:
            continue
        seen.add(sizes)
        scores = []
        for rows, split in zip(kept, splits, strict=True):
            model = make().fit(X[rows], codes[rows])
            scores.append(
                fold_score(model.predict(split.X_val) == split.y_val, split.y_val, metric)
            )
        per_class = float(np.mean([np.bincount(codes[rows]).mean() for rows in kept]))
        smallest.append(
            float(np.mean([np.bincount(codes[rows], minlength=counts.size).min() for rows in kept]))
        )
        points.append(
            CurvePoint(share=share, per_class=per_class, score=float(np.mean(scores)), folds=scores)
        )
    curve = with_gain(LearningCurve(metric=metric, points=points, per_class=per_class_now))
    imbalance = imbalance_note(counts, smallest)
    if imbalance:
        note = f"{curve.note} {imbalance}" if curve.note else imbalance
        curve = curve.model_copy(update={"note": note})
    return curve


def imbalance_note(counts: np.ndarray, smallest: Sequence[float]) -> str:
    """What the mean examples per class hide, where classes are :data:`IMBALANCED`; else "".

    ``counts`` are each class's examples in all the training data, ``smallest`` the smallest
    class's training examples at each share (the mean over the folds).
    """
    if counts.size == 0 or counts.max() < IMBALANCED * max(int(counts.min()), 1):
        return ""
    at = ", ".join(_count(n) for n in smallest)
    return (
        f"{IMBALANCE_NOTE} ({int(counts.max())} examples of the largest, {int(counts.min())} "
        f"of the smallest): the examples per class are means over the classes, and the "
        f"smallest class trained on {at} at these shares, so the curve speaks for the larger "
        "classes."
    )


def with_gain(curve: LearningCurve) -> LearningCurve:
    """``curve`` with its fitted exponent and the gain of twice the data, or a note why not."""
    if len(curve.points) < 2:
        return curve.model_copy(
            update={
                "note": "Every share trains on the same examples per class: too few "
                "examples to draw a curve."
            }
        )
    per_class = np.array([p.per_class for p in curve.points])
    fitted = power_law(per_class, 1.0 - np.array([p.score for p in curve.points]))
    if fitted is None:
        return curve.model_copy(
            update={"note": "No errors left to fit a curve to: more data cannot be seen to help."}
        )
    b, c = fitted
    if c <= 0:
        return curve.model_copy(
            update={
                "exponent": c,
                "gain": 0.0,
                "note": "The score did not grow with more data on these folds.",
            }
        )
    return curve.model_copy(update={"exponent": c, "gain": doubling_gain(b, c, curve.per_class)})


def run_learning_curve(
    result: TuningResult, source: Source | None, X: Any, y: Any, *, seed: int = 0
) -> LearningCurve:
    """The learning curve of a study's chosen configuration, on the folds the study used.

    The folds are :func:`learners.tuning.study_splits` with the study's seed, so the
    curve's last point retraces the chosen trial's cross-validation.
    """
    inputs, codes, splits = study_splits(X, y, source, seed=seed)
    return learning_curve(
        lambda: result.make(source).set_params(random_state=seed),
        inputs,
        codes,
        splits,
        metric=result.metric,
        seed=seed,
    )


def measured_phrase(curve: LearningCurve) -> str:
    """The curve's points: ``"93.5 % at 20, 96.5 % at 40 … examples per class"``.

    With imbalanced classes (the curve's note says so) the examples per class are named as
    the means they are.
    """
    points = ", ".join(f"{100 * p.score:.1f} % at {_count(p.per_class)}" for p in curve.points)
    mean = " on average" if IMBALANCE_NOTE in curve.note else ""
    return f"{points} examples per class{mean}"


def more_data_phrase(curve: LearningCurve) -> str:
    """What twice the data would add, with the points it rests on, and the curve's note.

    The note is why no gain is given (there is none, or it is 0 where the score did not grow)
    and, with imbalanced classes, how few examples the smallest class trained on.
    """
    measured = f"cross-validated {measured_phrase(curve)}"
    reason, mark, imbalance = curve.note.partition(IMBALANCE_NOTE)
    imbalance = f". {mark}{imbalance}".rstrip(".") if mark else ""
    if curve.gain is None or reason.strip():
        return f"{reason.strip().rstrip('.')}: {measured}{imbalance}"
    now = curve.per_class
    return (
        f"twice the examples per class ({_count(now)} → {_count(2 * now)}) would add about "
        f"{100 * curve.gain:.1f} points of {metric_label(curve.metric)}, by a power law fitted "
        f"to {measured}{imbalance}"
    )


def _count(n: float) -> str:
    """Examples per class as a reader counts them: ``2.5``, ``126``, ``2002`` (not ``2e+03``)."""
    return f"{n:.0f}" if n >= 100 else f"{n:.3g}"
