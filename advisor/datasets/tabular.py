"""Tables (CSV, TSV, Parquet, JSON, vector NPZ) to validated vector datasets.

The columns of a table are sorted into kinds — *numeric*, *binary* (exactly two distinct
values), *categorical* (other non-numeric), *empty* (every value missing) — and encoded by a
fitted, reusable :class:`TabularEncoder`, a thin layer over scikit-learn's
:class:`~sklearn.compose.ColumnTransformer`:

* numeric columns: missing values filled with the median (or mean, or zero) of the column;
* categorical and binary non-numeric columns: missing values filled with the most frequent
  value, then one-hot encoded (a binary column becomes a single 0/1 column) or ordinal encoded;
  a column with more categories than ``max_onehot_categories`` is ordinal encoded, with a
  warning;
* empty columns are dropped, with a warning (a trailing delimiter makes one).

Rows are never dropped: a missing label is an error, and with ``missing="error"`` so is a
missing feature value. Infinite values cannot be imputed and are refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from advisor import errors
from advisor.datasets.dataset import (
    ColumnInfo,
    ColumnKind,
    Dataset,
    Provenance,
    TabularSummary,
    check_row_count,
    make_dataset,
)
from advisor.datasets.options import CategoricalEncoding, LoadOptions, NumericImpute
from advisor.errors import DatasetError, LimitExceededError
from advisor.settings import DataLimits

if TYPE_CHECKING:
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

LABEL_CANDIDATES = ("label", "labels", "target", "class", "y")
_IMPUTE_STRATEGY: dict[NumericImpute, dict[str, Any]] = {
    "median": {"strategy": "median"},
    "mean": {"strategy": "mean"},
    "zero": {"strategy": "constant", "fill_value": 0.0},
}


def column_kind(column: pd.Series) -> ColumnKind:
    """The kind of a column: ``numeric``, ``binary``, ``categorical`` or ``empty``."""
    present = column.dropna()
    if present.empty:
        return "empty"
    if present.nunique() == 2:
        return "binary"
    if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
        return "numeric"
    return "categorical"


def _is_numeric(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


class TabularEncoder:
    """Encodes a table's feature columns into a float64 matrix, the same way every time.

    Fit it on a table, then :meth:`transform` new rows with the same columns (extra columns
    are ignored; unseen categories encode as all-zero one-hot rows or ``-1`` ordinals).

    Args:
        categorical: ``"onehot"`` or ``"ordinal"``.
        numeric_impute: ``"median"``, ``"mean"`` or ``"zero"``.
        max_onehot_categories: more categories than this are ordinal encoded.
    """

    def __init__(
        self,
        *,
        categorical: CategoricalEncoding = "onehot",
        numeric_impute: NumericImpute = "median",
        max_onehot_categories: int = 64,
    ) -> None:
        self.categorical = categorical
        self.numeric_impute = numeric_impute
        self.max_onehot_categories = max_onehot_categories
        self.numeric_columns_: list[str] = []
        self.onehot_columns_: list[str] = []
        self.ordinal_columns_: list[str] = []
        self.warnings_: list[str] = []
        self._transformer: ColumnTransformer | None = None

    @property
    def columns_(self) -> list[str]:
        """The input columns the encoder reads, in output order."""
        return self.numeric_columns_ + self.onehot_columns_ + self.ordinal_columns_

    def fit(self, frame: pd.DataFrame) -> TabularEncoder:
        """Learn column kinds, imputation statistics and categories from ``frame``."""
        # scikit-learn takes seconds to import: only when a table is encoded.
        from sklearn.compose import ColumnTransformer  # noqa: PLC0415
        from sklearn.impute import SimpleImputer  # noqa: PLC0415
        from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder  # noqa: PLC0415

        self.numeric_columns_, self.onehot_columns_, self.ordinal_columns_ = [], [], []
        self.warnings_ = []
        for name in frame.columns:
            self._assign(str(name), frame[name])
        branches: list[tuple[str, Any, list[str]]] = []
        if self.numeric_columns_:
            imputer = SimpleImputer(**_IMPUTE_STRATEGY[self.numeric_impute])
            branches.append(("numeric", imputer, self.numeric_columns_))
        if self.onehot_columns_:
            onehot = OneHotEncoder(
                drop="if_binary", handle_unknown="ignore", sparse_output=False, dtype=np.float64
            )
            branches.append(("onehot", _categorical_pipeline(onehot), self.onehot_columns_))
        if self.ordinal_columns_:
            ordinal = OrdinalEncoder(
                handle_unknown="use_encoded_value", unknown_value=-1, dtype=np.float64
            )
            branches.append(("ordinal", _categorical_pipeline(ordinal), self.ordinal_columns_))
        transformer = ColumnTransformer(branches, remainder="drop", verbose_feature_names_out=False)
        transformer.fit(_as_object(frame, self.onehot_columns_ + self.ordinal_columns_))
        self._transformer = transformer
        return self

    def _assign(self, name: str, column: pd.Series) -> None:
        kind = column_kind(column)
        if kind == "empty":
            self.warnings_.append(f"Column {name!r} is empty (every value missing); dropped.")
        elif _is_numeric(column):
            self.numeric_columns_.append(name)
        elif self.categorical == "ordinal":
            self.ordinal_columns_.append(name)
        elif column.nunique() > self.max_onehot_categories:
            self.ordinal_columns_.append(name)
            self.warnings_.append(
                f"Column {name!r} has {column.nunique()} categories, more than "
                f"max_onehot_categories={self.max_onehot_categories}; ordinal encoded."
            )
        else:
            self.onehot_columns_.append(name)

    @property
    def feature_names_out_(self) -> list[str]:
        """Names of the encoded columns (``city_Paris`` for one-hot columns)."""
        return [str(n) for n in self._fitted().get_feature_names_out()]

    @property
    def categorical_mask_(self) -> np.ndarray:
        """Which encoded columns come from categorical input columns (one-hot or ordinal)."""
        transformer = self._fitted()
        mask = np.zeros(len(self.feature_names_out_), dtype=bool)
        for branch in ("onehot", "ordinal"):
            if branch in transformer.output_indices_:
                mask[transformer.output_indices_[branch]] = True
        return mask

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """Encode ``frame`` into a float64 matrix ``(rows, len(feature_names_out_))``.

        Raises:
            DatasetError: ``dataset.no_features`` when ``frame`` lacks columns seen in fit.
        """
        transformer = self._fitted()
        absent = [c for c in self.columns_ if c not in frame.columns]
        if absent:
            raise DatasetError(
                f"The rows lack the columns {absent} the encoder was fitted on.",
                code=errors.NO_FEATURES,
                columns=absent,
            )
        encoded = transformer.transform(
            _as_object(frame, self.onehot_columns_ + self.ordinal_columns_)
        )
        return np.asarray(encoded, dtype=np.float64)

    def fit_transform(self, frame: pd.DataFrame) -> np.ndarray:
        """:meth:`fit`, then :meth:`transform` the same rows."""
        return self.fit(frame).transform(frame)

    def _fitted(self) -> ColumnTransformer:
        if self._transformer is None:
            raise RuntimeError("TabularEncoder is not fitted; call fit() first.")
        return self._transformer

    def __repr__(self) -> str:
        return (
            f"TabularEncoder(categorical={self.categorical!r}, "
            f"numeric_impute={self.numeric_impute!r}, "
            f"max_onehot_categories={self.max_onehot_categories})"
        )


def _categorical_pipeline(encoder: Any) -> Pipeline:
    from sklearn.impute import SimpleImputer  # noqa: PLC0415
    from sklearn.pipeline import Pipeline  # noqa: PLC0415

    return Pipeline([("impute", SimpleImputer(strategy="most_frequent")), ("encode", encoder)])


def _as_object(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Categorical columns as plain Python objects with NaN for missing (what sklearn expects)."""
    if not columns:
        return frame
    result = frame.copy()
    for name in columns:
        values = result[name].astype(object)
        result[name] = values.where(values.notna(), np.nan).map(
            lambda v: v if isinstance(v, float) and np.isnan(v) else str(v)
        )
    return result


