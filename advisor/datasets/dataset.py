"""The :class:`Dataset` every loader returns, its :class:`DatasetInfo`, and their construction.

A dataset is a pair of arrays, ``X`` and ``y``, plus what the rest of the product needs to know
about them. ``X`` is ``(N, D)`` float64 for vector data, or ``(N, H, W)`` / ``(N, H, W, 3)`` for
images (uint8 in [0, 255], or float32 in [0, 1]). ``y`` keeps the user's original labels;
``y_encoded`` holds the integer codes ``0..K-1`` alongside, with ``classes[y_encoded] == y``.

:func:`make_dataset` is the single place where arrays become a :class:`Dataset`: every loader and
every built-in domain goes through it, so every dataset is validated the same way (shapes,
dtypes, finiteness, label counts, configured limits) and described by the same
:class:`DatasetInfo`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from advisor import errors
from advisor.errors import DatasetError, LimitExceededError
from advisor.settings import DataLimits, get_settings

if TYPE_CHECKING:
    from advisor.datasets.encoder import TabularEncoder

Modality = Literal["image", "vector"]
ColumnKind = Literal["numeric", "binary", "categorical", "empty"]
ColumnRole = Literal["feature", "label", "group", "dropped", "identifier"]

_MAX_LISTED = 10  # how many offending classes / rows an error message names


class ShotStats(BaseModel):
    """Examples per class: the few-shot view of a dataset's size."""

    model_config = ConfigDict(frozen=True)

    min: int
    median: float
    max: int


class ColumnInfo(BaseModel):
    """One input column of a tabular file, as the loader understood it."""

    model_config = ConfigDict(frozen=True)

    name: str
    dtype: str
    kind: ColumnKind
    role: ColumnRole = "feature"
    n_missing: int = 0
    n_unique: int = 0


class Provenance(BaseModel):
    """Where a dataset came from and how its bytes were read."""

    model_config = ConfigDict(frozen=True)

    name: str = "array"
    format: str = "array"
    sha256: str | None = None
    size_bytes: int | None = None
    text_encoding: str | None = None
    delimiter: str | None = None
    label_column: str | None = None


class TabularSummary(BaseModel):
    """How a tabular file's columns were encoded and its missing values handled."""

    model_config = ConfigDict(frozen=True)

    columns: list[ColumnInfo]
    n_missing: int = 0
    missing_policy: str = "impute"
    categorical_encoding: str = "onehot"


class DatasetInfo(BaseModel):
    """A JSON-ready description of a dataset: size, shape, classes, shots, provenance."""

    model_config = ConfigDict(frozen=True)

    name: str
    format: str
    modality: Modality
    n_rows: int
    input_shape: tuple[int, ...]
    n_features: int
    n_classes: int
    shots: ShotStats
    class_counts: dict[str, int]
    n_missing: int = 0
    dtypes: dict[str, str]
    sha256: str | None = None
    size_bytes: int | None = None
    text_encoding: str | None = None
    delimiter: str | None = None
    label_column: str | None = None
    tabular: TabularSummary | None = None
    warnings: list[str] = []


