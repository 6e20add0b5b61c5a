"""One reader per file format.

A table's reader (CSV/TSV, Parquet, JSON, JSON Lines) returns the table as read, a
:class:`~advisor.datasets.tabular.TableFrame` (:data:`TABLE_READERS`): a labeled dataset is made
of it by :func:`~advisor.datasets.tabular.table_to_dataset`, and rows to classify by
:func:`~advisor.datasets.rows.load_rows`. Every format's entry in :data:`READERS` turns a
:class:`~advisor.datasets.sources.RawInput` into a :class:`~advisor.datasets.Dataset` through the
shared validation of :func:`~advisor.datasets.dataset.make_dataset`.
"""

from __future__ import annotations

from typing import Protocol

from advisor.datasets.dataset import Dataset
from advisor.datasets.encoder import TabularEncoder
from advisor.datasets.options import FileFormat, LoadOptions
from advisor.datasets.readers.delimited import read_delimited
from advisor.datasets.readers.image_archive import read_images
from advisor.datasets.readers.json_records import read_json, read_json_lines
from advisor.datasets.readers.npz import read_npz
from advisor.datasets.readers.parquet import read_parquet
from advisor.datasets.sources import RawInput
from advisor.datasets.tabular import TableFrame, table_to_dataset
from advisor.settings import DataLimits


class Reader(Protocol):
    """Reads one format; a table's reader encodes with ``encoder`` when one is given."""

    def __call__(
        self,
        raw: RawInput,
        options: LoadOptions,
        limits: DataLimits,
        *,
        encoder: TabularEncoder | None = None,
    ) -> Dataset:
        """Read ``raw`` into a validated dataset."""


class TableReader(Protocol):
    """Reads one table format into its rows, unvalidated and unencoded."""

    def __call__(self, raw: RawInput, options: LoadOptions, limits: DataLimits) -> TableFrame:
        """Read ``raw`` into a :class:`TableFrame`."""


TABLE_READERS: dict[FileFormat, TableReader] = {
    "csv": read_delimited,
    "tsv": read_delimited,
    "parquet": read_parquet,
    "json": read_json,
    "jsonl": read_json_lines,
}


def _labeled(read_table: TableReader) -> Reader:
    def read(
        raw: RawInput,
        options: LoadOptions,
        limits: DataLimits,
        *,
        encoder: TabularEncoder | None = None,
    ) -> Dataset:
        return table_to_dataset(read_table(raw, options, limits), options, limits, encoder=encoder)

    return read


READERS: dict[FileFormat, Reader] = {
    **{fmt: _labeled(read_table) for fmt, read_table in TABLE_READERS.items()},
    "npz": read_npz,
    "image_zip": read_images,
    "image_folder": read_images,
}

__all__ = ["READERS", "TABLE_READERS", "Reader", "TableReader"]
