"""Similarity of two samples, e.g. target versus source embeddings in the source's space.

Every function takes two samples ``A`` ``(n_a, D)`` and ``B`` ``(n_b, D)`` with the same number
of columns (or their moments) and returns a non-negative discrepancy: 0 for identical samples,
larger for samples further apart.

=============================  ==========================================================
function                       definition
=============================  ==========================================================
:func:`mmd`                    unbiased MMD² with a Gaussian kernel (Gretton et al. 2012)
:func:`frechet`                Fréchet distance of the fitted Gaussians (Dowson & Landau
                               1982; Heusel et al. 2017)
:func:`frechet_from_moments`   the same from means and covariances
:func:`proxy_a_distance`       ``2(1 − 2ε)`` of a domain classifier (Ben-David et al.)
:func:`sinkhorn_divergence`    debiased entropic optimal transport (Genevay et al. 2018)
:func:`centroid_distances`     distance of each target centroid to its nearest source one
=============================  ==========================================================

The sample-based estimators subsample large inputs (seeded, without replacement) to bound
their cost; inputs are validated with :mod:`meta_features._checks` and errors carry the codes
of :mod:`meta_features.errors` (mismatched widths: ``meta_features.bad_shape``).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike
from scipy.spatial.distance import pdist
from scipy.special import logsumexp
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from meta_features._checks import as_matrix
from meta_features._linalg import (
    psd_eigenvalues,
    psd_sqrt,
    require_count,
    require_positive,
    require_same_width,
    sq_distances,
    subsample_rows,
    symmetric,
)
from meta_features.errors import BAD_SHAPE, InvalidInputError

__all__ = [
    "centroid_distances",
    "frechet",
    "frechet_from_moments",
    "mmd",
    "proxy_a_distance",
    "sinkhorn_divergence",
]

_PAD_FOLDS = 5
# Sinkhorn: iteration cap of POT's solver and of the symmetric warm start, whose steps stop
# below this fraction of the regularisation.
_SINKHORN_MAX_ITER = 2000
_SYMMETRIC_TOL = 1e-7


def _pair(a: ArrayLike, b: ArrayLike, min_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """``A`` and ``B`` validated as finite matrices of the same width."""
    first = as_matrix(a, "A", min_rows=min_rows)
    second = as_matrix(b, "B", min_rows=min_rows)
    require_same_width(first, second, ("A", "B"))
    return first, second


def _subsampled_pair(
    a: ArrayLike, b: ArrayLike, min_rows: int, max_samples: int, random_state: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Validated ``A`` and ``B``, each cut to at most ``max_samples`` seeded random rows."""
    cap = require_count(max_samples, "max_samples", min_rows)
    first, second = _pair(a, b, min_rows)
    rng = np.random.default_rng(random_state)
    return subsample_rows(first, cap, rng), subsample_rows(second, cap, rng)


# -- MMD -------------------------------------------------------------------------------------


