"""Input checks shared by the public meta-feature functions (clear errors, never a crash)."""

from __future__ import annotations

from typing import Any

import numpy as np

from meta_features.errors import BAD_SHAPE, NON_FINITE, TOO_FEW_EXAMPLES, InvalidInputError


def as_matrix(values: Any, name: str, *, min_rows: int = 1) -> np.ndarray:
    """``values`` as a finite float64 matrix ``(N, D)``; a vector becomes one column.

    Raises:
        InvalidInputError: ``meta_features.bad_shape``, ``meta_features.non_finite`` or
            ``meta_features.too_few_examples``.
    """
    try:
        matrix = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{name} must be numeric.", code=BAD_SHAPE) from None
    if matrix.ndim == 1:
        matrix = matrix[:, None]
    if matrix.ndim != 2 or matrix.shape[1] == 0:
        raise InvalidInputError(
            f"{name} must be a 2-D array (N, D) with D >= 1, got shape {matrix.shape}.",
            code=BAD_SHAPE,
        )
    if matrix.shape[0] < min_rows:
        raise InvalidInputError(
            f"{name} needs at least {min_rows} rows, got {matrix.shape[0]}.",
            code=TOO_FEW_EXAMPLES,
        )
    if not np.isfinite(matrix).all():
        raise InvalidInputError(f"{name} holds NaN or infinite values.", code=NON_FINITE)
    return matrix


def as_labels(values: Any, n_rows: int, name: str = "y") -> tuple[np.ndarray, int]:
    """Labels of any hashable kind as integer codes ``0..K-1``, and ``K``.

    Labels that sort get codes in sorted order; labels of kinds that do not sort together
    (``None`` beside strings, numbers beside text) get them in order of first appearance.

    Raises:
        InvalidInputError: ``meta_features.bad_shape`` when the length is not ``n_rows``;
            ``input.invalid`` for labels that are not hashable.
    """
    labels = np.asarray(values)
    if labels.ndim != 1 or labels.shape[0] != n_rows:
        raise InvalidInputError(
            f"{name} must be 1-D with {n_rows} entries, got shape {labels.shape}.",
            code=BAD_SHAPE,
        )
    try:
        _, codes = np.unique(labels, return_inverse=True)
    except TypeError:  # kinds that do not sort together
        codes = _codes_in_order_of_appearance(labels, name)
    codes = codes.reshape(-1).astype(np.int64)
    return codes, int(codes.max()) + 1 if codes.size else 0


def _codes_in_order_of_appearance(labels: np.ndarray, name: str) -> np.ndarray:
    """Integer codes of hashable labels, numbered as each first appears."""
    seen: dict[Any, int] = {}
    try:
        return np.array([seen.setdefault(v, len(seen)) for v in labels.tolist()], dtype=np.int64)
    except TypeError:
        raise InvalidInputError(f"{name} must hold hashable labels.") from None


def require_classes(n_classes: int, minimum: int, what: str) -> None:
    """Raise ``meta_features.too_few_examples`` unless there are ``minimum`` classes."""
    if n_classes < minimum:
        raise InvalidInputError(
            f"{what} needs at least {minimum} classes, got {n_classes}.", code=TOO_FEW_EXAMPLES
        )
