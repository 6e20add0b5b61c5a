"""Recognising a dataset file's format from its name and its first bytes."""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePath

from advisor import errors
from advisor.datasets.options import FileFormat
from advisor.datasets.sources import RawInput
from advisor.errors import DatasetError

_BY_SUFFIX: dict[str, FileFormat] = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".npz": "npz",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".zip": "image_zip",
}
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF8", b"BM")
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def detect_format(raw: RawInput) -> FileFormat:
    """The format of ``raw``: the bytes decide where they are unambiguous, then the name.

    * a folder → ``image_folder``;
    * ``PAR1`` → ``parquet``; a zip whose entries are all ``.npy`` → ``npz``, other zips →
      ``image_zip``;
    * otherwise the suffix (``.csv``, ``.tsv``, ``.json``, ``.jsonl``…), and for unknown
      suffixes text starting with ``[`` or ``{`` is JSON, anything else delimited text.

    Raises:
        DatasetError: ``dataset.unsupported_format`` for a lone image or a known binary format
            under a text name.
    """
    if raw.directory is not None:
        return "image_folder"
    data = raw.data or b""
    if data.startswith(b"PAR1"):
        return "parquet"
    if data.startswith(_ZIP_MAGIC):
        return "npz" if _is_npz(data) else "image_zip"
    if data.startswith(_IMAGE_MAGIC):
        raise DatasetError(
            f"{raw.name!r} is a single image; a dataset of images is a folder or zip with one "
            "sub-folder of images per class.",
            code=errors.UNSUPPORTED_FORMAT,
        )
    suffix = PurePath(raw.name).suffix.lower()
    by_suffix = _BY_SUFFIX.get(suffix)
    if by_suffix in ("parquet", "npz", "image_zip"):
        raise DatasetError(
            f"{raw.name!r} is named like a {by_suffix} file, but its bytes are not.",
            code=errors.MALFORMED,
        )
    if by_suffix is not None:
        return by_suffix
    head = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith((b"[", b"{")):
        return "jsonl" if _looks_like_json_lines(data) else "json"
    return "csv"


def _is_npz(data: bytes) -> bool:
    try:
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return False
    return bool(names) and all(n.endswith(".npy") for n in names)


def _looks_like_json_lines(data: bytes) -> bool:
    lines = [line.strip() for line in data[:65536].splitlines() if line.strip()]
    return len(lines) > 1 and all(
        line.startswith(b"{") and line.endswith(b"}") for line in lines[:-1]
    )
