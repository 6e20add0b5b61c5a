"""Tables (CSV, TSV, Parquet, JSON, vector NPZ) to validated vector datasets.

Every tabular reader ends in :func:`frame_to_dataset`: the table's label (and groups) column is
found, its feature columns are checked (missing and infinite values, width) and encoded by a
:class:`~advisor.datasets.encoder.TabularEncoder` — a fresh one fitted on the table, or the
training data's, given, for a test or prediction file (see :mod:`advisor.datasets.encoder` for
the encoding). Rows are never dropped: a missing label is an error, and with
``missing="error"`` so is a missing feature value. Infinite values cannot be imputed and are
refused.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from advisor import errors
from advisor.datasets.dataset import (
    ColumnInfo,
    ColumnRole,
    Dataset,
    Provenance,
    TabularSummary,
    check_row_count,
    make_dataset,
)
from advisor.datasets.encoder import TabularEncoder, check_finite, column_kind, is_numeric_column
from advisor.datasets.identifiers import find_identifiers
from advisor.datasets.options import LoadOptions
from advisor.errors import DatasetError, LimitExceededError
from advisor.settings import DataLimits

LABEL_CANDIDATES = ("label", "labels", "target", "class", "y")


@dataclass(frozen=True)
class TableFrame:
    """A table as a reader found it: before its label is chosen and its features encoded.

    Attributes:
        frame: the rows, columns named as in the file.
        provenance: where the table came from and how it was read.
        notes: the reader's warnings (a guessed text encoding, decimal commas read…).
    """

    frame: pd.DataFrame
    provenance: Provenance
    notes: list[str] = field(default_factory=list)


def table_to_dataset(
    table: TableFrame,
    options: LoadOptions,
    limits: DataLimits,
    *,
    encoder: TabularEncoder | None = None,
) -> Dataset:
    """:func:`frame_to_dataset` of a reader's :class:`TableFrame`."""
    return frame_to_dataset(
        table.frame,
        options=options,
        provenance=table.provenance,
        limits=limits,
        notes=table.notes,
        encoder=encoder,
    )


def unseen_category_warnings(encoder: TabularEncoder, features: pd.DataFrame) -> list[str]:
    """One warning per categorical column of ``features`` holding values ``encoder`` never saw."""
    return [
        f"Column {name!r} holds values the training data did not: {quoted(values)} "
        "(encoded as no known category)."
        for name, values in encoder.unseen_categories(features).items()
    ]


def frame_to_dataset(
    frame: pd.DataFrame,
    *,
    options: LoadOptions,
    provenance: Provenance,
    limits: DataLimits,
    notes: Sequence[str] = (),
    encoder: TabularEncoder | None = None,
) -> Dataset:
    """Validate a table, encode its features and return the :class:`Dataset`.

    ``notes`` are warnings of the reader (a guessed encoding…) to keep in the info. With a
    fitted ``encoder`` (the training data's) the features are encoded by it rather than by a
    new one fitted on this table, and values it has not seen are named in the warnings.

    Raises:
        DatasetError: no rows, no label column, missing labels, missing values under
            ``missing="error"``, infinite values, no feature column, and the label checks of
            :func:`~advisor.datasets.dataset.make_dataset`.
            ``dataset.encoding_mismatch`` when the table does not fit the given ``encoder``
            (a training column missing, a numeric one holding text).
        LimitExceededError: too many rows, columns or feature values.
    """
    frame = with_string_columns(frame)
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
    left_out, identifiers = _left_out(features, options, reserved, encoder)
    if encoder is None:  # a training table: its columns are chosen here
        features = features.drop(columns=list(left_out))
    if features.shape[1] == 0:
        unused = f" (left out: {quoted(list(left_out))})" if left_out else ""
        raise DatasetError(
            f"Besides the label {label!r} the file has no feature column{unused}.",
            code=errors.NO_FEATURES,
        )
    columns = _column_infos(frame, label=label, groups=options.groups, left_out=left_out)
    kept = frame[[c.name for c in columns if c.role == "feature"]]
    n_missing = int(kept.isna().to_numpy().sum())
    _check_missing(kept, options, n_missing)
    check_finite(kept)
    warnings = list(notes) + [
        f"Column {name!r} looks like a row identifier ({reason}); left out of the features "
        "(identifiers='keep', --identifiers keep, keeps it)."
        for name, reason in identifiers.items()
    ]
    trained_elsewhere = encoder is not None
    if encoder is None:
        encoder = TabularEncoder(
            categorical=options.categorical,
            numeric_impute=options.numeric_impute,
            max_onehot_categories=options.max_onehot_categories,
        ).fit(features)
        encoder.identifiers_ = list(identifiers)  # new rows are named by them
        warnings += encoder.warnings_
        if options.purpose == "train":
            warnings += uninformative_warnings(features, frame[label])
    else:
        warnings += unseen_category_warnings(encoder, features)
    _check_width(len(features), len(encoder.feature_names_out_), limits)
    if n_missing:
        warnings.append(
            filled_with_training_values(n_missing)
            if trained_elsewhere
            else f"{n_missing} missing feature values imputed (numeric: "
            f"{options.numeric_impute}, categorical: most frequent)."
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
        check_labels=options.purpose == "train",
    )


def refuse_dropped_columns(options: LoadOptions, what: str) -> None:
    """Raise when ``options.drop`` names columns but the file holds ``what`` (images).

    Raises:
        DatasetError: ``dataset.bad_option``.
    """
    if options.drop:
        raise DatasetError(
            f"drop names columns of a table ({quoted(list(options.drop))}), but this file "
            f"holds {what}.",
            code=errors.BAD_OPTION,
        )


