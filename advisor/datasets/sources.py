"""Reading what the user hands over — a path, a folder, bytes or a binary file — with limits."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from advisor import errors
from advisor.errors import DatasetError, LimitExceededError, NotFoundError
from advisor.settings import DataLimits

DataSource = str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO
"""Anything :func:`~advisor.datasets.load_dataset` accepts."""


@dataclass(frozen=True)
class RawInput:
    """The raw material of a dataset: the bytes of a file, or a folder on disk."""

    name: str
    data: bytes | None = None
    directory: Path | None = None

    @property
    def sha256(self) -> str | None:
        """SHA-256 of the file's bytes (folders are hashed by their reader)."""
        return None if self.data is None else hashlib.sha256(self.data).hexdigest()

    @property
    def size_bytes(self) -> int | None:
        """Size of the file in bytes, ``None`` for folders."""
        return None if self.data is None else len(self.data)


def read_source(source: DataSource, *, name: str | None, limits: DataLimits) -> RawInput:
    """Read ``source`` into a :class:`RawInput`, refusing empty or oversized input.

    Raises:
        NotFoundError: ``dataset.not_found`` for a path that does not exist.
        DatasetError: ``dataset.empty`` for zero bytes.
        LimitExceededError: ``dataset.too_large`` above ``limits.max_upload_bytes``.
    """
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        return RawInput(name=name or "upload", data=_checked(data, len(data), limits))
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if path.is_dir():
            return RawInput(name=name or path.name, directory=path)
        if not path.is_file():
            raise NotFoundError(
                f"No such file or folder: {str(path)!r}.",
                code=errors.DATASET_NOT_FOUND,
                path=str(path),
            )
        _check_size(path.stat().st_size, limits)
        return RawInput(name=name or path.name, data=_checked(path.read_bytes(), None, limits))
    read = getattr(source, "read", None)
    if read is None:
        raise DatasetError(
            f"Cannot read a dataset from a {type(source).__name__}; pass a path, bytes or a "
            "binary file object.",
            code=errors.BAD_OPTION,
        )
    data = read(limits.max_upload_bytes + 1)
    if not isinstance(data, bytes):
        raise DatasetError(
            "The file object returned text; open it in binary mode ('rb').",
            code=errors.BAD_OPTION,
        )
    return RawInput(
        name=name or Path(str(getattr(source, "name", "upload"))).name,
        data=_checked(data, len(data), limits),
    )


def _checked(data: bytes, size: int | None, limits: DataLimits) -> bytes:
    _check_size(len(data) if size is None else size, limits)
    if not data:
        raise DatasetError("The file is empty.", code=errors.DATASET_EMPTY)
    return data


def _check_size(size: int, limits: DataLimits) -> None:
    if size > limits.max_upload_bytes:
        raise LimitExceededError(
            f"The file has {size} bytes or more; the limit is {limits.max_upload_bytes} "
            "(setting ADVISOR_MAX_UPLOAD_BYTES).",
            code=errors.DATASET_TOO_LARGE,
            size=size,
            limit=limits.max_upload_bytes,
        )