@dataclass(frozen=True, eq=False)
class Dataset:
    """A validated labeled dataset (see the module docstring for the array conventions).

    Attributes:
        X: features, ``(N, D)`` float64 or images ``(N, H, W[, 3])``.
        y: the original labels, one per row.
        y_encoded: integer codes ``0..K-1`` of ``y``; ``classes[y_encoded] == y``.
        classes: the distinct original labels, sorted.
        modality: ``"image"`` or ``"vector"``.
        info: the :class:`DatasetInfo` summary.
        groups: optional group ids per row (writers, fonts, patients…) for grouped splits.
        feature_names: names of the columns of ``X`` for vector data.
        encoder: the fitted :class:`~advisor.datasets.encoder.TabularEncoder` that turned a
            table into ``X``; reuse it to encode new rows the same way.
    """

    X: np.ndarray
    y: np.ndarray
    y_encoded: np.ndarray
    classes: np.ndarray
    modality: Modality
    info: DatasetInfo
    groups: np.ndarray | None = None
    feature_names: tuple[str, ...] | None = None
    encoder: TabularEncoder | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_classes(self) -> int:
        """Number of distinct labels."""
        return int(self.classes.shape[0])

    @property
    def categorical_mask(self) -> np.ndarray:
        """Which columns of ``X`` encode categorical attributes (all False for images)."""
        if self.encoder is not None and self.modality == "vector":
            return self.encoder.categorical_mask_
        width = self.X.shape[1] if self.modality == "vector" else 0
        return np.zeros(width, dtype=bool)

    def take(self, indices: Sequence[int] | np.ndarray, *, name: str | None = None) -> Dataset:
        """The rows at ``indices`` as a new dataset (labels re-encoded, info recomputed).

        Unlike loading, taking rows does not re-check the few-shot rules (≥ 2 classes, ≥ 2
        examples per class): a slice of a valid dataset is a valid thing to look at.
        """
        index = np.asarray(indices, dtype=np.int64)
        provenance = Provenance(
            name=name or self.info.name,
            format=self.info.format,
            sha256=self.info.sha256,
            size_bytes=self.info.size_bytes,
            text_encoding=self.info.text_encoding,
            delimiter=self.info.delimiter,
            label_column=self.info.label_column,
        )
        return make_dataset(
            self.X[index],
            self.y[index],
            modality=self.modality,
            groups=None if self.groups is None else self.groups[index],
            feature_names=self.feature_names,
            encoder=self.encoder,
            provenance=provenance,
            tabular=self.info.tabular,
            warnings=self.info.warnings,
            check_labels=False,
        )

    def select_classes(
        self, labels: Sequence[Any] | np.ndarray, *, name: str | None = None
    ) -> Dataset:
        """The rows whose label is one of ``labels`` (original label values)."""
        wanted = np.asarray(labels)
        unknown = np.setdiff1d(wanted, self.classes)
        if unknown.size:
            raise DatasetError(
                f"Unknown classes: {_preview(unknown)}.",
                code=errors.BAD_OPTION,
                unknown=[str(v) for v in unknown[:_MAX_LISTED]],
            )
        return self.take(np.flatnonzero(np.isin(self.y, wanted)), name=name)


def make_dataset(
    X: Any,
    y: Any,
    *,
    modality: Modality | None = None,
    groups: Any = None,
    feature_names: Sequence[str] | None = None,
    encoder: TabularEncoder | None = None,
    provenance: Provenance | None = None,
    tabular: TabularSummary | None = None,
    warnings: Sequence[str] = (),
    limits: DataLimits | None = None,
    check_labels: bool = True,
) -> Dataset:
    """Validate arrays and wrap them into a :class:`Dataset`.

    Args:
        X: features ``(N, D)`` or images ``(N, H, W)``, ``(N, H, W, 1)``, ``(N, H, W, 3)``.
        y: ``N`` labels of any hashable kind (strings, integers…).
        modality: ``"image"`` or ``"vector"``; inferred from ``X.ndim`` when omitted.
        groups: optional ``N`` group ids.
        feature_names: ``D`` column names for vector data.
        encoder: the fitted tabular encoder that produced ``X``, if any.
        provenance: where the data came from (name, format, hash, encoding…).
        tabular: column summary of a tabular source.
        warnings: notes for the user (imputed values, dropped empty columns…).
        limits: limits to enforce; the configured :class:`~advisor.settings.DataLimits` if
            omitted.
        check_labels: enforce the classification rules (≥ 2 classes, ≥ 2 examples per
            class). Loaders always do; slices of an already valid dataset need not.

    Raises:
        DatasetError: with a code from :mod:`advisor.errors` for each kind of bad input.
        LimitExceededError: when a configured limit is exceeded.
    """
    limits = limits or get_settings().data_limits()
    provenance = provenance or Provenance()
    features, modality = _validate_features(X, modality, limits)
    labels = _validate_labels(y, n_rows=features.shape[0], limits=limits, check=check_labels)
    classes, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    codes = inverse.astype(np.int64).reshape(-1)
    group_ids = (
        None if groups is None else per_row_ids(groups, n_rows=features.shape[0], what="group id")
    )
    names = _validate_feature_names(feature_names, features, modality)
    info = DatasetInfo(
        name=provenance.name,
        format=provenance.format,
        modality=modality,
        n_rows=int(features.shape[0]),
        input_shape=tuple(int(s) for s in features.shape[1:]),
        n_features=int(np.prod(features.shape[1:])),
        n_classes=int(classes.shape[0]),
        shots=ShotStats(
            min=int(counts.min()) if counts.size else 0,
            median=float(np.median(counts)) if counts.size else 0.0,
            max=int(counts.max()) if counts.size else 0,
        ),
        class_counts={
            str(c): int(n) for c, n in zip(classes.tolist(), counts.tolist(), strict=True)
        },
        n_missing=tabular.n_missing if tabular else 0,
        dtypes=(
            {c.name: c.dtype for c in tabular.columns}
            if tabular
            else {"X": str(features.dtype), "y": str(labels.dtype)}
        ),
        sha256=provenance.sha256,
        size_bytes=provenance.size_bytes,
        text_encoding=provenance.text_encoding,
        delimiter=provenance.delimiter,
        label_column=provenance.label_column,
        tabular=tabular,
        warnings=list(warnings),
    )
    for array in (features, labels, codes, classes) + (() if group_ids is None else (group_ids,)):
        array.setflags(write=False)
    return Dataset(
        X=features,
        y=labels,
        y_encoded=codes,
        classes=classes,
        modality=modality,
        info=info,
        groups=group_ids,
        feature_names=names,
        encoder=encoder,
    )


