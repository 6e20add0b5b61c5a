"""This installation's own knowledge base: the outcomes its regret checks measured.

``$ADVISOR_HOME/kb/local.parquet`` holds a row per family measured by a run's regret check
(:meth:`advisor.core.Advisor.run`'s ``check_runner_up``); the recommender learns from them
next to the shipped knowledge base.

Several runs may add rows at once (two terminals, a service's workers). :func:`append_local_kb`
holds an exclusive lock on ``local.parquet.lock`` beside the file (``fcntl.flock``) while it
reads the rows, adds its own and writes the whole table to a temporary file in the same folder,
renamed over the old one (:func:`advisor.writing.write_atomically`): no run's rows are lost to
another's, and a reader or a crash mid-write never sees half a file.

A file that cannot be read as this table (cut short by an interrupted write of an older version,
a disk fault, a hand edit) is never fatal and never silently dropped: it is renamed
``local.parquet.damaged-<UTC time>`` — kept for whoever wants to look at it — with an
:class:`~advisor.errors.AdvisorWarning` that says so, and the advisor goes on without those rows
(the next regret check starts a new file). A file that is there but cannot be read (no
permission) is left as it is, with a warning.
"""

from __future__ import annotations

import fcntl
import io
import re
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

import meta_features as mf
from advisor.errors import AdvisorWarning
from advisor.kb.runner import FEATURE_PREFIX
from advisor.writing import write_atomically, writing

LOCAL_KB = "local.parquet"
REQUIRED_COLUMNS = ("task_id", "family", "variant", "accuracy")
"""What every row of the local knowledge base has; a table without them is damaged."""

_UNREADABLE = (PermissionError, FileNotFoundError, IsADirectoryError)
"""Errors of reading that say nothing about the file's content: it is left where it is."""


class DamagedLocalKBError(Exception):
    """The local knowledge-base file is not a table this code reads (why: the message)."""


_DAMAGE = (DamagedLocalKBError, pa.ArrowException, ValueError, KeyError, TypeError, OSError)
"""Errors of reading that mean the file is not the table it should be (after ``_UNREADABLE``)."""


def read_local_kb(path: Path) -> pd.DataFrame:
    """This installation's own runs, as the recommender can compare them with the KB's tasks.

    Rows appended before the advisor standardised tables' columns for their meta-features
    (they lack the ``rescale`` column) describe a table in its own units: their statistical,
    info-theory and landmarking features are dropped (NaN), and their descriptors, similarity
    to the source and outcomes kept. Raises what reading the Parquet file raises;
    :func:`load_local_kb` is the forgiving reader.
    """
    rows = pd.read_parquet(path)
    if "modality" not in rows.columns:
        return rows
    stale = rows["modality"].eq("vector")
    if "rescale" in rows.columns:
        stale = stale & rows["rescale"].isna()
    unit_bound = [
        FEATURE_PREFIX + name
        for name in mf.names(groups=["statistical", "info-theory", "landmarking"])
        if FEATURE_PREFIX + name in rows.columns
    ]
    rows.loc[stale, unit_bound] = np.nan
    return rows


def load_local_kb(path: Path) -> pd.DataFrame | None:
    """The local knowledge base at ``path`` (:func:`read_local_kb`), or ``None`` without one.

    A damaged file is set aside with a warning, an unreadable one left with a warning; either
    way the answer is ``None``, as if there were no file.
    """
    try:
        return _checked(read_local_kb(path)) if path.is_file() else None
    except FileNotFoundError:  # set aside or replaced this very moment
        return None
    except _UNREADABLE as error:
        _warn(
            f"The local knowledge base {path} cannot be read ({_reason(error)}); the advisor "
            "goes on without it."
        )
        return None
    except _DAMAGE:
        pass
    try:
        with _locked(path):  # a writer may have replaced it meanwhile: judge it under the lock
            return _read_or_set_aside(path, read_local_kb)
    except OSError as error:  # not even the lock can be taken (a read-only folder)
        _warn(
            f"The local knowledge base {path} cannot be read as a table and cannot be set aside "
            f"({_reason(error)}); the advisor goes on without it."
        )
        return None


def append_local_kb(path: Path, rows: pd.DataFrame) -> None:
    """Add ``rows`` to the local knowledge base at ``path``, under its lock, atomically.

    Raises:
        ConfigurationError: ``io.unwritable`` when the folder or the file cannot be written
            (the file is then as it was).
    """
    with writing(path, "the local knowledge base"):
        path.parent.mkdir(parents=True, exist_ok=True)
        with _locked(path):
            old = _read_or_set_aside(path, pd.read_parquet)  # the rows as stored
            table = rows if old is None else pd.concat([old, rows], ignore_index=True)
            buffer = io.BytesIO()
            table.to_parquet(buffer, index=False)
            write_atomically(path, buffer.getvalue(), what="the local knowledge base")


def _read_or_set_aside(path: Path, read: Callable[[Path], pd.DataFrame]) -> pd.DataFrame | None:
    """``read(path)``, checked; ``None`` without a file, or with a damaged one set aside.

    Call it holding the lock (:func:`_locked`). An unreadable file raises (it is left as it is).
    """
    try:
        return _checked(read(path)) if path.is_file() else None
    except FileNotFoundError:
        return None
    except _UNREADABLE:
        raise
    except _DAMAGE as error:
        _set_aside(path, error)
        return None


def _checked(rows: pd.DataFrame) -> pd.DataFrame:
    missing = [name for name in REQUIRED_COLUMNS if name not in rows.columns]
    if missing:
        raise DamagedLocalKBError(f"it lacks the columns {', '.join(missing)}")
    return rows


def _set_aside(path: Path, error: BaseException) -> None:
    """Rename a damaged ``path`` to ``<name>.damaged-<UTC time>`` and warn."""
    stamp = datetime.now(tz=UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    number = 1
    while aside.exists():
        number += 1
        aside = path.with_name(f"{path.name}.damaged-{stamp}-{number}")
    try:
        path.rename(aside)
    except OSError as failure:
        _warn(
            f"The local knowledge base {path} is damaged ({_reason(error)}) and cannot be set "
            f"aside ({_reason(failure)}); the advisor goes on without it. Move it away to "
            "silence this."
        )
        return
    _warn(
        f"The local knowledge base {path} is damaged ({_reason(error)}): it was set aside as "
        f"{aside.name}, and the advisor goes on without the outcomes of this installation's "
        "earlier regret checks; the next check starts a new one."
    )


def _reason(error: BaseException) -> str:
    """The gist of ``error``: the operating system's reason, or pyarrow's without the path."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return re.sub(r"^Could not open Parquet input source '.*?': ", "", text)


def _warn(message: str) -> None:
    warnings.warn(message, AdvisorWarning, stacklevel=3)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``<path>.lock``, which every writer of ``path`` takes."""
    with path.with_name(path.name + ".lock").open("a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
