"""CSV and TSV files: encoding and delimiter sniffed, a header row required.

Beyond what pandas' parser does, the reader

* refuses a first row that looks like data (every cell a number) or repeats a column name;
* refuses rows with more fields than the header, instead of pandas' silent shift of the first
  column into the index;
* strips blanks around text values (``"cat "`` and ``"cat"`` are one class);
* reads decimal commas (``1,5``) in a column whose every value is such a number, when the
  delimiter is not a comma (the European convention), with a warning.
"""

from __future__ import annotations

import io
import re
import warnings
from collections import Counter

import pandas as pd

from advisor import errors
from advisor.datasets.dataset import Provenance
from advisor.datasets.options import LoadOptions
from advisor.datasets.sources import RawInput
from advisor.datasets.tabular import TableFrame
from advisor.datasets.text import csv_rows, decode_text, sniff_delimiter, text_lines
from advisor.errors import DatasetError
from advisor.settings import DataLimits

_DECIMAL_COMMA = re.compile(r"^[+-]?\d+(,\d+)?([eE][+-]?\d+)?$")


def read_delimited(raw: RawInput, options: LoadOptions, limits: DataLimits) -> TableFrame:
    """Read delimited text (``,`` ``;`` ``|`` or TAB) whose first row names the columns.

    Raises:
        DatasetError: ``dataset.undecodable_text``, ``dataset.no_header``,
            ``dataset.no_rows``, ``dataset.malformed`` (ragged rows, unbalanced quotes,
            repeated column names).
    """
    decoded = decode_text(raw.data or b"", options.encoding)
    text = decoded.text
    if not text.strip():
        raise DatasetError("The file holds only whitespace.", code=errors.DATASET_EMPTY)
    named_tsv = raw.name.lower().endswith((".tsv", ".tab")) or options.format == "tsv"
    delimiter = sniff_delimiter(text, default="\t" if named_tsv else ",")
    fmt = "tsv" if delimiter == "\t" else "csv"
    header = next(csv_rows(text_lines(text), delimiter), [])
    _check_header(header)
    frame = _parse(text, delimiter, fmt)
    if frame.empty:
        raise DatasetError(
            "The file has a header but no data rows.", code=errors.NO_ROWS, columns=header
        )
    notes = decoded.warnings() + _short_row_notes(text, delimiter, len(header))
    notes += _tidy_text_columns(frame, decimal_commas=delimiter != ",")
    provenance = Provenance(
        name=raw.name,
        format=fmt,
        sha256=raw.sha256,
        size_bytes=raw.size_bytes,
        text_encoding=decoded.encoding,
        delimiter=delimiter,
    )
    return TableFrame(frame, provenance, notes)


def _parse(text: str, delimiter: str, fmt: str) -> pd.DataFrame:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            return pd.read_csv(
                io.StringIO(text),
                sep=delimiter,
                index_col=False,
                skipinitialspace=True,
                skip_blank_lines=True,
                on_bad_lines="error",
            )
    except (pd.errors.ParserError, pd.errors.ParserWarning, ValueError, UnicodeError) as err:
        raise DatasetError(
            f"The file is not well-formed {fmt.upper()}: {err} (rows must have as many fields "
            "as the header).",
            code=errors.MALFORMED,
        ) from None


def _short_row_notes(text: str, delimiter: str, width: int) -> list[str]:
    """A warning naming the data rows with fewer fields than the header (numbered from 1).

    pandas pads such a row with missing values; it is read so (a missing label is refused
    later), and the user is told, since a short row is often a cut or misaligned line.
    """
    short, number = [], 0
    rows = csv_rows(text_lines(text), delimiter)
    next(rows, None)  # the header
    for row in rows:
        if not row:  # a blank line: pandas skips it, and it is not counted
            continue
        number += 1
        if len(row) < width:
            short.append(number)
    if not short:
        return []
    listed = ", ".join(str(n) for n in short[:10]) + (
        f" and {len(short) - 10} more" if len(short) > 10 else ""
    )
    return [
        f"{len(short)} rows have fewer fields than the header's {width} (rows {listed}, "
        "numbered from 1); their last fields were read as missing."
    ]


def _check_header(header: list[str]) -> None:
    cells = [cell.strip() for cell in header]
    if not any(cells):
        raise DatasetError(
            "The first line is empty; a header row is required.", code=errors.NO_HEADER
        )
    if all(_is_number(cell) for cell in cells if cell):
        raise DatasetError(
            f"The first row ({', '.join(cells[:8])}…) looks like data, not column names; add a "
            "header row naming the columns.",
            code=errors.NO_HEADER,
        )
    repeated = sorted(c for c, n in Counter(cells).items() if c and n > 1)
    if repeated:
        raise DatasetError(
            f"Column names must be unique; repeated: {repeated}.",
            code=errors.MALFORMED,
            columns=repeated,
        )


def _tidy_text_columns(frame: pd.DataFrame, *, decimal_commas: bool) -> list[str]:
    """Strip blanks around text values; convert decimal-comma columns (in place)."""
    notes = []
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            continue
        stripped = column.astype(object).map(lambda v: v.strip() if isinstance(v, str) else v)
        present = stripped.dropna()
        if (
            decimal_commas
            and not present.empty
            and present.map(lambda v: isinstance(v, str) and bool(_DECIMAL_COMMA.match(v))).all()
            and present.str.contains(",").any()
        ):
            frame[name] = pd.to_numeric(stripped.str.replace(",", ".", regex=False))
            notes.append(f"Column {name!r} read with decimal commas.")
        else:
            frame[name] = stripped.replace("", None)
            notes += _stray_text_note(name, frame[name].dropna())
    return notes


_STRAY_AT_MOST = 10  # one value in ten may be stray text for a column to count as numbers


def _stray_text_note(name: str, present: pd.Series) -> list[str]:
    """A warning when a text column is numbers but for a few values (``banana``, ``?``, ``n/a``).

    Such a column is read as categories, each number one of them, which is seldom what was
    meant; the user is told which values stand in the way. Nothing is changed: a column of
    codes (``1``, ``2``, ``3b``) may well be categorical.
    """
    if present.empty:
        return []
    numbers = pd.to_numeric(present, errors="coerce")
    stray = present[numbers.isna()]
    if stray.empty or _STRAY_AT_MOST * len(stray) > len(present):
        return []
    examples = ", ".join(repr(v) for v in list(dict.fromkeys(stray.tolist()))[:3])
    values = "1 value" if len(stray) == 1 else f"{len(stray)} values"
    return [
        f"Column {name!r} holds numbers but for {values} ({examples}), so it is read "
        "as categories; if it is numeric, leave those cells empty (filled like any gap) or fix "
        "them."
    ]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
