"""Apache Parquet files (read with pyarrow; nested columns are refused)."""

from __future__ import annotations

import io

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from advisor import errors
from advisor.datasets.dataset import Provenance
from advisor.datasets.options import LoadOptions
from advisor.datasets.sources import RawInput
from advisor.datasets.tabular import TableFrame
from advisor.errors import DatasetError
from advisor.settings import DataLimits


def read_parquet(raw: RawInput, options: LoadOptions, limits: DataLimits) -> TableFrame:
    """Read a Parquet file whose columns are scalars (numbers, strings, booleans, dates).

    Raises:
        DatasetError: ``dataset.malformed`` (corrupt file), ``dataset.bad_dtype`` (nested
            list/struct/map columns), ``dataset.no_rows``.
    """
    try:
        table = pq.read_table(io.BytesIO(raw.data or b""))
    except (pa.ArrowException, OSError, ValueError) as err:
        raise DatasetError(f"Not a readable Parquet file: {err}", code=errors.MALFORMED) from None
    nested = [f.name for f in table.schema if pa.types.is_nested(f.type)]
    if nested:
        raise DatasetError(
            f"Columns {nested} hold lists, structs or maps; only scalar columns are supported.",
            code=errors.BAD_DTYPE,
            columns=nested,
        )
    if table.num_rows == 0:
        raise DatasetError("The Parquet file has no rows.", code=errors.NO_ROWS)
    frame: pd.DataFrame = table.to_pandas()
    provenance = Provenance(
        name=raw.name, format="parquet", sha256=raw.sha256, size_bytes=raw.size_bytes
    )
    return TableFrame(frame, provenance)
