"""Which hyper-parameters mattered in a study, by PED-ANOVA, or why that cannot be told.

PED-ANOVA (Watanabe, Bansal & Hutter, "PED-ANOVA: Efficiently Quantifying Hyperparameter
Importance in Arbitrary Subspaces", IJCAI 2023) scores a parameter ``θ`` by how far its values
among the best trials depart from its values over all trials: the Pearson divergence

    ``I(θ) = ∫ p_all(θ) (p_top(θ) / p_all(θ) − 1)² dθ``

between Parzen estimates of the two densities. A parameter of one variant only (``gbm.max_depth``)
is judged within the trials that ran it, weighted by ``α²/β`` where ``α`` and ``β`` are the
shares of the best and of all trials that ran it (conditional PED-ANOVA, arXiv:2601.20800,
KDD 2026; Optuna ≥ 5). It is Optuna's default evaluator from version 5;
:func:`parameter_importances` names it explicitly, and sizes the best group to the study: the
paper's 10 % of the trials, but at least 5 trials (Optuna's advice for a stable estimate) and
at most half of them.

Two cases give no importances, with the reason instead of a table of equal shares (what
Optuna's normalisation returns when every divergence is 0): too few complete trials, and a
best group that cannot be told from the rest because the trials tie (every trial scoring
100 % on an easy task, say).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import optuna
from optuna.importance import PedAnovaImportanceEvaluator
from optuna.trial import TrialState

FEWEST_TRIALS = 4
"""Below this many complete trials no importance is computed."""

TOP_SHARE = 0.1
"""The share of trials in the best group (the paper's γ′ and Optuna's default)."""

TOP_TRIALS = 5
"""The fewest trials the best group should hold for a stable estimate (Optuna's advice)."""


@dataclass(frozen=True)
class ParameterImportances:
    """Each parameter's share of the summed PED-ANOVA divergence, largest first.

    ``shares`` is empty when nothing could be told; ``reason`` then says why. ``top`` is how
    many of the ``trials`` complete trials formed the best group.
    """

    shares: dict[str, float] = field(default_factory=dict)
    trials: int = 0
    top: int = 0
    reason: str = ""


def top_share(trials: int) -> float:
    """The share of ``trials`` that forms the best group: ``min(½, max(0.1, 5 / trials))``."""
    return min(0.5, max(TOP_SHARE, TOP_TRIALS / trials))


def best_group_size(values: np.ndarray, share: float) -> int:
    """How many trials Optuna's quantile filter puts in the best group (ties at the cut join).

    The cut is the ``⌈share · n⌉``-th best value; every trial at least as good is in the group.
    """
    ordered = np.sort(values)[::-1]
    cut = ordered[math.ceil(share * len(values)) - 1]
    return int(np.count_nonzero(values >= cut))


def parameter_importances(study: optuna.Study) -> ParameterImportances:
    """The importances of a maximising study's parameters, or the reason there are none."""
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE and t.value is not None]
    n = len(complete)
    if n < FEWEST_TRIALS:
        return ParameterImportances(
            trials=n,
            reason=f"{n} complete trials are too few to tell which parameters mattered "
            f"(at least {FEWEST_TRIALS} are needed).",
        )
    values = np.array([float(t.value) for t in complete if t.value is not None])
    share = top_share(n)
    top = best_group_size(values, share)
    if top == n:
        return ParameterImportances(trials=n, top=top, reason=_tie_reason(values))
    evaluator = PedAnovaImportanceEvaluator(target_quantile=share)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a variant tried once warns: its parameters count 0
        divergences = evaluator.evaluate(study)
    total = sum(divergences.values())
    if not total > 0:
        return ParameterImportances(
            trials=n,
            top=top,
            reason="The best trials set every parameter as the others did, so no parameter "
            "stands out.",
        )
    shares = {name: value / total for name, value in divergences.items()}
    ordered = dict(sorted(shares.items(), key=lambda item: -item[1]))
    return ParameterImportances(shares=ordered, trials=n, top=top)


def _tie_reason(values: np.ndarray) -> str:
    """Why a best group that holds every trial says nothing: the trials tie at the cut."""
    if np.ptp(values) == 0:
        return (
            f"Every complete trial scored {100 * values[0]:.1f} %, so the search cannot tell "
            "which parameters mattered."
        )
    worst = values.min()
    tied = int(np.count_nonzero(values == worst))
    return (
        f"{tied} of the {len(values)} complete trials tie at {100 * worst:.1f} %, so the best "
        "trials cannot be told from the rest and the search cannot tell which parameters "
        "mattered."
    )
