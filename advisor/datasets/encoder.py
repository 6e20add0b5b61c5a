"""The fitted encoding of a table's feature columns, reusable on new rows and saved as JSON.

A table's columns are sorted into kinds — *numeric*, *binary* (exactly two distinct values),
*categorical* (other non-numeric), *empty* (every value missing) — and encoded by a
:class:`TabularEncoder`, a thin layer over scikit-learn's
:class:`~sklearn.compose.ColumnTransformer`:

* numeric columns: missing values filled with the median (or mean, or zero) of the column;
* categorical and binary non-numeric columns: missing values filled with the most frequent
  value, then one-hot encoded (a binary column becomes a single 0/1 column) or ordinal encoded;
  a column with more categories than ``max_onehot_categories`` is ordinal encoded, with a
  warning;
* empty columns are dropped, with a warning (a trailing delimiter makes one).

A model trained on encoded rows can only be applied to rows encoded *the same way*: the same
columns in the same order, the training data's fill values and categories. Encoding a test or
prediction file on its own would silently change what a column means (a category absent from
it shifts every one-hot column after it), so the fitted encoder travels with the model:
:meth:`TabularEncoder.state` is a plain JSON document (:class:`EncoderState`, validated by
pydantic when read back; nothing is unpickled), and ``load_dataset(..., encoder=...)`` encodes
a new file with it.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from advisor import errors
from advisor.datasets.dataset import ColumnKind, row_numbers
from advisor.datasets.options import CategoricalEncoding, NumericImpute
from advisor.errors import DatasetError

if TYPE_CHECKING:
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

ENCODER_FILE = "encoder.json"
"""The name of a saved encoder beside a saved model."""

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


def check_finite(features: pd.DataFrame) -> None:
    """Refuse a table whose numeric columns hold an infinite value (gaps are imputed; ±inf not).

    Raises:
        DatasetError: ``dataset.non_finite``, naming the columns and the first rows.
    """
    numeric = features.select_dtypes(include="number")
    if numeric.empty:
        return
    infinite = np.isinf(numeric.to_numpy(dtype=np.float64, na_value=0.0))
    if not infinite.any():
        return
    rows = row_numbers(np.flatnonzero(infinite.any(axis=1)))
    columns = [str(c) for c, bad in zip(numeric.columns, infinite.any(axis=0), strict=True) if bad]
    raise DatasetError(
        f"{int(infinite.sum())} feature values are infinite (columns {columns}, first rows "
        f"{rows[:10].tolist()}, numbered from 1); infinite values cannot be imputed.",
        code=errors.NON_FINITE,
        count=int(infinite.sum()),
        columns=columns,
        rows=rows[:10].tolist(),
    )


def is_numeric_column(column: pd.Series) -> bool:
    """Numbers (booleans excluded): the columns the numeric branch imputes and passes on."""
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def refuse_encoder(encoder: TabularEncoder | None, what: str) -> None:
    """Raise when a table's encoder is given for data that is not a table (``what``).

    Raises:
        DatasetError: ``dataset.encoding_mismatch``.
    """
    if encoder is not None:
        raise DatasetError(
            f"The training data was a table, but this file holds {what}.",
            code=errors.ENCODING_MISMATCH,
        )


class NumericColumn(BaseModel):
    """A numeric input column and the value that fills its missing entries."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    fill: float = Field(allow_inf_nan=False)


class CategoricalColumn(BaseModel):
    """A categorical input column: its known categories (in output order) and its fill value."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    fill: str
    categories: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _fill_is_known(self) -> CategoricalColumn:
        if self.fill not in self.categories:
            raise ValueError(f"fill {self.fill!r} of column {self.name!r} is not a category")
        return self


class EncoderState(BaseModel):
    """A fitted :class:`TabularEncoder` as data: what :meth:`TabularEncoder.save` writes."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    format: Literal["advisor.tabular_encoder"] = "advisor.tabular_encoder"
    version: Literal[1] = 1
    categorical: CategoricalEncoding
    numeric_impute: NumericImpute
    max_onehot_categories: int = Field(ge=2)
    numeric: list[NumericColumn]
    onehot: list[CategoricalColumn]
    ordinal: list[CategoricalColumn]
    features_out: list[str] = Field(description="The encoded columns, as a check on reading.")
    identifiers: list[str] = Field(
        default_factory=list,
        description="Columns of the training table left out as row identifiers: rows to "
        "classify are named by the first of them they have.",
    )


