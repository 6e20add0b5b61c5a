"""Numerical helpers shared by :mod:`meta_features.transferability` and ``.similarity``.

Private: small, pure functions on float64 arrays that the public scores build on (thin SVD with
a numerical-rank cutoff, log-determinants through the smaller Gram matrix, square roots of
positive semi-definite matrices, pairwise squared distances, seeded row subsampling) and the
option checks both modules share.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.spatial.distance import cdist

from meta_features.errors import BAD_OPTION, BAD_SHAPE, InvalidInputError


def thin_svd(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Left singular vectors and singular values of ``matrix`` above its numerical rank.

    Singular values ``s <= s_max * max(N, D) * eps`` (NumPy's ``matrix_rank`` tolerance) are
    treated as exact zeros and dropped, so the result has ``r = rank`` columns. The cutoff is
    relative, hence independent of the scale of ``matrix``.

    Returns:
        ``(u, s)``: ``u`` is ``(N, r)`` with orthonormal columns, ``s`` is ``(r,)``, descending.
    """
    u, s, _ = np.linalg.svd(matrix, full_matrices=False)
    if s.size == 0 or s[0] == 0.0:
        return u[:, :0], s[:0]
    keep = s > s[0] * max(matrix.shape) * np.finfo(np.float64).eps
    return u[:, keep], s[keep]


def logdet_identity_plus_gram(z: np.ndarray, scale: float) -> float:
    """``log det(I_D + scale * ZᵀZ)`` for ``Z`` of shape ``(N, D)``, with ``scale >= 0``.

    By Sylvester's determinant identity this equals ``log det(I_N + scale * Z Zᵀ)``; the smaller
    of the two Gram matrices is used, and ``slogdet`` keeps large determinants finite.
    """
    gram = z @ z.T if z.shape[0] < z.shape[1] else z.T @ z
    _, logdet = np.linalg.slogdet(np.eye(gram.shape[0]) + scale * gram)
    return float(logdet)


def symmetric(matrix: np.ndarray) -> np.ndarray:
    """The symmetric part ``(M + Mᵀ) / 2`` (removes round-off asymmetry)."""
    part: np.ndarray = (matrix + matrix.T) / 2.0
    return part


def psd_eigenvalues(matrix: np.ndarray) -> np.ndarray:
    """Eigenvalues of the symmetric part of ``matrix``, negative round-off clipped to 0."""
    return np.clip(np.linalg.eigvalsh(symmetric(matrix)), 0.0, None)


def psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    """Symmetric square root of a positive semi-definite matrix (eigenvalues clipped at 0)."""
    values, vectors = np.linalg.eigh(symmetric(matrix))
    roots = np.sqrt(np.clip(values, 0.0, None))
    return symmetric((vectors * roots) @ vectors.T)


def one_hot(codes: np.ndarray, n_classes: int) -> np.ndarray:
    """Integer codes ``0..K-1`` as a float ``(N, K)`` indicator matrix."""
    indicator = np.zeros((codes.shape[0], n_classes))
    indicator[np.arange(codes.shape[0]), codes] = 1.0
    return indicator


def sq_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise squared Euclidean distances ``(len(a), len(b))``, never negative."""
    return np.asarray(cdist(a, b, metric="sqeuclidean"), dtype=np.float64)


def subsample_rows(matrix: np.ndarray, max_rows: int, rng: np.random.Generator) -> np.ndarray:
    """At most ``max_rows`` rows drawn without replacement (all rows, in order, if fewer)."""
    if matrix.shape[0] <= max_rows:
        return matrix
    return matrix[np.sort(rng.choice(matrix.shape[0], size=max_rows, replace=False))]


def require_same_width(a: np.ndarray, b: np.ndarray, names: tuple[str, str]) -> None:
    """Raise ``meta_features.bad_shape`` unless ``a`` and ``b`` have the same number of columns."""
    if a.shape[1] != b.shape[1]:
        raise InvalidInputError(
            f"{names[0]} and {names[1]} must have the same number of columns, "
            f"got {a.shape[1]} and {b.shape[1]}.",
            code=BAD_SHAPE,
        )


def require_positive(value: float, name: str) -> float:
    """``value`` as a float, or ``meta_features.bad_option`` unless it is finite and > 0."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not (math.isfinite(number) and number > 0.0):
        raise InvalidInputError(
            f"{name} must be a finite number > 0, got {value!r}.", code=BAD_OPTION
        )
    return number


def require_count(value: int, name: str, minimum: int) -> int:
    """``value`` as an int, or ``meta_features.bad_option`` unless it is an integer >= minimum."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise InvalidInputError(
            f"{name} must be an integer >= {minimum}, got {value!r}.", code=BAD_OPTION
        )
    return int(value)
