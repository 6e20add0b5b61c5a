"""One reader per file format.

Each turns a :class:`~advisor.datasets.sources.RawInput` into a :class:`~advisor.datasets.Dataset`
through the shared validation of :func:`~advisor.datasets.dataset.make_dataset`.
"""

from __future__ import annotations

from typing import Protocol

from advisor.datasets.dataset import Dataset
from advisor.datasets.encoder import TabularEncoder
from advisor.datasets.options import FileFormat, LoadOptions
from advisor.datasets.readers.delimited import read_delimited
from advisor.datasets.readers.image_archive import read_image_folder, read_image_zip
from advisor.datasets.readers.json_records import read_json, read_json_lines
from advisor.datasets.readers.npz import read_npz
from advisor.datasets.readers.parquet import read_parquet
from advisor.datasets.sources import RawInput
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


READERS: dict[FileFormat, Reader] = {
    "csv": read_delimited,
    "tsv": read_delimited,
    "parquet": read_parquet,
    "npz": read_npz,
    "json": read_json,
    "jsonl": read_json_lines,
    "image_zip": read_image_zip,
    "image_folder": read_image_folder,
}

__all__ = ["READERS", "Reader"]
