r"""Reading zip archives from untrusted users without extracting anything to disk.

Checks, before a single byte is decompressed:

* entry names: no absolute path (``/x``, ``\\x``, ``C:x``), no ``..`` component, no NUL, no
  symbolic link (Unix mode bits in ``external_attr``), no encrypted entry;
* the number of entries and the sum of the declared uncompressed sizes;
* each entry's compression ratio (declared size / compressed size) above 1 MiB of content.

and while reading: an entry is never decompressed past its declared size, so a header that
lies about the size is caught too (the classic zip-bomb defences, as in CPython's
``zipfile`` documentation section "Decompression pitfalls").
"""

from __future__ import annotations

import io
import stat
import zipfile
from collections.abc import Iterator
from pathlib import PurePosixPath

from advisor import errors
from advisor.errors import DatasetError, LimitExceededError
from advisor.settings import DataLimits

_RATIO_CHECK_MIN_BYTES = 1024 * 1024
_CHUNK = 1024 * 1024


def open_zip(data: bytes, limits: DataLimits) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]:
    """Open an archive and return it with its checked file entries (directories left out).

    Raises:
        DatasetError: ``dataset.malformed`` (not a zip), ``dataset.unsafe_path``.
        LimitExceededError: ``dataset.zip_too_large``, ``dataset.zip_bomb``.
    """
    archive = _open_archive(data)
    entries = archive.infolist()
    if len(entries) > limits.max_zip_entries:
        raise LimitExceededError(
            f"The archive has {len(entries)} entries; the limit is {limits.max_zip_entries}.",
            code=errors.ZIP_TOO_LARGE,
            entries=len(entries),
            limit=limits.max_zip_entries,
        )
    for entry in entries:
        check_entry_name(entry)
    files = [e for e in entries if not e.is_dir()]
    total = sum(e.file_size for e in files)
    if total > limits.max_zip_total_bytes:
        raise LimitExceededError(
            f"The archive unpacks to {total} bytes; the limit is {limits.max_zip_total_bytes}.",
            code=errors.ZIP_TOO_LARGE,
            size=total,
            limit=limits.max_zip_total_bytes,
        )
    for entry in files:
        _check_ratio(entry, limits)
    return archive, files


def _open_archive(data: bytes) -> zipfile.ZipFile:
    """The archive, its entry names read as UTF-8 where they are not flagged as such.

    The zip format flags UTF-8 names (bit 11); names without the flag are, by the
    specification, code page 437 — but Info-ZIP's ``zip`` and many other tools write UTF-8
    without setting it, so a class folder ``α`` would become ``╬▒`` and its label with it.
    Unflagged names that decode as UTF-8 are taken as UTF-8 (pure ASCII reads the same
    either way); an archive with one that does not is read as code page 437 throughout.
    """
    try:
        try:
            return zipfile.ZipFile(io.BytesIO(data), metadata_encoding="utf-8")
        except UnicodeDecodeError:  # a legacy archive: code page 437 names
            return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as err:
        raise DatasetError(f"Not a readable zip archive: {err}.", code=errors.MALFORMED) from None


def check_entry_name(entry: zipfile.ZipInfo) -> None:
    """Refuse absolute paths, ``..`` components, NUL bytes, links and encrypted entries."""
    name = entry.filename
    parts = name.replace("\\", "/").split("/")
    absolute = name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":")
    if absolute or ".." in parts or "\x00" in name:
        raise DatasetError(
            f"The archive entry {name!r} points outside the archive; nothing was extracted.",
            code=errors.UNSAFE_PATH,
            entry=name,
        )
    if stat.S_ISLNK(entry.external_attr >> 16):
        raise DatasetError(
            f"The archive entry {name!r} is a symbolic link; links are refused.",
            code=errors.UNSAFE_PATH,
            entry=name,
        )
    if entry.flag_bits & 0x1:
        raise DatasetError(
            f"The archive entry {name!r} is encrypted; send an unencrypted archive.",
            code=errors.MALFORMED,
            entry=name,
        )


def _check_ratio(entry: zipfile.ZipInfo, limits: DataLimits) -> None:
    if entry.file_size < _RATIO_CHECK_MIN_BYTES:
        return
    ratio = entry.file_size / max(entry.compress_size, 1)
    if ratio > limits.max_zip_ratio:
        raise LimitExceededError(
            f"The archive entry {entry.filename!r} expands {ratio:.0f}-fold; the limit is "
            f"{limits.max_zip_ratio:g} (a zip bomb?).",
            code=errors.ZIP_BOMB,
            entry=entry.filename,
            ratio=ratio,
            limit=limits.max_zip_ratio,
        )


def read_entry(archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> bytes:
    """The bytes of one entry, never decompressing more than its declared size.

    Raises:
        LimitExceededError: ``dataset.zip_bomb`` when the entry holds more than it declares.
        DatasetError: ``dataset.malformed`` when the entry is corrupt.
    """
    buffer = io.BytesIO()
    overflow = False
    try:
        with archive.open(entry) as handle:
            while chunk := handle.read(_CHUNK):
                buffer.write(chunk)
                if buffer.tell() > entry.file_size:
                    overflow = True
                    break
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError) as err:
        raise DatasetError(
            f"The archive entry {entry.filename!r} is corrupt: {err}.",
            code=errors.MALFORMED,
            entry=entry.filename,
        ) from None
    if overflow:
        raise LimitExceededError(
            f"The archive entry {entry.filename!r} holds more than the {entry.file_size} bytes "
            "it declares.",
            code=errors.ZIP_BOMB,
            entry=entry.filename,
        )
    return buffer.getvalue()


def iter_entries(
    archive: zipfile.ZipFile, entries: list[zipfile.ZipInfo]
) -> Iterator[tuple[PurePosixPath, bytes]]:
    """``(path, bytes)`` of each checked entry, in archive order."""
    for entry in entries:
        yield PurePosixPath(entry.filename.replace("\\", "/")), read_entry(archive, entry)