# -- validation ------------------------------------------------------------------------------


def _validate_features(
    X: Any, modality: Modality | None, limits: DataLimits
) -> tuple[np.ndarray, Modality]:
    features = np.asarray(X)
    if features.dtype == object or features.dtype.kind in "USV":
        raise DatasetError(
            f"Features must be numeric, got an array of dtype {features.dtype}.",
            code=errors.BAD_DTYPE,
            dtype=str(features.dtype),
        )
    if features.ndim == 4 and features.shape[-1] == 1:
        features = features[..., 0]
    inferred: Modality = "vector" if features.ndim == 2 else "image"
    if features.ndim not in (2, 3, 4) or (features.ndim == 4 and features.shape[-1] != 3):
        raise DatasetError(
            "Features must be (N, D) vectors or (N, H, W) / (N, H, W, 1) / (N, H, W, 3) images, "
            f"got shape {features.shape}.",
            code=errors.SHAPE_MISMATCH,
            shape=list(features.shape),
        )
    if modality is not None and modality != inferred:
        raise DatasetError(
            f"modality={modality!r} does not fit features of shape {features.shape} "
            f"(which are {inferred} data).",
            code=errors.SHAPE_MISMATCH,
            shape=list(features.shape),
        )
    check_row_count(features.shape[0], limits)
    if inferred == "vector":
        return _validate_vectors(features, limits), inferred
    return _validate_images(features, limits), inferred


def check_row_count(n_rows: int, limits: DataLimits) -> None:
    """Refuse zero rows (``dataset.no_rows``) and more than ``limits.max_rows``."""
    if n_rows == 0:
        raise DatasetError("The dataset has no examples.", code=errors.NO_ROWS)
    if n_rows > limits.max_rows:
        raise LimitExceededError(
            f"The dataset has {n_rows} rows; the limit is {limits.max_rows} "
            "(setting ADVISOR_MAX_ROWS).",
            code=errors.TOO_MANY_ROWS,
            rows=int(n_rows),
            limit=limits.max_rows,
        )


def _validate_vectors(features: np.ndarray, limits: DataLimits) -> np.ndarray:
    if features.shape[1] == 0:
        raise DatasetError("There is no feature column.", code=errors.NO_FEATURES)
    if features.shape[1] > limits.max_columns:
        raise LimitExceededError(
            f"The dataset has {features.shape[1]} feature columns; the limit is "
            f"{limits.max_columns}.",
            code=errors.TOO_MANY_COLUMNS,
            columns=int(features.shape[1]),
            limit=limits.max_columns,
        )
    if features.dtype.kind not in "biuf":
        raise DatasetError(
            f"Features must be real numbers, got dtype {features.dtype}.",
            code=errors.BAD_DTYPE,
            dtype=str(features.dtype),
        )
    values = features.astype(np.float64, copy=False)
    _require_finite(values)
    return values


