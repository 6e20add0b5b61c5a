"""The checks :class:`~advisor.core.Advisor` runs on the arrays a caller gives it.

Data read from a file has passed the data layer (:func:`advisor.datasets.load_dataset`); arrays
given to the Python API have not. These checks refuse, before anything is measured or tuned and
with the data layer's codes, what would otherwise fail every trial (and end in a misleading "no
trial completed"), fail after the whole study, or pass silently and score garbage: features
that are not finite numbers, labels missing or not one per row, a single class, a test set
without its labels or of another kind of data than the training set.

Labels come back as the data layer reads them (:func:`~advisor.datasets.dataset.normalize_labels`):
an object array of strings (a pandas column) as strings, labels of mixed kinds (``1`` beside
``"b"``) as strings, so that they sort and the fitted model saves them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from advisor import errors
from advisor.datasets.dataset import normalize_labels, per_row_ids, row_numbers
from advisor.errors import ConfigurationError, DatasetError
from learners.tensors import ROUNDING

LISTED = 10
"""The most row numbers an error names."""


def check_training_data(X: Any, y: Any) -> np.ndarray:
    """Refuse training data no learner can use; return its labels as the data layer reads them.

    ``X``: numbers, ``(N, D)`` vectors or ``(N, H, W[, C])`` images, every value finite;
    ``y``: one label per row, none missing (``None``, NaN, blank), of two classes or more.

    Raises:
        DatasetError: ``dataset.bad_dtype``, ``dataset.shape_mismatch``, ``dataset.no_rows``,
            ``dataset.non_finite``, ``dataset.missing_labels`` or ``dataset.single_class``.
    """
    features = check_features(X, "X")
    labels = check_labels(y, features.shape[0], "y")
    classes = np.unique(labels)
    if classes.size < 2:
        raise DatasetError(
            f"All {labels.size} labels are the same ({str(classes[0])!r}); a classifier needs "
            "at least two classes.",
            code=errors.SINGLE_CLASS,
            label=str(classes[0]),
        )
    return labels


def check_test_data(X: Any, X_test: Any, y_test: Any) -> np.ndarray | None:
    """Refuse a test set the model trained on ``X`` cannot be scored on; return its labels.

    ``None`` without a test set. ``X_test`` and ``y_test`` go together; ``X_test`` must be the
    same kind of data as ``X`` (images of another size are resized, vectors must be as wide),
    finite numbers; ``y_test`` one label per row, none missing. Labels the training data lacks
    are allowed (the run warns of them), and so is a single class.

    Raises:
        ConfigurationError: ``config.invalid`` for one of ``X_test`` and ``y_test`` alone.
        DatasetError: ``dataset.encoding_mismatch`` for another kind of data (images against
            vectors), ``dataset.shape_mismatch`` for vectors of another width, and the codes of
            :func:`check_training_data` for the test set's own values and labels.
    """
    if X_test is None and y_test is None:
        return None
    if X_test is None or y_test is None:
        given, missing = ("X_test", "y_test") if y_test is None else ("y_test", "X_test")
        raise ConfigurationError(
            f"{given} was given without {missing}: the test set needs both, its inputs and "
            "their labels, to score the model on (or neither, for no test set)."
        )
    features = check_features(X_test, "X_test")
    train_shape = np.shape(X)
    train_kind, test_kind = _kind(len(train_shape)), _kind(features.ndim)
    if train_kind != test_kind:
        raise DatasetError(
            f"The training data X is {train_kind} {tuple(train_shape[1:])}, but X_test holds "
            f"{test_kind} {tuple(features.shape[1:])}: a test set must be the same kind of data.",
            code=errors.ENCODING_MISMATCH,
        )
    if test_kind == "vectors" and features.shape[1] != train_shape[1]:
        raise DatasetError(
            f"X has {train_shape[1]} feature columns but X_test has {features.shape[1]}.",
            code=errors.SHAPE_MISMATCH,
            shape=list(features.shape),
        )
    return check_labels(y_test, features.shape[0], "y_test")


def check_features(X: Any, name: str) -> np.ndarray:
    """``X`` as a numeric array of vectors or images, every value finite.

    An object array is read as numbers. Images are uint8 (0–255) or hold values in [0, 1], as
    the learners take them (:func:`learners.tensors.to_tensor`): 0–255 pixels in an array of
    another dtype would fail every trial.

    Raises:
        DatasetError: ``dataset.shape_mismatch``, ``dataset.bad_dtype``, ``dataset.no_rows`` or
            ``dataset.non_finite``.
    """
    try:
        features = np.asarray(X)
        if features.dtype.kind == "O":
            features = features.astype(np.float64)
    except (TypeError, ValueError):
        raise DatasetError(
            f"{name} must be a rectangular array of numbers.", code=errors.BAD_DTYPE
        ) from None
    if features.dtype.kind not in "biuf":
        raise DatasetError(
            f"{name} must hold numbers, got an array of dtype {features.dtype}.",
            code=errors.BAD_DTYPE,
            dtype=str(features.dtype),
        )
    if features.ndim not in (2, 3, 4):
        raise DatasetError(
            f"{name} must be (N, D) vectors or (N, H, W) / (N, H, W, C) images, got shape "
            f"{features.shape}.",
            code=errors.SHAPE_MISMATCH,
            shape=list(features.shape),
        )
    if features.shape[0] == 0:
        raise DatasetError(f"{name} has no rows.", code=errors.NO_ROWS)
    if features.dtype.kind == "f":
        finite = np.isfinite(features).reshape(features.shape[0], -1).all(axis=1)
        if not finite.all():
            rows = row_numbers(np.flatnonzero(~finite))
            raise DatasetError(
                f"{_rows(rows.size)} of {name} {'holds' if rows.size == 1 else 'hold'} NaN or "
                f"infinite values (rows {_listed(rows)}, numbered from 1); impute or drop "
                "them first.",
                code=errors.NON_FINITE,
                count=int(rows.size),
                rows=rows[:LISTED].tolist(),
            )
    if features.ndim > 2 and features.dtype != np.uint8:
        low, high = float(features.min()), float(features.max())
        if low < -ROUNDING or high > 1.0 + ROUNDING:
            raise DatasetError(
                f"Images in {name} of dtype {features.dtype} must hold values in [0, 1], got "
                f"[{low:g}, {high:g}]; divide 0-255 pixels by 255, or pass them as uint8.",
                code=errors.BAD_DTYPE,
                min=low,
                max=high,
            )
    return features


def check_labels(y: Any, n_rows: int, name: str) -> np.ndarray:
    """``y`` as the data layer reads labels: one per row, none missing.

    Raises:
        DatasetError: ``dataset.shape_mismatch`` or ``dataset.missing_labels``.
    """
    try:
        labels = normalize_labels(y)
    except (TypeError, ValueError):  # ragged nested lists
        raise DatasetError(
            f"{name} must be one label per row.", code=errors.SHAPE_MISMATCH
        ) from None
    return per_row_ids(labels, n_rows=n_rows, what="label", where=f" in {name}")


def _kind(dimensions: int) -> str:
    return "vectors" if dimensions == 2 else "images" if dimensions in (3, 4) else "other data"


def _rows(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"


def _listed(rows: np.ndarray) -> str:
    shown = ", ".join(str(int(r)) for r in rows[:LISTED])
    return shown + ("…" if rows.size > LISTED else "")
