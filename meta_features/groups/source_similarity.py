"""The similarity group: how far the target data lies from the source, in the source's space.

Everything is measured in the source backbone's embedding space, against the source
:class:`~meta_features.source.SourceProfile` (its stored sample, moments and class centroids):

* ``mmd``: unbiased MMD² with an RBF kernel, median-heuristic bandwidth
  (:func:`meta_features.similarity.mmd`);
* ``frechet``: Fréchet distance between the Gaussians of the target embeddings and the
  source's stored mean and covariance (:func:`meta_features.similarity.frechet_from_moments`);
* ``proxy_a_distance``: ``2(1 − 2ε)`` of a domain classifier
  (:func:`meta_features.similarity.proxy_a_distance`);
* ``sinkhorn``: debiased Sinkhorn divergence (:func:`meta_features.similarity.sinkhorn_divergence`);
* ``centroid_dist``: for each target class, the distance of its mean embedding to the nearest
  source class centroid, divided by ``sqrt(tr Σ_source)`` — the source's overall spread — so
  that it reads the same in any embedding scale (summarised by mean and sd).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from meta_features import similarity
from meta_features.context import Context
from meta_features.errors import AdvisorError
from meta_features.groups._common import Value
from meta_features.result import Missing


def guarded(function: Callable[[], Value]) -> Value:
    """``function()``, or :class:`Missing` with the message of the project error it raised."""
    try:
        return function()
    except AdvisorError as error:
        return Missing(error.message)


def compute(ctx: Context, wanted: frozenset[str]) -> dict[str, Value]:
    """The similarity group's features for ``ctx`` (``wanted`` limits the work)."""
    source, target = ctx.source, ctx.embedding
    if source is None or target is None:
        return dict.fromkeys(wanted, Missing(ctx.embedding_problem or "no source was given"))
    config, seed = ctx.config, ctx.random_state
    sample = source.embedding_sample
    jobs: dict[str, Callable[[], Value]] = {
        "mmd": lambda: similarity.mmd(
            target, sample, max_samples=config.mmd_max_samples, random_state=seed
        ),
        "frechet": lambda: _frechet(ctx, target),
        "proxy_a_distance": lambda: similarity.proxy_a_distance(
            target, sample, max_samples=config.pad_max_samples, random_state=seed
        ),
        "sinkhorn": lambda: similarity.sinkhorn_divergence(
            target, sample, max_samples=config.sinkhorn_max_samples, random_state=seed
        ),
        "centroid_dist": lambda: _centroid_distances(ctx, target),
    }
    return {name: guarded(job) for name, job in jobs.items() if name in wanted}


def _frechet(ctx: Context, target: np.ndarray) -> Value:
    assert ctx.source is not None
    if target.shape[0] < 2:
        return Missing("a covariance needs at least 2 examples")
    covariance = np.atleast_2d(np.cov(target, rowvar=False, ddof=1))
    return similarity.frechet_from_moments(
        target.mean(axis=0), covariance, ctx.source.embedding_mean, ctx.source.embedding_cov
    )


def _centroid_distances(ctx: Context, target: np.ndarray) -> Value:
    assert ctx.source is not None
    centroids = np.stack([target[ctx.codes == k].mean(axis=0) for k in np.unique(ctx.codes)])
    spread = float(np.sqrt(max(np.trace(ctx.source.embedding_cov), 0.0)))
    if spread == 0.0:
        return Missing("the source embeddings do not vary")
    return similarity.centroid_distances(centroids, ctx.source.class_centroids) / spread