def frame_to_dataset(
    frame: pd.DataFrame,
    *,
    options: LoadOptions,
    provenance: Provenance,
    limits: DataLimits,
    notes: Sequence[str] = (),
) -> Dataset:
    """Validate a table, encode its features and return the :class:`Dataset`.

    ``notes`` are warnings of the reader (a guessed encoding…) to keep in the info.

    Raises:
        DatasetError: no rows, no label column, missing labels, missing values under
            ``missing="error"``, infinite values, no feature column, and the label checks of
            :func:`~advisor.datasets.dataset.make_dataset`.
        LimitExceededError: too many rows, columns or feature values.
    """
    frame = _with_string_columns(frame)
    check_row_count(len(frame), limits)
    label = resolve_label_column(frame, options.label)
    reserved = [label]
    if options.groups is not None:
        if options.groups not in frame.columns:
            raise DatasetError(
                f"The groups column {options.groups!r} is not in the file; columns: "
                f"{_column_list(frame)}.",
                code=errors.BAD_OPTION,
                column=options.groups,
            )
        reserved.append(options.groups)
    features = frame.drop(columns=reserved)
    if features.shape[1] == 0:
        raise DatasetError(
            f"Besides the label {label!r} the file has no feature column.",
            code=errors.NO_FEATURES,
        )
    columns = _column_infos(frame, label=label, groups=options.groups)
    kept = features[[c.name for c in columns if c.role == "feature"]]
    n_missing = int(kept.isna().to_numpy().sum())
    _check_missing(kept, options, n_missing)
    _check_infinite(kept)
    encoder = TabularEncoder(
        categorical=options.categorical,
        numeric_impute=options.numeric_impute,
        max_onehot_categories=options.max_onehot_categories,
    ).fit(features)
    _check_width(len(features), len(encoder.feature_names_out_), limits)
    warnings = list(notes) + list(encoder.warnings_)
    if n_missing:
        warnings.append(
            f"{n_missing} missing feature values imputed (numeric: {options.numeric_impute}, "
            "categorical: most frequent)."
        )
    return make_dataset(
        encoder.transform(features),
        frame[label].to_numpy(),
        modality="vector",
        groups=None if options.groups is None else frame[options.groups].to_numpy(),
        feature_names=encoder.feature_names_out_,
        encoder=encoder,
        provenance=provenance.model_copy(update={"label_column": label}),
        tabular=TabularSummary(
            columns=columns,
            n_missing=n_missing,
            missing_policy=options.missing,
            categorical_encoding=options.categorical,
        ),
        warnings=warnings,
        limits=limits,
    )