class TabularEncoder:
    """Encodes a table's feature columns into a float64 matrix, the same way every time.

    Fit it on a table, then :meth:`transform` new rows with the same columns (extra columns
    are ignored; unseen categories encode as all-zero one-hot rows or ``-1`` ordinals, and
    :meth:`unseen_categories` names them). :meth:`save` / :meth:`load` keep it as JSON.

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
        self.identifiers_: list[str] = []
        self._transformer: ColumnTransformer | None = None

    @property
    def columns_(self) -> list[str]:
        """The input columns the encoder reads, in output order."""
        return self.numeric_columns_ + self.onehot_columns_ + self.ordinal_columns_

    @property
    def _categorical_columns(self) -> list[str]:
        return self.onehot_columns_ + self.ordinal_columns_

    def fit(self, frame: pd.DataFrame) -> TabularEncoder:
        """Learn column kinds, imputation statistics and categories from ``frame``."""
        self.numeric_columns_, self.onehot_columns_, self.ordinal_columns_ = [], [], []
        self.warnings_ = []
        for name in frame.columns:
            self._assign(str(name), frame[name])
        transformer = self._build(_IMPUTE_STRATEGY[self.numeric_impute], categories=None)
        transformer.fit(_as_object(frame, self._categorical_columns))
        self._transformer = transformer
        return self

    def _assign(self, name: str, column: pd.Series) -> None:
        kind = column_kind(column)
        if kind == "empty":
            self.warnings_.append(f"Column {name!r} is empty (every value missing); dropped.")
        elif is_numeric_column(column):
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

    def _build(
        self, numeric_strategy: dict[str, Any], categories: dict[str, list[str]] | None
    ) -> ColumnTransformer:
        """The column transformer; ``categories`` fixes each categorical column's categories."""
        # scikit-learn takes seconds to import: only when a table is encoded.
        from sklearn.compose import ColumnTransformer  # noqa: PLC0415
        from sklearn.impute import SimpleImputer  # noqa: PLC0415
        from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder  # noqa: PLC0415

        def known(columns: list[str]) -> Any:
            return "auto" if categories is None else [categories[c] for c in columns]

        branches: list[tuple[str, Any, list[str]]] = []
        if self.numeric_columns_:
            branches.append(("numeric", SimpleImputer(**numeric_strategy), self.numeric_columns_))
        if self.onehot_columns_:
            onehot = OneHotEncoder(
                categories=known(self.onehot_columns_),
                drop="if_binary",
                handle_unknown="ignore",
                sparse_output=False,
                dtype=np.float64,
            )
            branches.append(("onehot", _categorical_pipeline(onehot), self.onehot_columns_))
        if self.ordinal_columns_:
            ordinal = OrdinalEncoder(
                categories=known(self.ordinal_columns_),
                handle_unknown="use_encoded_value",
                unknown_value=-1,
                dtype=np.float64,
            )
            branches.append(("ordinal", _categorical_pipeline(ordinal), self.ordinal_columns_))
        return ColumnTransformer(branches, remainder="drop", verbose_feature_names_out=False)

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

    @property
    def column_groups_(self) -> dict[str, list[int]]:
        """Each input column's encoded columns, by index (a one-hot column has several)."""
        transformer = self._fitted()
        groups: dict[str, list[int]] = {}
        for branch, columns in (
            ("numeric", self.numeric_columns_),
            ("onehot", self.onehot_columns_),
            ("ordinal", self.ordinal_columns_),
        ):
            if branch not in transformer.output_indices_:
                continue
            start = transformer.output_indices_[branch].start
            for name, width in zip(columns, self._widths(branch, len(columns)), strict=True):
                groups[name] = list(range(start, start + width))
                start += width
        return groups

    def _widths(self, branch: str, count: int) -> list[int]:
        """How many encoded columns each input column of ``branch`` becomes."""
        if branch != "onehot":
            return [1] * count
        onehot = self._fitted().named_transformers_["onehot"].named_steps["encode"]
        dropped = getattr(onehot, "drop_idx_", None)
        return [
            len(known) - (0 if dropped is None or dropped[i] is None else 1)
            for i, known in enumerate(onehot.categories_)
        ]

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """Encode ``frame`` into a float64 matrix ``(rows, len(feature_names_out_))``.

        A numeric column read as text (a CSV whose column holds ``"?"``) is refused rather
        than guessed at; a categorical column read as numbers (``"1"``, ``"2"`` parsed as
        integers) is matched to the training categories by its digits.

        Raises:
            DatasetError: ``dataset.encoding_mismatch`` when ``frame`` lacks columns seen in
                fit;
                ``dataset.encoding_mismatch`` when a numeric column holds text;
                ``dataset.non_finite`` when one holds an infinite value.
        """
        transformer = self._fitted()
        absent = [c for c in self.columns_ if c not in frame.columns]
        if absent:
            raise DatasetError(
                f"The rows lack the columns {absent} the encoder was fitted on.",
                code=errors.ENCODING_MISMATCH,
                columns=absent,
            )
        frame = self._numeric_as_numbers(frame)
        check_finite(frame[self.columns_])
        with warnings.catch_warnings():  # unseen categories: unseen_categories() names them
            warnings.filterwarnings("ignore", "Found unknown categories", UserWarning)
            encoded = transformer.transform(_as_object(frame, self._categorical_columns))
        return np.asarray(encoded, dtype=np.float64)

    def fit_transform(self, frame: pd.DataFrame) -> np.ndarray:
        """:meth:`fit`, then :meth:`transform` the same rows."""
        return self.fit(frame).transform(frame)

    def unseen_categories(self, frame: pd.DataFrame) -> dict[str, list[str]]:
        """Per categorical column of ``frame``, the values the training data did not have."""
        transformer = self._fitted()
        unseen: dict[str, list[str]] = {}
        for branch, columns in (
            ("onehot", self.onehot_columns_),
            ("ordinal", self.ordinal_columns_),
        ):
            for column in _categorical_state(transformer, branch, columns):
                if column.name not in frame.columns:
                    continue  # transform() names the missing columns
                known = set(column.categories)
                values = _as_object(frame[[column.name]], [column.name])[column.name].dropna()
                new = sorted({str(v) for v in values.unique()} - known)
                if new:
                    unseen[column.name] = new
        return unseen

    def _numeric_as_numbers(self, frame: pd.DataFrame) -> pd.DataFrame:
        texts = [c for c in self.numeric_columns_ if not is_numeric_column(frame[c])]
        if not texts:
            return frame
        frame = frame.copy()
        for name in texts:
            column = frame[name]
            numbers = pd.to_numeric(column, errors="coerce")
            bad = column[numbers.isna() & column.notna()]
            if not bad.empty:
                examples = sorted({str(v) for v in bad})[:5]
                raise DatasetError(
                    f"Column {name!r} was numeric in the training data but holds text here "
                    f"({', '.join(repr(v) for v in examples)}); use the training file's format.",
                    code=errors.ENCODING_MISMATCH,
                    column=name,
                    values=examples,
                )
            frame[name] = numbers.astype(np.float64)
        return frame

    # -- persistence -------------------------------------------------------------------------

    def state(self) -> EncoderState:
        """The fitted encoder as data (columns, fill values, categories)."""
        transformer = self._fitted()
        numeric: list[NumericColumn] = []
        if self.numeric_columns_:
            fills = transformer.named_transformers_["numeric"].statistics_
            numeric = [
                NumericColumn(name=n, fill=float(v))
                for n, v in zip(self.numeric_columns_, fills, strict=True)
            ]
        return EncoderState(
            categorical=self.categorical,
            numeric_impute=self.numeric_impute,
            max_onehot_categories=self.max_onehot_categories,
            numeric=numeric,
            onehot=_categorical_state(transformer, "onehot", self.onehot_columns_),
            ordinal=_categorical_state(transformer, "ordinal", self.ordinal_columns_),
            features_out=self.feature_names_out_,
            identifiers=self.identifiers_,
        )

    @classmethod
    def from_state(cls, state: EncoderState) -> TabularEncoder:
        """The encoder :meth:`state` describes, ready to :meth:`transform`.

        The transformer is rebuilt with each column's categories fixed and fitted on a single
        row of fill values, so its imputation statistics are the stored ones.

        Raises:
            DatasetError: ``dataset.malformed`` when the state does not give back its own
                encoded column names.
        """
        encoder = cls(
            categorical=state.categorical,
            numeric_impute=state.numeric_impute,
            max_onehot_categories=state.max_onehot_categories,
        )
        encoder.numeric_columns_ = [c.name for c in state.numeric]
        encoder.onehot_columns_ = [c.name for c in state.onehot]
        encoder.ordinal_columns_ = [c.name for c in state.ordinal]
        encoder.identifiers_ = list(state.identifiers)
        categorical = state.onehot + state.ordinal
        row = {c.name: [c.fill] for c in state.numeric} | {c.name: [c.fill] for c in categorical}
        strategy = {"strategy": "median"}  # the median of one value is that value
        transformer = encoder._build(strategy, {c.name: c.categories for c in categorical})
        transformer.fit(_as_object(pd.DataFrame(row), encoder._categorical_columns))
        encoder._transformer = transformer
        if encoder.feature_names_out_ != state.features_out:
            raise DatasetError(
                "The saved encoder does not reproduce its own encoded columns.",
                code=errors.MALFORMED,
            )
        return encoder

    def save(self, path: str | Path) -> Path:
        """Write :meth:`state` as JSON to ``path`` (a file, or a folder for ``encoder.json``)."""
        target = Path(path)
        if target.is_dir():
            target = target / ENCODER_FILE
        target.write_text(self.state().model_dump_json(indent=1), encoding="utf-8")
        return target

    @classmethod
    def load(cls, path: str | Path) -> TabularEncoder:
        """Read an encoder written by :meth:`save` (a file, or a folder holding ``encoder.json``).

        Raises:
            DatasetError: ``dataset.not_found``, or ``dataset.malformed`` for a file that is
                not a valid encoder document.
        """
        source = Path(path)
        if source.is_dir():
            source = source / ENCODER_FILE
        if not source.is_file():
            raise DatasetError(f"No encoder at {str(source)!r}.", code=errors.DATASET_NOT_FOUND)
        try:
            state = EncoderState.model_validate(json.loads(source.read_text(encoding="utf-8")))
        except (ValueError, ValidationError) as error:  # JSONDecodeError is a ValueError
            raise DatasetError(
                f"{str(source)!r} is not a readable encoder: {error}", code=errors.MALFORMED
            ) from None
        return cls.from_state(state)

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


