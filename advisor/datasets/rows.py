"""Rows to classify: a file or folder of new examples, read the way the training data was.

:func:`load_rows` is :func:`~advisor.datasets.load_dataset` for data that need not be labeled —
what ``advisor predict`` and the service's predict route read. Given the training table's
encoder, a table's rows are encoded its way: its columns by name (any order; extra columns, a
label among them, ignored), its fill values for gaps, its categories (an unseen one encoded
as none, with a warning). Rows that carry labels — a ``label`` column named, images in class
sub-folders, an NPZ labels array — keep them, so that the predictions can be scored.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from advisor import errors
from advisor.datasets.dataset import Dataset, check_row_count
from advisor.datasets.encoder import TabularEncoder, is_numeric_column, refuse_encoder
from advisor.datasets.formats import detect_format
from advisor.datasets.loader import load_dataset, parse_options
from advisor.datasets.readers import TABLE_READERS
from advisor.datasets.readers.image_archive import read_images_to_classify
from advisor.datasets.readers.npz import read_npz_to_classify
from advisor.datasets.sources import DataSource, read_source
from advisor.datasets.tabular import (
    filled_with_training_values,
    table_to_dataset,
    unseen_category_warnings,
    with_string_columns,
)
from advisor.errors import DatasetError
from advisor.settings import DataLimits, get_settings


@dataclass(frozen=True)
class Rows:
    """Examples to classify.

    Attributes:
        X: the rows as the model takes them: encoded vectors ``(n, d)`` or images.
        ids: one name per row: for images, the image's path; for a table, its value in the
            training table's row-identifier column when the table has that column
            (:attr:`TabularEncoder.identifiers_`, a customer number…), else its number in
            the file (from 1).
        y: the rows' labels when the input carries them (the predictions can be scored).
        warnings: what reading noticed: unseen categories, ignored columns, filled gaps.
        named_by: the column whose values are the ``ids``, if any.
    """

    X: np.ndarray
    ids: list[str]
    y: np.ndarray | None = None
    warnings: list[str] = field(default_factory=list)
    named_by: str | None = None


def load_rows(
    source: DataSource,
    *,
    name: str | None = None,
    label: str | int | None = None,
    encoder: TabularEncoder | None = None,
    limits: DataLimits | None = None,
    **option_values: Any,
) -> Rows:
    """Read examples to classify, labeled or not.

    * ``label`` named: the labeled dataset of :func:`~advisor.datasets.load_dataset` (read
      with ``encoder``).
    * Images (a folder or zip), each named by its path: loose images, unlabeled (one folder
      holding only images is looked through); images in class sub-folders, labeled.
    * NPZ: the features array; with a labels array (``y``, ``labels``…), labeled.
    * Tables (CSV/TSV, Parquet, JSON, JSON Lines): with ``encoder`` and every training column
      present, encoded the training way; otherwise every column must hold numbers, taken as
      already encoded (one value per encoded column).

    Args:
        source: a path (file or folder), bytes, or a binary file object.
        name: the file name for bytes and file objects (helps recognise the format).
        label: the label column (name or position) or NPZ array, if the rows carry labels.
        encoder: the training table's fitted encoder (``train.encoder``, or
            ``TabularEncoder.load(model_folder)``); ``None`` for images and arrays.
        limits: size limits; the configured ones if omitted.
        **option_values: other fields of :class:`~advisor.datasets.LoadOptions`
            (``image_size`` and ``color`` must be the training data's).

    Raises:
        advisor.errors.AdvisorError: the codes of ``load_dataset``; ``predict.bad_instances``
            for a table that is neither the training columns nor numbers.
    """
    option_values["purpose"] = "score"  # labels only score: one class, one example will do
    if label is not None:
        option_values["label"] = label
    options = parse_options(option_values)
    limits = limits or get_settings().data_limits()
    raw = read_source(source, name=name, limits=limits)
    fmt = options.format or detect_format(raw)
    if label is not None and fmt in TABLE_READERS and encoder is not None:
        table = TABLE_READERS[fmt](raw, options, limits)
        labeled = _labeled(table_to_dataset(table, options, limits, encoder=encoder))
        return _named(labeled, with_string_columns(table.frame), encoder)
    if label is not None:
        again = raw.directory if raw.directory is not None else raw.data or b""
        return _labeled(
            load_dataset(again, name=raw.name, options=options, limits=limits, encoder=encoder)
        )
    if fmt in ("image_zip", "image_folder"):
        refuse_encoder(encoder, "images")
        images = read_images_to_classify(raw, options, limits)
        return Rows(images.X, images.names, images.y, images.warnings)
    if fmt == "npz":
        arrays = read_npz_to_classify(raw, options, limits, encoder=encoder)
        return _npz_rows(arrays, encoder, limits)
    table = TABLE_READERS[fmt](raw, options, limits)
    return table_rows(table.frame, encoder, limits=limits, notes=table.notes)


def table_rows(
    frame: pd.DataFrame,
    encoder: TabularEncoder | None,
    *,
    limits: DataLimits | None = None,
    notes: list[str] | None = None,
) -> Rows:
    """A table's rows to classify, encoded by ``encoder`` when it names the training columns.

    Raises:
        DatasetError: ``predict.bad_instances`` when the table is neither the training
            columns nor numbers of the encoded width; ``dataset.encoding_mismatch`` when a
            numeric training column holds text.
    """
    frame = with_string_columns(frame)
    check_row_count(len(frame), limits or get_settings().data_limits())
    warnings = list(notes or [])
    ids = _numbered(len(frame))
    if encoder is not None and set(encoder.columns_) <= set(frame.columns):
        features = frame[encoder.columns_]
        X = encoder.transform(features)
        warnings += unseen_category_warnings(encoder, features)
        if n_missing := int(features.isna().to_numpy().sum()):
            warnings.append(filled_with_training_values(n_missing))
        rows = _named(Rows(X, ids, warnings=warnings), frame, encoder)
        ignored = [c for c in frame.columns if c not in encoder.columns_ and c != rows.named_by]
        if ignored:
            note = (
                f"Columns {ignored[:10]} are not the model's inputs; ignored (name a label "
                "column to score the predictions against it)."
            )
            rows = replace(rows, warnings=[*rows.warnings, note])
        return rows
    texts = [c for c in frame.columns if not is_numeric_column(frame[c])]
    width = None if encoder is None else len(encoder.feature_names_out_)
    if texts or (width is not None and frame.shape[1] != width):
        raise DatasetError(_not_the_input(frame, encoder, texts), code=errors.BAD_INSTANCES)
    return Rows(frame.to_numpy(dtype=np.float64), ids, None, warnings)


def _not_the_input(frame: pd.DataFrame, encoder: TabularEncoder | None, texts: list[str]) -> str:
    if encoder is None:
        return (
            f"The model takes numbers, one per feature; columns {texts[:10]} hold text "
            "(name the label column if the rows carry one)."
        )
    absent = [c for c in encoder.columns_ if c not in frame.columns]
    return (
        f"The rows lack the training table's columns {absent[:10]}"
        f"{' …' if len(absent) > 10 else ''} and are not {len(encoder.feature_names_out_)} "
        "already-encoded numbers either."
    )


def _npz_rows(
    arrays: Dataset | tuple[np.ndarray, list[str] | None],
    encoder: TabularEncoder | None,
    limits: DataLimits,
) -> Rows:
    if isinstance(arrays, Dataset):
        return _labeled(arrays)
    X, names = arrays
    if X.ndim != 2 or encoder is None:
        check_row_count(len(X), limits)
        return Rows(X, _numbered(len(X)))
    columns = names or [f"x{i}" for i in range(X.shape[1])]
    return table_rows(pd.DataFrame(X, columns=columns), encoder, limits=limits)


def _labeled(dataset: Dataset) -> Rows:
    return Rows(dataset.X, _numbered(len(dataset.X)), dataset.y, list(dataset.info.warnings))


def _named(rows: Rows, frame: pd.DataFrame, encoder: TabularEncoder) -> Rows:
    """``rows`` named by the training table's first identifier column that ``frame`` has.

    The column must name every row, and each differently; else the rows keep their numbers
    and a warning says why.
    """
    present = [name for name in encoder.identifiers_ if name in frame.columns]
    for name in present:
        column = frame[name]
        if column.notna().all() and column.nunique() == len(column):
            return replace(rows, ids=[_row_name(v) for v in column], named_by=name)
    if not present:
        return rows
    note = (
        f"Column {present[0]!r}, the training data's row identifier, has gaps or repeated "
        "values here; rows are numbered instead."
    )
    return replace(rows, warnings=[*rows.warnings, note])


def _row_name(value: Any) -> str:
    """A row's identifier as text: ``17``, not ``17.0``, when a gap made the column floats."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _numbered(n: int) -> list[str]:
    return [str(i) for i in range(1, n + 1)]
