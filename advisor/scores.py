"""How far to trust a run's scores: intervals, per-class recalls, calibration.

The probabilities' calibration is :func:`calibration`; the held-out recalls,
:func:`held_out_recalls`.

A test set of a few dozen rows measures a score loosely: 18 right of 20 is 90 %, and anything
from 70 % to 97 % would often give as much. A run's test score carries a central interval:

* **accuracy** — the Wilson score interval (E. B. Wilson, "Probable inference, the law of
  succession, and statistical inference", JASA 22, 1927), which keeps within [0, 1] and covers
  close to its level even for a handful of rows or a score near 100 %, unlike the normal
  approximation;
* **balanced accuracy** — the central interval of its posterior when each class's recall has
  a flat Beta(1, 1) prior: the mean of independent ``Beta(k_c + 1, n_c − k_c + 1)`` draws,
  ``k_c`` of the ``n_c`` test rows of class ``c`` right (K. H. Brodersen, C. S. Ong, K. E.
  Stephan, J. M. Buhmann, "The balanced accuracy and its posterior distribution", ICPR 2010),
  computed by seeded Monte Carlo.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any

import numpy as np

from advisor.schemas import Calibration, CalibrationBin, ClassRecall

LEVEL = 0.95
DRAWS = 20_000
CALIBRATION_BINS = 10


def wilson_interval(successes: int, n: int, level: float = LEVEL) -> tuple[float, float]:
    """Wilson's interval for a proportion ``successes / n``.

    ``z = Φ⁻¹((1 + level) / 2)``, ``p = k / n``:
    ``(p + z²/2n ± z √(p(1 − p)/n + z²/4n²)) / (1 + z²/n)``.
    """
    if n <= 0:
        return (math.nan, math.nan)
    z = NormalDist().inv_cdf(0.5 + level / 2)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


def balanced_accuracy_interval(
    right: np.ndarray, truth: np.ndarray, level: float = LEVEL, *, draws: int = DRAWS, seed: int = 0
) -> tuple[float, float]:
    """The central ``level`` interval of balanced accuracy's posterior (module docstring)."""
    _, codes = np.unique(np.asarray(truth), return_inverse=True)
    codes = codes.reshape(-1)
    if codes.size == 0:
        return (math.nan, math.nan)
    hits = np.bincount(codes, weights=np.asarray(right, dtype=np.float64))
    counts = np.bincount(codes).astype(np.float64)
    rng = np.random.default_rng(seed)
    recalls = rng.beta(hits + 1.0, counts - hits + 1.0, size=(draws, hits.size))
    means = recalls.mean(axis=1)
    tail = (1 - level) / 2
    return (float(np.quantile(means, tail)), float(np.quantile(means, 1 - tail)))


def held_out_recalls(answers: str, y: Any) -> list[ClassRecall]:
    """Each class's cross-validated recall from a trial's held-out answers.

    ``answers`` holds one character per training example, in the order of ``y``: ``1`` / ``0``
    when a fold that did not train on it answered it right / wrong, ``-`` when none held it out
    (``learners.tuning.ANSWERS``). Nothing when no example was held out (1-shot data validates
    on augmented copies) or the answers do not match ``y``.
    """
    labels = np.asarray(y)
    marks = np.array(list(answers), dtype="U1")
    if marks.size != labels.size or not np.any(marks != "-"):
        return []
    found = []
    for label in np.unique(labels):
        own = marks[labels == label]
        found.append(
            ClassRecall(
                label=str(label),
                held_out=int(np.sum(own != "-")),
                right=int(np.sum(own == "1")),
            )
        )
    return found


def calibration(confidence: Any, right: Any, bins: int = CALIBRATION_BINS) -> Calibration | None:
    """The expected calibration error of top-class probabilities, with its reliability bins.

    The rows are put in ``bins`` equal-width bins of their top probability ``p̂_i``; in bin
    ``b`` of ``n_b`` rows, ``conf_b`` is the mean ``p̂_i`` and ``acc_b`` the share answered
    right. ``ECE = Σ_b (n_b / N) |acc_b − conf_b|`` (Naeini, Cooper & Hauskrecht, AAAI 2015;
    Guo, Pleiss, Sun & Weinberger, "On calibration of modern neural networks", ICML 2017): 0
    when a model right on 80 % of the rows it gives 0.8 is right on exactly those. ``None``
    without rows.
    """
    p = np.asarray(confidence, dtype=np.float64)
    marks = np.asarray(right, dtype=bool)
    if p.size == 0:
        return None
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1], right=True), 0, bins - 1)
    found, ece = [], 0.0
    for b in range(bins):
        members = which == b
        if not members.any():
            continue
        mean_p, share = float(p[members].mean()), float(marks[members].mean())
        ece += members.sum() / p.size * abs(share - mean_p)
        found.append(
            CalibrationBin(
                low=float(edges[b]),
                high=float(edges[b + 1]),
                rows=int(members.sum()),
                confidence=mean_p,
                accuracy=share,
            )
        )
    return Calibration(ece=ece, bins=found)


def interval_phrase(interval: tuple[float, float]) -> str:
    """``95 % interval 86.7–93.9 %``: how the reports and the command line write one."""
    return f"95 % interval {100 * interval[0]:.1f}–{100 * interval[1]:.1f} %"


def score_interval(
    right: Any, truth: Any, metric: str = "accuracy", level: float = LEVEL
) -> tuple[float, float]:
    """The interval of ``metric`` for predictions marked ``right`` against labels ``truth``.

    ``metric`` is ``accuracy`` or ``balanced_accuracy``.
    """
    marks = np.asarray(right, dtype=bool)
    if metric == "balanced_accuracy":
        return balanced_accuracy_interval(marks, np.asarray(truth), level)
    return wilson_interval(int(marks.sum()), int(marks.size), level)