def mmd(
    A: ArrayLike,  # noqa: N803 (the two samples are A and B in the public contract)
    B: ArrayLike,  # noqa: N803
    *,
    bandwidth: float | None = None,
    max_samples: int = 1000,
    random_state: int | None = 0,
) -> float:
    r"""Unbiased estimate of the squared maximum mean discrepancy with a Gaussian kernel.

    Gretton, Borgwardt, Rasch, Schölkopf, Smola, "A Kernel Two-Sample Test", JMLR 2012,
    ``MMD²_u`` (their Lemma 6): with ``k(a, b) = exp(−‖a − b‖² / (2σ²))``,

    .. math::
        \mathrm{MMD}^2_u = \frac{1}{m(m-1)} \sum_{i \ne j} k(a_i, a_j)
            + \frac{1}{n(n-1)} \sum_{i \ne j} k(b_i, b_j)
            - \frac{2}{mn} \sum_{i, j} k(a_i, b_j).

    Being unbiased it can be slightly negative (by ``O(1/n)``) when the samples come from the
    same distribution; it is returned as is. Each side is first subsampled to at most
    ``max_samples`` rows (seeded, without replacement), which bounds the cost at
    ``O(max_samples² D)``. Unless ``bandwidth`` is given, ``σ`` is the median heuristic: the
    median of the pairwise Euclidean distances between distinct points of the pooled
    subsample (falling back to their mean if the median is 0, and to 1 if all points coincide).

    Args:
        A: ``(m, D)`` first sample, ``m >= 2``.
        B: ``(n, D)`` second sample, ``n >= 2``.
        bandwidth: the kernel width ``σ > 0``; ``None`` for the median heuristic.
        max_samples: the most rows used from each side (``>= 2``).
        random_state: seed of the subsampling.

    Returns:
        ``MMD²_u`` (``≈ 0`` for equal distributions; at most 2).
    """
    a, b = _subsampled_pair(A, B, 2, max_samples, random_state)
    sigma = None if bandwidth is None else require_positive(bandwidth, "bandwidth")
    d_aa, d_bb, d_ab = sq_distances(a, a), sq_distances(b, b), sq_distances(a, b)
    if sigma is None:
        sigma = _median_bandwidth(np.concatenate([a, b]))
    gamma = 1.0 / (2.0 * sigma**2)
    m, n = a.shape[0], b.shape[0]
    within_a = (np.sum(np.exp(-gamma * d_aa)) - m) / (m * (m - 1))
    within_b = (np.sum(np.exp(-gamma * d_bb)) - n) / (n * (n - 1))
    return float(within_a + within_b - 2.0 * np.mean(np.exp(-gamma * d_ab)))


def _median_bandwidth(pooled: np.ndarray) -> float:
    """Median pairwise distance of ``pooled`` (its mean if the median is 0; 1 if all are 0)."""
    distances = pdist(pooled)
    median = float(np.median(distances))
    if median > 0.0:
        return median
    mean = float(np.mean(distances))
    return mean if mean > 0.0 else 1.0


# -- Fréchet ---------------------------------------------------------------------------------


def frechet_from_moments(
    mean_a: ArrayLike, cov_a: ArrayLike, mean_b: ArrayLike, cov_b: ArrayLike
) -> float:
    r"""Fréchet (2-Wasserstein²) distance between two Gaussians given by their moments.

    Dowson & Landau, "The Fréchet distance between multivariate normal distributions", J.
    Multivariate Anal. 1982; used as FID by Heusel et al., NeurIPS 2017:

    .. math::
        d^2 = \lVert μ_a - μ_b\rVert^2 + \operatorname{tr}\bigl(Σ_a + Σ_b
            - 2 (Σ_a^{1/2} Σ_b Σ_a^{1/2})^{1/2}\bigr).

    The covariances are symmetrised; the square roots are taken by symmetric
    eigendecomposition with negative eigenvalues (round-off) clipped to 0, so no complex
    numbers arise (unlike ``scipy.linalg.sqrtm`` in the FID reference code), and the result
    is clipped at 0. Cost ``O(D³)``.

    Args:
        mean_a: ``(D,)`` mean of the first Gaussian (a scalar when ``D = 1``).
        cov_a: ``(D, D)`` its covariance (a scalar variance when ``D = 1``).
        mean_b: ``(D,)`` mean of the second Gaussian.
        cov_b: ``(D, D)`` its covariance.

    Returns:
        The squared Fréchet distance (``>= 0``).

    Raises:
        InvalidInputError: ``meta_features.bad_shape`` when the shapes do not agree.
    """
    mu_a, sigma_a = _moments(mean_a, cov_a, "a")
    mu_b, sigma_b = _moments(mean_b, cov_b, "b")
    if mu_a.shape != mu_b.shape:
        raise InvalidInputError(
            f"The two Gaussians must have the same dimension, got {mu_a.size} and {mu_b.size}.",
            code=BAD_SHAPE,
        )
    root_a = psd_sqrt(sigma_a)
    cross = float(np.sum(np.sqrt(psd_eigenvalues(root_a @ sigma_b @ root_a))))
    return _frechet_value(mu_a - mu_b, float(np.trace(sigma_a) + np.trace(sigma_b)), cross)