DUPLICATE_SHARE = 0.1
"""From this share of the rows on, exact duplicate rows are named in a warning."""


def uninformative_warnings(features: pd.DataFrame, labels: pd.Series) -> list[str]:
    """Warnings for training features that cannot carry what cross-validation will credit.

    * every feature column constant (one value, gaps aside): nothing tells the classes apart,
      whatever the advisor predicts or a model scores;
    * rows that are exact duplicates of another row (features and label), from
      :data:`DUPLICATE_SHARE` of the rows on: a repeated row lands in the training and the
      evaluation part of a fold alike, and cross-validation rewards remembering it.
    """
    warnings = []
    distinct = features.nunique(dropna=True)
    constant = [str(name) for name, count in distinct.items() if count == 1]
    if constant and len(constant) == int((distinct > 0).sum()):
        warnings.append(
            f"Every feature column is constant ({quoted(constant)}): the features cannot tell "
            "the classes apart, so no model can do better than guessing, whatever is predicted "
            "or scored."
        )
    n_rows = len(features)
    if n_rows:
        rows = features.set_axis(list(range(features.shape[1])), axis=1)  # no name clash
        rows[-1] = labels.to_numpy()
        n_duplicates = int(rows.duplicated().sum())
        if n_duplicates and n_duplicates >= DUPLICATE_SHARE * n_rows:
            warnings.append(
                f"{n_duplicates} rows are exact duplicates of another row "
                f"({100 * n_duplicates / n_rows:.0f} %): copies land in both the training and "
                "the evaluation part of a cross-validation fold, which inflates its accuracy; "
                "drop them unless they are real repeated observations."
            )
    return warnings


def filled_with_training_values(n_missing: int) -> str:
    """The warning for gaps in a test or prediction table, filled by the training encoder."""
    return (
        f"{n_missing} missing feature values filled with the training data's values "
        "(its median or mean, its most frequent category)."
    )


def with_string_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its column names as unique strings and nullable numbers as ``float64``.

    Raises:
        DatasetError: ``dataset.no_rows`` (no column), ``dataset.malformed`` (a repeated name).
    """
    if frame.shape[1] == 0:
        raise DatasetError("The file has no columns.", code=errors.NO_ROWS)
    names = [str(c) for c in frame.columns]
    duplicated = sorted(n for n, count in Counter(names).items() if count > 1)
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
        if is_numeric_column(column) and isinstance(column.dtype, pd.api.extensions.ExtensionDtype):
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


def _left_out(
    features: pd.DataFrame,
    options: LoadOptions,
    reserved: list[str],
    encoder: TabularEncoder | None,
) -> tuple[dict[str, ColumnRole], dict[str, str]]:
    """The feature columns not used, each with its role, and the row identifiers' reasons.

    For a training table (no ``encoder``): the columns ``options.drop`` names (``dropped``)
    and, unless ``options.identifiers`` is ``"keep"``, those that look like row identifiers
    (``identifier``; :mod:`advisor.datasets.identifiers`). For a test or prediction table:
    the columns the training table's encoder does not read (``dropped``).

    Raises:
        DatasetError: ``dataset.bad_option`` for a ``drop`` name that is not a feature column.
    """
    if encoder is not None:
        return {c: "dropped" for c in features.columns if c not in encoder.columns_}, {}
    left_out: dict[str, ColumnRole] = dict.fromkeys(
        _dropped_by_option(features, options, reserved), "dropped"
    )
    identifiers: dict[str, str] = {}
    if options.identifiers == "drop":
        identifiers = find_identifiers(features.drop(columns=list(left_out)))
        left_out |= dict.fromkeys(identifiers, "identifier")
    return left_out, identifiers


def _dropped_by_option(
    features: pd.DataFrame, options: LoadOptions, reserved: list[str]
) -> list[str]:
    """The columns ``options.drop`` names, checked against the table.

    Raises:
        DatasetError: ``dataset.bad_option`` for a name that is not a column, or that is the
            label or groups column.
    """
    needed = [name for name in options.drop if name in reserved]
    if needed:
        raise DatasetError(
            f"Cannot drop {quoted(needed)}: the label and groups columns are not features.",
            code=errors.BAD_OPTION,
            columns=needed,
        )
    unknown = [name for name in options.drop if name not in features.columns]
    if unknown:
        raise DatasetError(
            f"Cannot drop {quoted(unknown)}: not a column of the file; columns: "
            f"{_column_list(features)}.",
            code=errors.BAD_OPTION,
            columns=unknown,
        )
    return list(dict.fromkeys(options.drop))


def _column_infos(
    frame: pd.DataFrame, *, label: str, groups: str | None, left_out: dict[str, ColumnRole]
) -> list[ColumnInfo]:
    infos = []
    for name in frame.columns:
        column = frame[name]
        kind = column_kind(column)
        role: ColumnRole = (
            "label"
            if name == label
            else "group"
            if name == groups
            else left_out.get(name, "feature")
        )
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
    return quoted([str(c) for c in frame.columns], limit=20)


def quoted(values: Sequence[object], limit: int = 5) -> str:
    """The first ``limit`` values quoted and comma-separated, `` …`` if there are more."""
    return ", ".join(repr(v) for v in values[:limit]) + (" …" if len(values) > limit else "")
