"""Statistical meta-features of the attributes (PyMFE ``statistical``; Rivolli et al. 2022).

For an attribute ``x`` of ``N`` values with mean ``x̄``, central moments
``m_r = 1/N Σ (x_i − x̄)^r`` and sample standard deviation ``s`` (``ddof = 1``):

* ``mean``, ``sd`` (``s``), ``var`` (``s²``), ``min``, ``max``, ``median``,
  ``range = max − min``, ``iq_range = Q3 − Q1`` (linear interpolation),
  ``mad = 1.4826 · median|x − median(x)|`` (consistent with ``s`` under normality);
* ``skewness = m_3 / s³`` and ``kurtosis = m_4 / s⁴ − 3`` — Joanes & Gill's (1998) ``b_1`` and
  ``b_2`` (PyMFE's "type 3"); undefined for a constant attribute;
* ``sparsity = (N / u − 1) / (N − 1)`` with ``u`` the number of distinct values;
* ``nr_outliers``: attributes with a value beyond Tukey's fences ``Q1 − 1.5 IQR``,
  ``Q3 + 1.5 IQR``;
* ``cor``: ``|r|`` of every pair of (non-constant) attributes; ``cov``: ``|cov|`` of every pair;
  ``nr_cor_attr``: the share of the ``D(D−1)/2`` pairs with ``|r| ≥ 0.5``;
* ``eigenvalues`` of the covariance matrix;
* ``can_cor``: the canonical correlations ``ρ_1 ≥ ρ_2 ≥ …`` between the attributes and the
  one-hot class indicators (Hotelling 1936), ``min(rank X, K − 1)`` of them; and Wilks'
  lambda ``w_lambda = Π_i (1 − ρ_i²)`` (Wilks 1932).

Deviations from PyMFE 0.4.4, all deliberate: canonical correlations are computed exactly (by
whitening both sides and taking singular values) rather than by scikit-learn's iterative CCA,
which stops at 500 iterations; ``cor`` leaves out constant attributes, whose correlation is
undefined (PyMFE returns NaN and its mean becomes NaN).
"""

from __future__ import annotations

import numpy as np

from meta_features.context import Context
from meta_features.groups._common import Value
from meta_features.result import Missing

MAD_SCALE = 1.4826
_RANK_TOLERANCE = 1e-10


def location_and_spread(X: np.ndarray) -> dict[str, np.ndarray]:
    """Per-attribute ``mean, sd, var, min, max, median, range, iq_range, mad``."""
    q1, median, q3 = np.percentile(X, (25, 50, 75), axis=0)
    low, high = X.min(axis=0), X.max(axis=0)
    var = X.var(axis=0, ddof=1) if X.shape[0] > 1 else np.full(X.shape[1], np.nan)
    return {
        "mean": X.mean(axis=0),
        "sd": np.sqrt(var),
        "var": var,
        "min": low,
        "max": high,
        "median": median,
        "range": high - low,
        "iq_range": q3 - q1,
        "mad": MAD_SCALE * np.median(np.abs(X - median), axis=0),
    }


