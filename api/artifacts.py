"""The artifact store: uploaded files, fitted models and reports, by key.

A local folder by default (``$ADVISOR_HOME/artifacts``); any fsspec URL (``s3://bucket/x``,
``gcs://…``, ``memory://…``) when several machines must share it. fsspec was chosen because it
gives one file-system interface over local disks and every object store, maintained by the
Dask/pandas ecosystem, so the service needs no storage code of its own.

Keys are built by the service from ids it generated (``datasets/<tenant>/<id>/data``), never
from what users send: a user's file name is kept as metadata only, so it can never reach the
file system (see :func:`safe_key`).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import fsspec

_KEY = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")


def safe_key(*parts: str) -> str:
    """Join ``parts`` into a key, refusing anything but plain names (no ``..``, no ``/``).

    Raises:
        ValueError: a part is empty, ``.``/``..``, or holds characters outside ``[A-Za-z0-9_.-]``.
    """
    key = "/".join(parts)
    if not _KEY.match(key) or any(part in {".", ".."} for part in key.split("/")):
        raise ValueError(f"Unsafe artifact key {key!r}.")
    return key


class ArtifactStore:
    """Bytes and folders under one root URL."""

    def __init__(self, root: str) -> None:
        self.root = root.rstrip("/")
        self.fs, self.base = fsspec.core.url_to_fs(self.root)
        self.fs.makedirs(self.base, exist_ok=True)

    def _path(self, key: str) -> str:
        return f"{self.base}/{safe_key(key)}"

    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` at ``key``, atomically where the file system allows."""
        path = self._path(key)
        self.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        temporary = f"{path}.partial"
        with self.fs.open(temporary, "wb") as handle:
            handle.write(data)
        self.fs.mv(temporary, path)

    def get(self, key: str) -> bytes:
        """The bytes at ``key``. Raises ``FileNotFoundError`` when there are none."""
        with self.fs.open(self._path(key), "rb") as handle:
            data: bytes = handle.read()
        return data

    def exists(self, key: str) -> bool:
        """Whether ``key`` holds a file or folder."""
        return bool(self.fs.exists(self._path(key)))

    def delete(self, key: str) -> None:
        """Remove the file or folder at ``key`` (nothing if it is absent)."""
        path = self._path(key)
        if self.fs.exists(path):
            self.fs.rm(path, recursive=True)

    def put_folder(self, key: str, folder: Path) -> None:
        """Copy every file under ``folder`` to ``key/…``."""
        for file in sorted(p for p in folder.rglob("*") if p.is_file()):
            relative = file.relative_to(folder).as_posix()
            self.put(f"{key}/{relative}", file.read_bytes())

    def get_folder(self, key: str, folder: Path) -> Path:
        """Copy ``key/…`` into ``folder`` (created) and return it."""
        prefix = self._path(key)
        folder.mkdir(parents=True, exist_ok=True)
        for path in self.fs.find(prefix):
            relative = str(path)[len(prefix) :].lstrip("/")
            target = folder / safe_key(relative)
            target.parent.mkdir(parents=True, exist_ok=True)
            with self.fs.open(path, "rb") as handle:
                target.write_bytes(handle.read())
        return folder


class LocalCopy:
    """A temporary local copy of a stored folder, removed on exit."""

    def __init__(self, store: ArtifactStore, key: str) -> None:
        self.store, self.key = store, key
        self.folder = Path(tempfile.mkdtemp(prefix="advisor-"))

    def __enter__(self) -> Path:
        return self.store.get_folder(self.key, self.folder / "copy")

    def __exit__(self, *_exc: object) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