def _validate_images(images: np.ndarray, limits: DataLimits) -> np.ndarray:
    if images.shape[0] > limits.max_image_count:
        raise LimitExceededError(
            f"The dataset has {images.shape[0]} images; the limit is {limits.max_image_count}.",
            code=errors.TOO_MANY_ROWS,
            rows=int(images.shape[0]),
            limit=limits.max_image_count,
        )
    height, width = images.shape[1], images.shape[2]
    if height * width == 0 or height * width > limits.max_image_pixels:
        raise LimitExceededError(
            f"Images of {height}x{width} pixels are outside the accepted range "
            f"(1 to {limits.max_image_pixels} pixels).",
            code=errors.IMAGE_TOO_LARGE,
            height=int(height),
            width=int(width),
        )
    kind = images.dtype.kind
    if kind == "b":
        return images.astype(np.uint8) * np.uint8(255)
    if kind in "iu":
        low, high = int(images.min()), int(images.max())
        if low < 0 or high > 255:
            raise DatasetError(
                f"Integer images must hold values in [0, 255], got [{low}, {high}].",
                code=errors.BAD_DTYPE,
                min=low,
                max=high,
            )
        return images.astype(np.uint8, copy=False)
    if kind != "f":
        raise DatasetError(
            f"Images must be uint8 or float in [0, 1], got dtype {images.dtype}.",
            code=errors.BAD_DTYPE,
            dtype=str(images.dtype),
        )
    _require_finite(images)
    low_f, high_f = float(images.min()), float(images.max())
    if low_f < 0.0 or high_f > 1.0:
        raise DatasetError(
            f"Float images must hold values in [0, 1], got [{low_f:g}, {high_f:g}]; "
            "divide 0-255 data by 255 or pass uint8.",
            code=errors.BAD_DTYPE,
            min=low_f,
            max=high_f,
        )
    return images.astype(np.float32, copy=False)


def _require_finite(values: np.ndarray) -> None:
    finite = np.isfinite(values)
    if finite.all():
        return
    bad_rows = row_numbers(np.flatnonzero(~finite.reshape(finite.shape[0], -1).all(axis=1)))
    raise DatasetError(
        f"{int((~finite).sum())} feature values are NaN or infinite (rows "
        f"{_preview(bad_rows)}, numbered from 1); they cannot be used or imputed here.",
        code=errors.NON_FINITE,
        count=int((~finite).sum()),
        rows=bad_rows[:_MAX_LISTED].tolist(),
    )


def normalize_labels(y: Any) -> np.ndarray:
    """Labels as a 1-D array of one sortable kind: integers, floats, booleans or strings.

    Mixed kinds (e.g. ``[1, "b"]``) become strings. Missing labels (``None``, NaN, empty or
    blank strings) become ``None`` in an object array, for :func:`missing_labels` to find.
    """
    labels = np.asarray(y)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1:
        raise DatasetError(
            f"Labels must be one-dimensional, got shape {labels.shape}.",
            code=errors.SHAPE_MISMATCH,
            shape=list(labels.shape),
        )
    if labels.dtype != object:
        return labels
    values = [_none_if_missing(v) for v in labels.tolist()]
    present = [v for v in values if v is not None]
    if len(present) < len(values):
        return np.array(values, dtype=object)
    if all(isinstance(v, bool) for v in present):
        return np.array(present, dtype=bool)
    if all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return np.array(present, dtype=np.int64)
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return np.array(present, dtype=np.float64)
    return np.array([str(v) for v in present], dtype=str)


def _none_if_missing(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, str) and not value.strip():
        return None
    if isinstance(value, np.generic):
        return _none_if_missing(value.item())
    return value


def missing_labels(labels: np.ndarray) -> np.ndarray:
    """Row indices whose label is missing (``None`` or NaN)."""
    if labels.dtype == object:
        return np.flatnonzero([v is None for v in labels.tolist()])
    if labels.dtype.kind == "f":
        return np.flatnonzero(np.isnan(labels))
    if labels.dtype.kind == "U":
        return np.flatnonzero(np.char.strip(labels) == "")
    return np.array([], dtype=np.int64)


def row_numbers(indices: np.ndarray) -> np.ndarray:
    """Row positions (from 0) as the numbers errors show (from 1: the first data row is 1).

    A table's first data row, the one under its header, is row 1, as ``advisor predict``
    numbers its answers; so is an array's row 0.
    """
    return np.asarray(indices, dtype=np.int64) + 1


def per_row_ids(values: Any, *, n_rows: int, what: str, where: str = "") -> np.ndarray:
    """Labels or group ids: one per row, none missing (rows are never dropped silently).

    ``where`` names the array in messages (`` in y_test``).

    Raises:
        DatasetError: ``dataset.shape_mismatch``, ``dataset.missing_labels``.
    """
    ids = normalize_labels(values)
    if ids.shape[0] != n_rows:
        raise DatasetError(
            f"There are {n_rows} feature rows but {ids.shape[0]} {what}s{where}.",
            code=errors.SHAPE_MISMATCH,
            rows=n_rows,
            values=int(ids.shape[0]),
        )
    missing = row_numbers(missing_labels(ids))
    if missing.size:
        raise DatasetError(
            f"{_count(missing.size, 'row has', 'rows have')} no {what}{where} (rows "
            f"{_preview(missing)}, numbered from 1); fill them in or remove those rows "
            "yourself — rows are never dropped silently.",
            code=errors.MISSING_LABELS,
            count=int(missing.size),
            rows=missing[:_MAX_LISTED].tolist(),
        )
    return ids


