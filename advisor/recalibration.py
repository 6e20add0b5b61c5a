"""Recalibrating a run's probabilities by temperature scaling on out-of-fold predictions.

A learner's probabilities can say 99 % where it is right 80 % of the time (networks tend to be
over-confident; Guo et al., "On Calibration of Modern Neural Networks", ICML 2017) or hedge
where it is sure (a nearest-prototype softmax). Temperature scaling fits one number ``T`` on
held-out predictions by minimising their negative log-likelihood,

    ``NLL(T) = −(1/n) Σᵢ log softmax(log pᵢ / T)[yᵢ]``,

and tempers every later probability with it (the model's ``calibration_temperature``):
the answers stay the same, the confidence moves. The held-out predictions here are the chosen
configuration's on the study's own folds (:func:`out_of_fold_log_probabilities`), so nothing
of the test set is used, and they are log-probabilities (``Learner.predict_log_proba``):
ProtoNet's probabilities underflow to exactly 0 and 1 on the glyphs (its squared distances
differ by hundreds), which no temperature of the probabilities could soften, but its
log-probabilities are exact, and a temperature of tens softens them. ``T`` is searched in
:data:`BOUNDS` on a log scale; the NLL floors each probability at 10⁻¹² (a wrong answer costs
at most 27.6), as scikit-learn's ``log_loss`` clips. No temperature is kept (``T`` stays 1,
and the reason is kept) on fewer than :data:`FEWEST_ROWS` held-out predictions; when the folds
made no mistake (then a smaller ``T`` always lowers the NLL, and the fit would only make the
model surer than any evidence allows); or when the best ``T`` removes less than
:data:`LEAST_GAIN` of the held-out log-loss.

``python -m bench.recalibration`` measures what it does on held-out rows: with 80–100
examples per class it lowered the test log-loss in most draws and the expected calibration
error clearly, and on 20-way glyph tasks with 3 examples per class in every draw (ProtoNet's
log-loss 1.54 → 0.23); on small tables, 20–30 examples per class, it was closer to a coin flip
(docs/BENCHMARKS.md, "Recalibrating probabilities").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar

from advisor.schemas import Recalibration
from learners import Learner, Source
from learners.families.base import tempered_log_probabilities
from learners.tuning import Split, TuningResult, study_splits

FEWEST_ROWS = 30
"""Held-out predictions needed to fit a temperature."""

BOUNDS = (1 / 5, 1000.0)
"""The temperatures searched: from sharpening an under-confident model five-fold to softening
log-probabilities hundreds apart (ProtoNet's, module docstring)."""

NEVER_SEEN = float(np.log(np.finfo(np.float64).tiny))
"""The log-probability of a class a fold's model never saw (its probability is 0)."""

FLOOR = float(np.log(1e-12))
"""The least log-probability the NLL counts."""

LEAST_GAIN = 0.01
"""The share of the held-out log-loss a temperature must remove to be kept."""


def negative_log_likelihood(log_probabilities: np.ndarray, codes: np.ndarray) -> float:
    """``−(1/n) Σᵢ log pᵢ[yᵢ]``, each log-probability floored at :data:`FLOOR`."""
    chosen = np.asarray(log_probabilities, dtype=np.float64)[np.arange(codes.size), codes]
    return float(-np.mean(np.maximum(chosen, FLOOR)))


def fit_temperature(log_probabilities: np.ndarray, codes: np.ndarray) -> float:
    """The ``T`` in :data:`BOUNDS` that minimises the NLL of the tempered log-probabilities."""
    found = minimize_scalar(
        lambda log_t: negative_log_likelihood(
            tempered_log_probabilities(log_probabilities, float(np.exp(log_t))), codes
        ),
        bounds=(np.log(BOUNDS[0]), np.log(BOUNDS[1])),
        method="bounded",
    )
    return float(np.exp(found.x))


def out_of_fold_log_probabilities(
    make: Callable[[], Learner], X: np.ndarray, codes: np.ndarray, splits: Sequence[Split]
) -> tuple[np.ndarray, np.ndarray]:
    """Each fold's model's log-probabilities on its validation inputs, stacked, with their codes.

    A class a fold's model never saw has probability 0 there (:data:`NEVER_SEEN`).
    """
    found, truth = [], []
    for split in splits:
        model = make().fit(X[split.train], codes[split.train])
        logs = np.full((split.y_val.size, int(codes.max()) + 1), NEVER_SEEN)
        logs[:, np.asarray(model.classes_, dtype=np.int64)] = model.predict_log_proba(split.X_val)
        found.append(logs)
        truth.append(split.y_val)
    return np.concatenate(found), np.concatenate(truth)


def recalibration(log_probabilities: np.ndarray, codes: np.ndarray) -> Recalibration:
    """The temperature for these held-out log-probabilities, with the NLL before and after."""
    before = negative_log_likelihood(log_probabilities, codes)
    rows = int(codes.size)
    if rows < FEWEST_ROWS:
        reason = f"{rows} held-out predictions are too few (at least {FEWEST_ROWS} are needed)"
        return Recalibration(rows=rows, nll_before=before, nll_after=before, note=reason)
    if np.all(np.argmax(log_probabilities, axis=1) == codes):
        reason = "the folds made no mistake, so no temperature can be fitted honestly"
        return Recalibration(rows=rows, nll_before=before, nll_after=before, note=reason)
    temperature = fit_temperature(log_probabilities, codes)
    after = negative_log_likelihood(
        tempered_log_probabilities(log_probabilities, temperature), codes
    )
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
    log_probabilities, truth = out_of_fold_log_probabilities(
        lambda: result.make(source).set_params(random_state=seed), inputs, codes, splits
    )
    return recalibration(log_probabilities, truth)


def recalibration_phrase(found: Recalibration) -> str:
    """What the temperature did, in a phrase: ``"temperature 1.8: log-loss 0.31 → 0.24 …"``."""
    if found.note:
        return f"probabilities kept as fitted — {found.note}"
    return (
        f"temperature {found.temperature:.2f}: log-loss {found.nll_before:.3f} → "
        f"{found.nll_after:.3f} on {found.rows} cross-validated predictions (above 1 the "
        "model was over-confident, below 1 under-confident)"
    )
