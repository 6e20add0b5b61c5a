"""JSON records — ``[{"x": 1, "label": "a"}, ...]`` or ``{"records": [...]}`` — and JSON Lines."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from advisor import errors
from advisor.datasets.dataset import Provenance
from advisor.datasets.options import LoadOptions
from advisor.datasets.sources import RawInput
from advisor.datasets.tabular import TableFrame
from advisor.datasets.text import DecodedText, decode_text
from advisor.errors import DatasetError
from advisor.settings import DataLimits

_RECORD_KEYS = ("records", "data", "rows")


def read_json(raw: RawInput, options: LoadOptions, limits: DataLimits) -> TableFrame:
    """Read a JSON array of flat objects, or an object holding one under a ``records`` key.

    The keys ``records``, ``data`` and ``rows`` are recognised.

    Raises:
        DatasetError: ``dataset.malformed`` (invalid JSON, not a list of objects),
            ``dataset.bad_dtype`` (nested values), ``dataset.no_rows``.
    """
    decoded = decode_text(raw.data or b"", options.encoding)
    try:
        document = json.loads(decoded.text)
    except json.JSONDecodeError as err:
        raise DatasetError(f"Invalid JSON: {err}.", code=errors.MALFORMED) from None
    if isinstance(document, dict):
        document = next((document[k] for k in _RECORD_KEYS if k in document), document)
    return _records_to_table(document, _provenance(raw, "json", decoded))


def read_json_lines(raw: RawInput, options: LoadOptions, limits: DataLimits) -> TableFrame:
    """Read JSON Lines: one flat JSON object per line, blank lines ignored."""
    decoded = decode_text(raw.data or b"", options.encoding)
    records = []
    for number, line in enumerate(decoded.text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as err:
            raise DatasetError(
                f"Line {number} is not valid JSON: {err}.", code=errors.MALFORMED, line=number
            ) from None
    return _records_to_table(records, _provenance(raw, "jsonl", decoded))


def _provenance(raw: RawInput, fmt: str, decoded: DecodedText) -> tuple[Provenance, list[str]]:
    provenance = Provenance(
        name=raw.name,
        format=fmt,
        sha256=raw.sha256,
        size_bytes=raw.size_bytes,
        text_encoding=decoded.encoding,
    )
    return provenance, decoded.warnings()


def _records_to_table(records: Any, source: tuple[Provenance, list[str]]) -> TableFrame:
    provenance, notes = source
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise DatasetError(
            "Expected a list of objects, one per example (records).", code=errors.MALFORMED
        )
    if not records:
        raise DatasetError("The JSON holds no records.", code=errors.NO_ROWS)
    nested = sorted({k for r in records for k, v in r.items() if isinstance(v, dict | list)})
    if nested:
        raise DatasetError(
            f"Fields {nested} hold nested objects or lists; records must be flat.",
            code=errors.BAD_DTYPE,
            columns=nested,
        )
    frame = pd.DataFrame.from_records(records)
    return TableFrame(frame, provenance, notes)
