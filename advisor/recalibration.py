"""Recalibrating a run's probabilities by temperature scaling on out-of-fold predictions.

A learner's probabilities can say 99 % where it is right 80 % of the time (networks tend to be
over-confident; Guo et al., "On Calibration of Modern Neural Networks", ICML 2017) or hedge
where it is sure (a nearest-prototype softmax). Temperature scaling fits one number ``T`` on
held-out predictions by minimising their negative log-likelihood,

    ``NLL(T) = −(1/n) Σᵢ log softmax(log pᵢ / T)[yᵢ]``,

and tempers every later probability with it (``learners``' :func:`tempered_probabilities`):
the answers stay the same, the confidence moves. The held-out predictions here are the chosen
configuration's on the study's own folds (:func:`out_of_fold_probabilities`), so nothing of the
test set is used. ``T`` is searched in ``[1/5, 5]`` on a log scale. No temperature is kept
(``T`` stays 1, and the reason is kept) on fewer than :data:`FEWEST_ROWS` held-out
predictions; when the folds made no mistake (then a smaller ``T`` always lowers the NLL, and
the fit would only make the model surer than any evidence allows); or when the best ``T``
removes less than :data:`LEAST_GAIN` of the held-out log-loss — as for probabilities that are
already 0 or 1, which no temperature of probabilities can soften (ProtoNet's softmax over
squared distances saturates so on the glyphs).

``python -m bench.recalibration`` measures what it does on held-out rows: with 80–100
examples per class it lowered the test log-loss in most draws and the expected calibration
error clearly; with 20–30 it was closer to a coin flip (docs/BENCHMARKS.md,
"Recalibrating probabilities").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar

from advisor.schemas import Recalibration
from learners import Learner, Source
from learners.families.base import tempered_probabilities
from learners.tuning import Split, TuningResult, study_splits

FEWEST_ROWS = 30
"""Held-out predictions needed to fit a temperature."""

BOUNDS = (1 / 5, 5.0)
"""The temperatures searched."""

LEAST_GAIN = 0.01
"""The share of the held-out log-loss a temperature must remove to be kept."""


def negative_log_likelihood(probabilities: np.ndarray, codes: np.ndarray) -> float:
    """``−(1/n) Σᵢ log pᵢ[yᵢ]``, probabilities floored at 1e-12."""
    p = probabilities[np.arange(codes.size), codes]
    return float(-np.mean(np.log(np.maximum(p, 1e-12))))


def fit_temperature(probabilities: np.ndarray, codes: np.ndarray) -> float:
    """The ``T`` in :data:`BOUNDS` that minimises the NLL of the tempered probabilities."""
    found = minimize_scalar(
        lambda log_t: negative_log_likelihood(
            tempered_probabilities(probabilities, float(np.exp(log_t))), codes
        ),
        bounds=(np.log(BOUNDS[0]), np.log(BOUNDS[1])),
        method="bounded",
    )
    return float(np.exp(found.x))


def out_of_fold_probabilities(
    make: Callable[[], Learner], X: np.ndarray, codes: np.ndarray, splits: Sequence[Split]
) -> tuple[np.ndarray, np.ndarray]:
    """Each fold's model's probabilities on its validation inputs, stacked, with their codes."""
    found, truth = [], []
    for split in splits:
        model = make().fit(X[split.train], codes[split.train])
        probabilities = np.zeros((split.y_val.size, int(codes.max()) + 1))
        fitted = model.predict_proba(split.X_val)
        probabilities[:, np.asarray(model.classes_, dtype=np.int64)] = fitted
        found.append(probabilities)
        truth.append(split.y_val)
    return np.concatenate(found), np.concatenate(truth)


def recalibration(probabilities: np.ndarray, codes: np.ndarray) -> Recalibration:
    """The temperature for these held-out predictions, with the NLL before and after."""
    before = negative_log_likelihood(probabilities, codes)
    rows = int(codes.size)
    if rows < FEWEST_ROWS:
        reason = f"{rows} held-out predictions are too few (at least {FEWEST_ROWS} are needed)"
        return Recalibration(rows=rows, nll_before=before, nll_after=before, note=reason)
    if np.all(np.argmax(probabilities, axis=1) == codes):
        reason = "the folds made no mistake, so no temperature can be fitted honestly"
        return Recalibration(rows=rows, nll_before=before, nll_after=before, note=reason)
    temperature = fit_temperature(probabilities, codes)
    after = negative_log_likelihood(tempered_probabilities(probabilities, temperature), codes)
    if after > (1 - LEAST_GAIN) * before:
        reason = (
            f"no temperature lowered the held-out log-loss by {100 * LEAST_GAIN:.0f} % or more "
            f"(best: T = {temperature:.2f}, {before:.3f} → {after:.3f})"
        )
        return Recalibration(rows=rows, nll_before=before, nll_after=before, note=reason)
    return Recalibration(temperature=temperature, rows=rows, nll_before=before, nll_after=after)


def recalibrate_run(
    result: TuningResult, source: Source | None, X: Any, y: Any, *, seed: int = 0
) -> Recalibration:
    """The temperature of a study's chosen configuration, from its folds' predictions."""
    inputs, codes, splits = study_splits(X, y, source, seed=seed)
    probabilities, truth = out_of_fold_probabilities(
        lambda: result.make(source).set_params(random_state=seed), inputs, codes, splits
    )
    return recalibration(probabilities, truth)


def recalibration_phrase(found: Recalibration) -> str:
    """What the temperature did, in a phrase: ``"temperature 1.8: log-loss 0.31 → 0.24 …"``."""
    if found.note:
        return f"probabilities kept as fitted — {found.note}"
    return (
        f"temperature {found.temperature:.2f}: log-loss {found.nll_before:.3f} → "
        f"{found.nll_after:.3f} on {found.rows} cross-validated predictions (above 1 the "
        "model was over-confident, below 1 under-confident)"
    )