def _moments(mean: ArrayLike, cov: ArrayLike, side: str) -> tuple[np.ndarray, np.ndarray]:
    """A validated ``(D,)`` mean and symmetrised ``(D, D)`` covariance."""
    try:
        mu = np.atleast_1d(np.asarray(mean, dtype=np.float64))
        sigma = np.atleast_2d(np.asarray(cov, dtype=np.float64))
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"mean_{side} and cov_{side} must be numeric.", code=BAD_SHAPE
        ) from None
    if mu.ndim != 1:
        raise InvalidInputError(
            f"mean_{side} must be a vector, got shape {mu.shape}.", code=BAD_SHAPE
        )
    mu = as_matrix(mu, f"mean_{side}")[:, 0]
    sigma = as_matrix(sigma, f"cov_{side}")
    if sigma.shape != (mu.size, mu.size):
        raise InvalidInputError(
            f"cov_{side} must be ({mu.size}, {mu.size}) to match mean_{side}, got {sigma.shape}.",
            code=BAD_SHAPE,
        )
    return mu, symmetric(sigma)


def _frechet_value(delta: np.ndarray, trace_sum: float, cross: float) -> float:
    """``‖δ‖² + tr Σ_a + tr Σ_b − 2 tr((Σ_a^½ Σ_b Σ_a^½)^½)``, clipped at 0."""
    return max(float(delta @ delta) + trace_sum - 2.0 * cross, 0.0)


def frechet(
    A: ArrayLike,  # noqa: N803 (the two samples are A and B in the public contract)
    B: ArrayLike,  # noqa: N803
) -> float:
    r"""Fréchet distance between Gaussians fitted to two samples.

    :func:`frechet_from_moments` of the sample means and the unbiased (``ddof=1``) sample
    covariances. When either sample has fewer rows than columns (then the covariances are
    singular) the same quantity is computed without forming them: with the centred samples
    ``X_a, X_b``, the eigenvalues of ``Σ_a^{1/2} Σ_b Σ_a^{1/2}`` are those of ``Σ_a Σ_b``,
    whose nonzero ones are the squared singular values of ``X_a X_bᵀ / √((m−1)(n−1))``, so the
    cross term is the nuclear norm ``‖X_a X_bᵀ‖_* / √((m−1)(n−1))`` — ``O(m n min(m, n) +
    m n D)`` instead of ``O(D³)``.

    Args:
        A: ``(m, D)`` first sample, ``m >= 2``.
        B: ``(n, D)`` second sample, ``n >= 2``.

    Returns:
        The squared Fréchet distance (``>= 0``).
    """
    a, b = _pair(A, B, 2)
    if min(a.shape[0], b.shape[0]) >= a.shape[1]:
        return frechet_from_moments(
            a.mean(axis=0), np.cov(a, rowvar=False), b.mean(axis=0), np.cov(b, rowvar=False)
        )
    centred_a, centred_b = a - a.mean(axis=0), b - b.mean(axis=0)
    dof_a, dof_b = a.shape[0] - 1, b.shape[0] - 1
    traces = float(np.sum(centred_a**2)) / dof_a + float(np.sum(centred_b**2)) / dof_b
    nuclear = float(np.sum(np.linalg.svd(centred_a @ centred_b.T, compute_uv=False)))
    cross = nuclear / math.sqrt(dof_a * dof_b)
    return _frechet_value(a.mean(axis=0) - b.mean(axis=0), traces, cross)


# -- proxy A-distance ------------------------------------------------------------------------