def shape_moments(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(skewness, kurtosis) = (m_3 / s³, m_4 / s⁴ − 3)`` per attribute; NaN where ``s = 0``."""
    n_rows = X.shape[0]
    centred = X - X.mean(axis=0)
    squared = centred * centred
    m2 = squared.mean(axis=0)
    m3 = np.einsum("ij,ij->j", squared, centred) / n_rows
    m4 = np.einsum("ij,ij->j", squared, squared) / n_rows
    s2 = m2 * n_rows / (n_rows - 1) if n_rows > 1 else np.zeros_like(m2)
    with np.errstate(divide="ignore", invalid="ignore"):
        skewness = m3 / s2**1.5
        kurtosis = m4 / s2**2 - 3.0
    constant = s2 <= np.finfo(np.float64).tiny
    skewness[constant] = np.nan
    kurtosis[constant] = np.nan
    return skewness, kurtosis


def sparsity(X: np.ndarray, distinct: np.ndarray) -> Value:
    """``(N / u − 1) / (N − 1)`` per attribute, ``u`` its number of distinct values."""
    n_rows = X.shape[0]
    if n_rows < 2:
        return Missing("sparsity needs at least 2 examples")
    return np.asarray((n_rows / distinct - 1.0) / (n_rows - 1.0))


def outlier_attributes(X: np.ndarray, whisker: float) -> float:
    """Number of attributes with a value outside Tukey's fences at ``whisker`` IQRs."""
    low, q1, q3, high = np.percentile(X, (0, 25, 75, 100), axis=0)
    reach = whisker * (q3 - q1)
    return float(np.sum((q1 - reach > low) | (q3 + reach < high)))


def lower_triangle(matrix: np.ndarray) -> np.ndarray:
    """The strictly lower triangle of a square matrix, as a vector."""
    return matrix[np.tril_indices(matrix.shape[0], k=-1)]


def abs_correlations(covariance: np.ndarray, varying: np.ndarray) -> Value:
    """``|r|`` of every pair of non-constant attributes, from their covariance matrix."""
    if varying.sum() < 2:
        return Missing("fewer than two attributes vary")
    kept = covariance[np.ix_(varying, varying)]
    scale = np.sqrt(np.diag(kept))
    matrix = np.clip(kept / np.outer(scale, scale), -1.0, 1.0)
    return np.asarray(np.abs(lower_triangle(matrix)))


def correlated_share(correlations: Value, n_attr: int, threshold: float) -> Value:
    """Share of the ``D(D−1)/2`` attribute pairs with ``|r| ≥ threshold``."""
    if n_attr < 2:
        return Missing("there is only one attribute")
    hits = 0 if isinstance(correlations, Missing) else int(np.sum(correlations >= threshold))
    return 2.0 * hits / (n_attr * (n_attr - 1.0))


def _whitener(gram: np.ndarray) -> np.ndarray:
    """``W`` with ``Wᵀ G W = I`` on the range of the symmetric PSD matrix ``G``."""
    values, vectors = np.linalg.eigh(gram)
    keep = values > _RANK_TOLERANCE * max(values.max(initial=0.0), 1e-300)
    return np.asarray(vectors[:, keep] / np.sqrt(values[keep]))


def canonical_correlations(
    X: np.ndarray, codes: np.ndarray, n_classes: int, covariance: np.ndarray | None = None
) -> np.ndarray:
    """Canonical correlations between ``X`` and the class indicators, descending.

    With centred ``X`` and one-hot ``Y``: ``ρ`` are the singular values of
    ``W_xᵀ Xᵀ Y W_y`` where ``W_x``, ``W_y`` whiten ``XᵀX`` and ``YᵀY`` on their ranges
    (Björck & Golub 1973). There are ``min(rank X, K − 1)`` of them, in [0, 1].
    ``covariance`` (``ddof=1``) of ``X`` may be passed when already known.
    """
    centred_x = X - X.mean(axis=0)
    indicators = np.eye(n_classes)[codes]
    centred_y = indicators - indicators.mean(axis=0)
    gram_x = centred_x.T @ centred_x if covariance is None else covariance * (X.shape[0] - 1)
    w_x = _whitener(gram_x)
    w_y = _whitener(centred_y.T @ centred_y)
    if w_x.shape[1] == 0 or w_y.shape[1] == 0:
        return np.zeros(0)
    cross = w_x.T @ (centred_x.T @ centred_y) @ w_y
    values = np.linalg.svd(cross, compute_uv=False)[: min(w_x.shape[1], w_y.shape[1])]
    return np.clip(values, 0.0, 1.0)


def wilks_lambda(correlations: np.ndarray) -> Value:
    """Wilks' lambda ``Π (1 − ρ²)`` of canonical correlations ``ρ``."""
    if correlations.size == 0:
        return Missing("there is no canonical correlation (constant attributes or one class)")
    return float(np.prod(1.0 - correlations**2))


PAIRWISE = frozenset({"cor", "cov", "eigenvalues", "nr_cor_attr", "can_cor", "w_lambda"})


def compute(ctx: Context, wanted: frozenset[str]) -> dict[str, Value]:
    """The statistical group's features for ``ctx`` (pairwise ones only when ``wanted``)."""
    X = ctx.X
    features: dict[str, Value] = dict(location_and_spread(X))
    features["skewness"], features["kurtosis"] = shape_moments(X)
    features["nr_outliers"] = outlier_attributes(X, ctx.config.outlier_whisker)
    features["sparsity"] = sparsity(X, ctx.distinct_counts)
    if wanted & PAIRWISE:
        features.update(_pairwise(ctx))
    return features


def _pairwise(ctx: Context) -> dict[str, Value]:
    X = ctx.X
    correlations = abs_correlations(ctx.covariance, ctx.varying)
    canonical = canonical_correlations(X, ctx.codes, ctx.n_classes, ctx.covariance)
    single = Missing("there is only one attribute")
    return {
        "cor": correlations,
        "cov": np.abs(lower_triangle(ctx.covariance)) if X.shape[1] > 1 else single,
        "eigenvalues": np.linalg.eigvalsh(ctx.covariance),
        "nr_cor_attr": correlated_share(correlations, X.shape[1], ctx.config.correlation_threshold),
        "can_cor": canonical if canonical.size else Missing("there is no canonical correlation"),
        "w_lambda": wilks_lambda(canonical),
    }
