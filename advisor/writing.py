"""Writing the files the advisor makes: whole or not at all, and a clear error when it cannot.

Every file a user names (a report, predictions, an exported dataset) and every file the advisor
keeps under ``ADVISOR_HOME`` (a run's ``run.json``, the local knowledge base) is written by
:func:`write_atomically`: the bytes go to a temporary file in the same folder, are flushed to
disk, and the temporary file is renamed over the target (``Path.replace``, atomic on POSIX). A
reader, a crash or a full disk never leaves half a file: the target holds the old content or
the new. A path that cannot be written — its folder is missing and cannot be made, a file sits
where a folder should be, no permission, a read-only or pseudo file system — raises
:class:`~advisor.errors.ConfigurationError` ``io.unwritable`` naming the path and the operating
system's reason (:func:`unwritable`, and :func:`writing` for code that writes by other means).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from advisor.errors import UNWRITABLE, ConfigurationError


def unwritable(path: Path, error: OSError, what: str = "") -> ConfigurationError:
    """The ``io.unwritable`` error for ``path``, with the reason ``error`` gives.

    ``what`` names the file in the message (``"the report"``); the path the operating system
    complained about is named too when it is another (a parent folder, a temporary file).
    """
    reason = error.strerror or str(error) or type(error).__name__
    culprit = Path(error.filename) if isinstance(error.filename, str | Path) else None
    where = ""
    if culprit is not None and culprit != path and culprit.parent != path.parent:
        if isinstance(error, FileExistsError | NotADirectoryError):
            reason = "a file stands where its folder should be"
        where = f" ({culprit})"  # a folder above it; never the temporary file beside it
    named = f"{what} " if what else ""
    return ConfigurationError(
        f"Cannot write {named}{path}: {reason}{where}.",
        code=UNWRITABLE,
        path=str(path),
        reason=reason,
    )


@contextmanager
def writing(path: Path, what: str = "") -> Iterator[None]:
    """Turn an ``OSError`` raised inside the block into :func:`unwritable`'s error for ``path``."""
    try:
        yield
    except OSError as error:
        raise unwritable(path, error, what) from None


def write_atomically(path: Path, data: bytes | str, *, what: str = "") -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` whole or not at all; make its folder.

    Raises:
        ConfigurationError: ``io.unwritable`` when the folder or the file cannot be written
            (nothing is left behind: no partial file, no temporary file).
    """
    content = data.encode("utf-8") if isinstance(data, str) else data
    with writing(path, what):
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.partial")
        try:
            with partial.open("wb") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
            partial.replace(path)
        finally:
            partial.unlink(missing_ok=True)
    return path