def proxy_a_distance(
    A: ArrayLike,  # noqa: N803 (the two samples are A and B in the public contract)
    B: ArrayLike,  # noqa: N803
    *,
    max_samples: int = 2000,
    random_state: int | None = 0,
) -> float:
    """Proxy A-distance: how well a linear classifier tells the two samples apart.

    Ben-David, Blitzer, Crammer, Pereira, "Analysis of Representations for Domain
    Adaptation", NeurIPS 2007, and Ben-David et al., "A theory of learning from different
    domains", Machine Learning 2010: ``PAD = 2 (1 − 2ε)`` with ``ε`` the held-out error of a
    classifier trained to separate ``A`` from ``B``.

    Here: a balanced sample of ``n = min(m_A, m_B, max_samples)`` rows from each side (seeded,
    without replacement); a pipeline of standardisation (fitted on the training folds) and
    L2-regularised logistic regression (``C = 1``); ``ε`` is the stratified, shuffled 5-fold
    cross-validated error (``n``-fold when ``n < 5``). A classifier worse than chance
    (``ε > 0.5``, sampling noise for similar samples) would give a negative value, so the
    result is clipped to ``[0, 2]``.

    Args:
        A: ``(m_A, D)`` first sample, at least 2 rows.
        B: ``(m_B, D)`` second sample, at least 2 rows.
        max_samples: the most rows used from each side (``>= 2``).
        random_state: seed of the subsampling and the folds.

    Returns:
        The proxy A-distance in ``[0, 2]`` (0: indistinguishable; 2: perfectly separable).
    """
    cap = require_count(max_samples, "max_samples", 2)
    a, b = _pair(A, B, 2)
    n = min(a.shape[0], b.shape[0], cap)
    rng = np.random.default_rng(random_state)
    a, b = subsample_rows(a, n, rng), subsample_rows(b, n, rng)
    domains = np.repeat([0, 1], n)
    folds = StratifiedKFold(n_splits=min(_PAD_FOLDS, n), shuffle=True, random_state=random_state)
    classifier = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000))
    accuracy = float(np.mean(cross_val_score(classifier, np.vstack([a, b]), domains, cv=folds)))
    return float(np.clip(2.0 * (1.0 - 2.0 * (1.0 - accuracy)), 0.0, 2.0))


# -- Sinkhorn divergence ---------------------------------------------------------------------


def sinkhorn_divergence(
    A: ArrayLike,  # noqa: N803 (the two samples are A and B in the public contract)
    B: ArrayLike,  # noqa: N803
    *,
    reg: float = 0.05,
    max_samples: int = 500,
    random_state: int | None = 0,
) -> float:
    r"""Debiased Sinkhorn divergence with squared Euclidean cost.

    Genevay, Peyré, Cuturi, "Learning Generative Models with Sinkhorn Divergences", AISTATS
    2018; Feydy, Séjourné, Vialard, Amari, Trouvé, Peyré, "Interpolating between Optimal
    Transport and MMD using Sinkhorn Divergences", AISTATS 2019:

    .. math::
        S_ε(A, B) = \mathrm{OT}_ε(A, B) - \tfrac12 \mathrm{OT}_ε(A, A)
            - \tfrac12 \mathrm{OT}_ε(B, B),

    with uniform weights, cost ``‖a − b‖²`` and ``OT_ε`` the transport cost ``⟨P_ε, C⟩`` of the
    entropic plan, as returned by POT's ``ot.sinkhorn2`` (log-domain solver
    ``"sinkhorn_log"``, for stability at small ``ε``). This is Genevay et al.'s form; Feydy et
    al. also count the entropy term, which guarantees ``S >= 0``; here tiny negatives from
    round-off or from that difference are clipped to 0. The regularisation is scale-free:
    ``ε = reg ×`` the mean of the ``A``–``B`` cost matrix (the costs are divided by that mean,
    the problem solved with ``ε = reg``, and the result scaled back), so the value is in
    squared-distance units and scales with ``c²`` when both samples are scaled by ``c``.
    Identical samples give exactly 0 (up to round-off); samples whose points all coincide
    give 0. The symmetric terms ``OT_ε(A, A)`` and ``OT_ε(B, B)`` start POT from their
    symmetric dual potential (a few averaged fixed-point steps), on which plain alternating
    Sinkhorn is very slow; the value is POT's either way. Each side is first subsampled to at
    most ``max_samples`` rows (seeded, without replacement): Sinkhorn costs
    ``O(max_samples²)`` per iteration.

    Args:
        A: ``(m, D)`` first sample.
        B: ``(n, D)`` second sample.
        reg: the entropic regularisation relative to the mean cost (``> 0``).
        max_samples: the most rows used from each side (``>= 1``).
        random_state: seed of the subsampling.

    Returns:
        The Sinkhorn divergence (``>= 0``, in squared units of the features).
    """
    relative = require_positive(reg, "reg")
    a, b = _subsampled_pair(A, B, 1, max_samples, random_state)
    if np.array_equal(a, b):
        return 0.0
    cost_ab = sq_distances(a, b)
    scale = float(np.mean(cost_ab))
    if scale == 0.0:
        return 0.0
    cross = _entropic_cost(cost_ab / scale, relative)
    self_a = _self_entropic_cost(sq_distances(a, a) / scale, relative)
    self_b = _self_entropic_cost(sq_distances(b, b) / scale, relative)
    return max(scale * (cross - 0.5 * self_a - 0.5 * self_b), 0.0)


