"""Small pieces shared by the group modules."""

from __future__ import annotations

import numpy as np

from meta_features.result import Missing

Value = float | np.ndarray | Missing
"""What a group returns per feature: a number, a vector to summarise, or a reason."""


def unique_counts(matrix: np.ndarray) -> np.ndarray:
    """Number of distinct values in each column (one sort per column, NaN-free input)."""
    if matrix.shape[0] == 0:
        return np.zeros(matrix.shape[1], dtype=np.int64)
    ordered = np.sort(matrix, axis=0)
    return np.asarray(1 + (np.diff(ordered, axis=0) != 0).sum(axis=0))


def ratio(numerator: float, denominator: float, reason: str) -> Value:
    """``numerator / denominator``, or :class:`Missing` with ``reason`` when it is 0."""
    return Missing(reason) if denominator == 0 else float(numerator) / float(denominator)