def _categorical_state(
    transformer: ColumnTransformer, branch: str, columns: list[str]
) -> list[CategoricalColumn]:
    if not columns:
        return []
    pipeline = transformer.named_transformers_[branch]
    fills = pipeline.named_steps["impute"].statistics_
    categories = pipeline.named_steps["encode"].categories_
    return [
        CategoricalColumn(name=n, fill=str(f), categories=[str(v) for v in known])
        for n, f, known in zip(columns, fills, categories, strict=True)
    ]


def _categorical_pipeline(encoder: Any) -> Pipeline:
    from sklearn.impute import SimpleImputer  # noqa: PLC0415
    from sklearn.pipeline import Pipeline  # noqa: PLC0415

    return Pipeline([("impute", SimpleImputer(strategy="most_frequent")), ("encode", encoder)])


def _as_object(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Categorical columns as plain Python strings with NaN for missing (what sklearn expects).

    A column that arrives as numbers (``"1"``, ``"2"`` parsed as integers, or as floats when
    a value is missing) is written with its digits, ``1`` rather than ``1.0``, so that it
    matches the text the training file held.
    """
    if not columns:
        return frame
    result = frame.copy()
    for name in columns:
        column = result[name]
        numbers = is_numeric_column(column)
        values = column.astype(object)
        result[name] = values.where(values.notna(), np.nan).map(
            lambda v, numbers=numbers: _category_text(v, numbers)
        )
    return result


def _category_text(value: Any, numbers: bool) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return value
    if numbers and isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