def _entropic_cost(
    cost: np.ndarray, reg: float, warmstart: tuple[np.ndarray, np.ndarray] | None = None
) -> float:
    """``⟨P_ε, C⟩`` of the entropic plan between uniform weights (POT, log-domain Sinkhorn)."""
    import ot  # noqa: PLC0415 (POT imports torch: seconds, so only when needed)

    rows = np.full(cost.shape[0], 1.0 / cost.shape[0])
    columns = np.full(cost.shape[1], 1.0 / cost.shape[1])
    value = ot.sinkhorn2(
        rows,
        columns,
        cost,
        reg,
        method="sinkhorn_log",
        numItermax=_SINKHORN_MAX_ITER,
        warmstart=warmstart,
    )
    return float(value)


def _self_entropic_cost(cost: np.ndarray, reg: float) -> float:
    """:func:`_entropic_cost` of a sample with itself, warm-started at its symmetric potential.

    Alternating Sinkhorn updates converge slowly on the symmetric problem ``OT_ε(A, A)`` (the
    iterates oscillate; thousands of iterations at ``reg = 0.05``). The symmetric potential
    ``f = T(f)``, ``T(f)_i = −ε log Σ_j w_j exp((f_j − C_ij) / ε)``, is found in a few tens of
    averaged steps ``f ← (f + T(f)) / 2`` (the symmetric update of Feydy et al. 2019) and
    handed to POT as its starting point, so POT's own stopping test still decides convergence.
    """
    log_weights = np.full(cost.shape[0], -math.log(cost.shape[0]))
    potential = np.zeros(cost.shape[0])
    for _ in range(_SINKHORN_MAX_ITER):
        update = -reg * logsumexp(log_weights[None, :] + (potential[None, :] - cost) / reg, axis=1)
        step = 0.5 * (update - potential)
        potential = potential + step
        if np.max(np.abs(step)) <= _SYMMETRIC_TOL * reg:
            break
    log_scaling = potential / reg + log_weights
    return _entropic_cost(cost, reg, warmstart=(log_scaling, log_scaling))


# -- centroids -------------------------------------------------------------------------------


def centroid_distances(target_centroids: ArrayLike, source_centroids: ArrayLike) -> np.ndarray:
    """For each target centroid, the Euclidean distance to the nearest source centroid.

    Args:
        target_centroids: ``(K_t, D)`` centroids of the target classes.
        source_centroids: ``(K_s, D)`` centroids of the source classes.

    Returns:
        ``(K_t,)`` float64 distances ``min_s ‖t − s‖``.
    """
    target = as_matrix(target_centroids, "target_centroids")
    source = as_matrix(source_centroids, "source_centroids")
    require_same_width(target, source, ("target_centroids", "source_centroids"))
    return np.asarray(np.sqrt(np.min(sq_distances(target, source), axis=1)), dtype=np.float64)
