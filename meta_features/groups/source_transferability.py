"""The transferability group: how well the source's features and classifier fit the target task.

On the target's embeddings by the source backbone: ``logme``, ``h_score``,
``h_score_shrinkage``, ``gbc`` and ``transrate``; on the source classifier's predictions for
the target examples: ``leep`` (probabilities) and ``nce`` (the most probable source class).
Definitions and references: :mod:`meta_features.transferability`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np

from meta_features import transferability
from meta_features.context import Context
from meta_features.groups._common import Value
from meta_features.groups.source_similarity import guarded
from meta_features.result import Missing

_ON_FEATURES: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "logme": transferability.logme,
    "h_score": transferability.h_score,
    "h_score_shrinkage": transferability.h_score_shrinkage,
    "gbc": transferability.gbc,
    "transrate": transferability.transrate,
}


def compute(ctx: Context, wanted: frozenset[str]) -> dict[str, Value]:
    """The transferability group's features for ``ctx`` (``wanted`` limits the work)."""
    if ctx.source is None or ctx.embedding is None:
        return dict.fromkeys(wanted, Missing(ctx.embedding_problem or "no source was given"))
    if ctx.n_classes < 2:
        return dict.fromkeys(wanted, Missing("transferability needs at least two classes"))
    features, y = ctx.embedding, ctx.codes
    jobs: dict[str, Callable[[], Value]] = {
        name: partial(function, features, y) for name, function in _ON_FEATURES.items()
    }
    jobs["leep"] = lambda: _on_probabilities(ctx, transferability.leep)
    jobs["nce"] = lambda: _on_probabilities(
        ctx, lambda probs, labels: transferability.nce(np.argmax(probs, axis=1), labels)
    )
    return {name: guarded(job) for name, job in jobs.items() if name in wanted}


def _on_probabilities(ctx: Context, score: Callable[[np.ndarray, np.ndarray], float]) -> Value:
    probabilities = ctx.source_probs
    if probabilities is None:
        return Missing(ctx.embedding_problem or "the source gave no probabilities")
    return score(probabilities, ctx.codes)