def _validate_labels(y: Any, *, n_rows: int, limits: DataLimits, check: bool) -> np.ndarray:
    labels = per_row_ids(y, n_rows=n_rows, what="label")
    if not check:
        return labels
    classes, counts = np.unique(labels, return_counts=True)
    if (classes.shape[0] > limits.max_classes or np.any(counts < 2)) and looks_like_a_quantity(
        classes, counts, n_rows
    ):
        raise DatasetError(
            f"The labels hold {classes.shape[0]} different numbers in {n_rows} rows (from "
            f"{_preview(classes[:1])} to {_preview(classes[-1:])}; "
            f"{_count(int(np.sum(counts < 2)), 'value occurs', 'values occur')} once): they "
            "look like a quantity to predict (regression), not classes. The advisor "
            "classifies: name the column of classes (--label, label=), or cut the numbers "
            "into classes yourself (pandas.cut, say) and label by those.",
            code=errors.NUMERIC_LABEL,
            values=int(classes.shape[0]),
            rows=n_rows,
        )
    if classes.shape[0] > limits.max_classes:
        raise LimitExceededError(
            f"The labels hold {classes.shape[0]} classes; the limit is {limits.max_classes} "
            "(setting ADVISOR_MAX_CLASSES).",
            code=errors.TOO_MANY_CLASSES,
            classes=int(classes.shape[0]),
            limit=limits.max_classes,
        )
    if classes.shape[0] < 2:
        raise DatasetError(
            f"All {n_rows} rows have the same label ({_preview(classes)}); a classifier needs "
            "at least two classes.",
            code=errors.SINGLE_CLASS,
            label=str(classes[0]),
        )
    small = classes[counts < 2]
    if small.size:
        raise DatasetError(
            f"{_count(small.size, 'class', 'classes')} with a single example "
            f"({_preview(small)}); every class needs at least 2 examples so that one can be "
            "held out for evaluation.",
            code=errors.CLASS_TOO_SMALL,
            classes=[str(c) for c in small[:_MAX_LISTED]],
            count=int(small.size),
        )
    return labels


QUANTITY_VALUES = 20
"""The fewest distinct numbers a label column must hold to be read as a quantity."""


def looks_like_a_quantity(classes: np.ndarray, counts: np.ndarray, n_rows: int) -> bool:
    """Whether sorted distinct labels (and their counts) look like a quantity, not class codes.

    True for numbers (not booleans) with at least :data:`QUANTITY_VALUES` distinct values that
    hold fractions or number at least a fifth of the rows, a quarter or more of them occurring
    once: class codes are whole numbers that repeat (digits 0–9; twenty codes with one rare),
    a quantity (a price, a disease score) takes a new value every few rows. Only asked where
    the labels already fail as classes (a class with one example, or past the limit on
    classes), to say why.
    """
    if classes.dtype.kind not in "iuf" or classes.shape[0] < QUANTITY_VALUES:
        return False
    if np.count_nonzero(counts < 2) * 4 < classes.shape[0]:
        return False
    fractional = classes.dtype.kind == "f" and bool(np.any(classes != np.round(classes)))
    return fractional or classes.shape[0] * 5 >= n_rows


def _validate_feature_names(
    names: Sequence[str] | None, features: np.ndarray, modality: Modality
) -> tuple[str, ...] | None:
    if modality == "image":
        return None
    if names is None:
        return tuple(f"x{i}" for i in range(features.shape[1]))
    result = tuple(str(n) for n in names)
    if len(result) != features.shape[1]:
        raise DatasetError(
            f"{len(result)} feature names for {features.shape[1]} columns.",
            code=errors.SHAPE_MISMATCH,
        )
    return result


def _count(n: int, singular: str, plural: str) -> str:
    return f"{n} {singular if n == 1 else plural}"


def _preview(values: np.ndarray | Sequence[Any]) -> str:
    items = [repr(v.item() if isinstance(v, np.generic) else v) for v in list(values)[:_MAX_LISTED]]
    more = len(values) - len(items)
    return ", ".join(items) + (f" and {more} more" if more > 0 else "")
