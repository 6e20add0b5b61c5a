"""A small on-disk cache for built-in domains: re-computable arrays under ``<home>/cache``.

Entries are keyed by a hash of everything that determines their content (a format version,
the generator's parameters, font fingerprints…), stored as ``.npz`` (read back with
``allow_pickle=False``) or JSON, and written atomically (temporary file, then rename), so that
concurrent processes never see half a file. A corrupt entry is rebuilt. Set
``ADVISOR_CACHE_BUILTIN=false`` to turn the cache off.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from advisor.settings import get_settings


def cache_key(parts: dict[str, Any]) -> str:
    """A stable hexadecimal key for a JSON-serialisable description of an entry."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _entry_path(kind: str, key: str, suffix: str) -> Path | None:
    settings = get_settings()
    if not settings.cache_builtin:
        return None
    return settings.cache_dir / kind / f"{key}{suffix}"


def cached_arrays(
    kind: str, key: str, build: Callable[[], dict[str, np.ndarray]]
) -> dict[str, np.ndarray]:
    """The arrays stored under ``kind/key``, or ``build()``'s result, stored for next time."""
    path = _entry_path(kind, key, ".npz")
    if path is not None and path.is_file():
        try:
            with np.load(path, allow_pickle=False) as stored:
                return {name: stored[name] for name in stored.files}
        except (OSError, ValueError, zipfile.BadZipFile, EOFError):
            pass  # corrupt or partial entry: rebuild it below
    arrays = build()
    if path is not None:
        _atomic_write(path, lambda handle: np.savez(handle, allow_pickle=False, **_any(arrays)))
    return arrays


def cached_json(kind: str, key: str, build: Callable[[], Any]) -> Any:
    """The JSON document stored under ``kind/key``, or ``build()``'s, stored for next time."""
    path = _entry_path(kind, key, ".json")
    if path is not None and path.is_file():
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass
    document = build()
    if path is not None:
        payload = json.dumps(document, ensure_ascii=False).encode("utf-8")
        _atomic_write(path, lambda handle: handle.write(payload))
    return document


def _any(arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """The arrays typed loosely: numpy's stubs confuse ``**arrays`` with ``allow_pickle``."""
    return arrays


def _atomic_write(path: Path, write: Callable[[Any], object]) -> None:
    temporary: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, name = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        temporary = Path(name)
        with os.fdopen(descriptor, "wb") as handle:
            write(handle)
        temporary.replace(path)
    except OSError:
        # A read-only or full disk costs only the cache, never the result.
        if temporary is not None:
            temporary.unlink(missing_ok=True)