def _with_string_columns(frame: pd.DataFrame) -> pd.DataFrame:
    if frame.shape[1] == 0:
        raise DatasetError("The file has no columns.", code=errors.NO_ROWS)
    names = [str(c) for c in frame.columns]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise DatasetError(
            f"Column names must be unique; repeated: {duplicated}.",
            code=errors.MALFORMED,
            columns=duplicated,
        )
    frame = frame.copy()
    frame.columns = pd.Index(names)
    for name in names:  # nullable integer/float extension dtypes -> float64 with NaN
        column = frame[name]
        if _is_numeric(column) and isinstance(column.dtype, pd.api.extensions.ExtensionDtype):
            frame[name] = column.astype("float64")
    return frame


def resolve_label_column(frame: pd.DataFrame, label: str | int | None) -> str:
    """The name of the label column, from an explicit name or position, or by convention.

    Raises:
        DatasetError: ``dataset.no_label_column``.
    """
    names = [str(c) for c in frame.columns]
    if isinstance(label, int):
        if -len(names) <= label < len(names):
            return names[label]
        raise DatasetError(
            f"There is no column at position {label}; the file has {len(names)} columns.",
            code=errors.NO_LABEL_COLUMN,
            columns=names,
        )
    if label is not None:
        if label in names:
            return label
        raise DatasetError(
            f"The label column {label!r} is not in the file; columns: {_column_list(frame)}.",
            code=errors.NO_LABEL_COLUMN,
            label=label,
            columns=names[:50],
        )
    found = [n for n in names if n.strip().lower() in LABEL_CANDIDATES]
    if len(found) == 1:
        return found[0]
    reason = "several columns could be" if found else "no column is named"
    raise DatasetError(
        f"Name the label column ({reason} {'/'.join(LABEL_CANDIDATES)}); columns: "
        f"{_column_list(frame)}. Pass label=... (--label on the command line).",
        code=errors.NO_LABEL_COLUMN,
        columns=names[:50],
    )


def _column_infos(frame: pd.DataFrame, *, label: str, groups: str | None) -> list[ColumnInfo]:
    infos = []
    for name in frame.columns:
        column = frame[name]
        kind = column_kind(column)
        role = "label" if name == label else "group" if name == groups else "feature"
        infos.append(
            ColumnInfo(
                name=str(name),
                dtype=str(column.dtype),
                kind=kind,
                role="dropped" if role == "feature" and kind == "empty" else role,
                n_missing=int(column.isna().sum()),
                n_unique=int(column.nunique()),
            )
        )
    return infos


def _check_missing(features: pd.DataFrame, options: LoadOptions, n_missing: int) -> None:
    if n_missing == 0 or options.missing == "impute":
        return
    per_column = features.isna().sum()
    offending = {str(k): int(v) for k, v in per_column[per_column > 0].items()}
    raise DatasetError(
        f"{n_missing} feature values are missing (per column: {offending}) and the "
        "missing-value policy is 'error'; fill them or pass missing='impute'.",
        code=errors.MISSING_VALUES,
        count=n_missing,
        columns=offending,
    )


def _check_infinite(features: pd.DataFrame) -> None:
    numeric = features.select_dtypes(include="number")
    if numeric.empty:
        return
    infinite = np.isinf(numeric.to_numpy(dtype=np.float64, na_value=0.0))
    if not infinite.any():
        return
    rows = np.flatnonzero(infinite.any(axis=1))
    columns = [str(c) for c, bad in zip(numeric.columns, infinite.any(axis=0), strict=True) if bad]
    raise DatasetError(
        f"{int(infinite.sum())} feature values are infinite (columns {columns}, first rows "
        f"{rows[:10].tolist()}); infinite values cannot be imputed.",
        code=errors.NON_FINITE,
        count=int(infinite.sum()),
        columns=columns,
        rows=rows[:10].tolist(),
    )


def _check_width(n_rows: int, n_columns: int, limits: DataLimits) -> None:
    if n_columns > limits.max_columns:
        raise LimitExceededError(
            f"Encoding gives {n_columns} feature columns; the limit is {limits.max_columns} "
            "(use categorical='ordinal' or ADVISOR_MAX_COLUMNS).",
            code=errors.TOO_MANY_COLUMNS,
            columns=n_columns,
            limit=limits.max_columns,
        )
    if n_rows * n_columns > limits.max_cells:
        raise LimitExceededError(
            f"{n_rows} rows x {n_columns} encoded columns exceed the limit of "
            f"{limits.max_cells} feature values (setting ADVISOR_MAX_CELLS).",
            code=errors.TOO_MANY_CELLS,
            cells=n_rows * n_columns,
            limit=limits.max_cells,
        )


def _column_list(frame: pd.DataFrame) -> str:
    names = [str(c) for c in frame.columns]
    return ", ".join(repr(n) for n in names[:20]) + (" …" if len(names) > 20 else "")
