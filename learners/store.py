"""Saving and loading sources: safetensors for tensors, JSON for the rest, never pickle.

A saved source is a folder::

    glyphs/
        source.json           format, version, name, input spec, backbone, classes, how it was
                              built, and the SHA-256 of the weights file
        weights.safetensors   pretrained/…, meta/<algorithm>/…, profile/… tensors

Loading checks the format name, that the version is one this code reads, and the checksum; a
mismatch is ``learners.corrupt_file``, never a crash or a silently different model.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import safetensors.torch
import torch

from learners.errors import CORRUPT_FILE, UNKNOWN_SOURCE, InvalidInputError, NotFoundError
from learners.source import PROFILE_KEYS, Source
from learners.tensors import InputSpec

FORMAT = "automl-advisor/source"
FORMAT_VERSION = 1
BUILTIN_DIR = Path(__file__).resolve().parent / "data" / "sources"


def save_source(source: Source, path: str | Path) -> Path:
    """Write ``source`` to the folder ``path`` (created if needed); return the folder."""
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    tensors: dict[str, torch.Tensor] = {f"pretrained/{k}": v for k, v in source.pretrained.items()}
    for algorithm, state in source.meta.items():
        tensors.update({f"meta/{algorithm}/{k}": v for k, v in state.items()})
    tensors.update(
        {
            f"profile/{k}": torch.from_numpy(np.ascontiguousarray(source.profile_arrays[k]))
            for k in PROFILE_KEYS
        }
    )
    payload = safetensors.torch.save({k: v.contiguous() for k, v in tensors.items()})
    (folder / "weights.safetensors").write_bytes(payload)
    document = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "name": source.name,
        "spec": source.spec.to_json(),
        "backbone": source.backbone,
        "classes": list(source.classes),
        "meta_algorithms": list(source.meta),
        "meta_ways": source.meta_ways,
        "info": source.info,
        "weights_sha256": hashlib.sha256(payload).hexdigest(),
    }
    (folder / "source.json").write_text(json.dumps(document, indent=2, ensure_ascii=False))
    source.info["weights_sha256"] = document["weights_sha256"]
    return folder


def read_source(path: str | Path) -> Source:
    """Read a source folder written by :func:`save_source`.

    Raises:
        NotFoundError: ``learners.unknown_source`` when there is no source there.
        InvalidInputError: ``learners.corrupt_file`` for a wrong format, version or checksum.
    """
    folder = Path(path)
    if folder.is_file():
        folder = folder.parent
    manifest, weights = folder / "source.json", folder / "weights.safetensors"
    if not manifest.is_file() or not weights.is_file():
        raise NotFoundError(f"No saved source in {str(folder)!r}.", code=UNKNOWN_SOURCE)
    document = _read_manifest(manifest)
    payload = weights.read_bytes()
    if hashlib.sha256(payload).hexdigest() != document.get("weights_sha256"):
        raise InvalidInputError(
            f"The weights of the source in {str(folder)!r} do not match their checksum "
            "(changed or damaged since they were saved).",
            code=CORRUPT_FILE,
        )
    tensors = safetensors.torch.load(payload)
    meta: dict[str, dict[str, torch.Tensor]] = {}
    for algorithm in document["meta_algorithms"]:
        prefix = f"meta/{algorithm}/"
        meta[algorithm] = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
    return Source(
        name=document["name"],
        spec=InputSpec.from_json(document["spec"]),
        backbone=document["backbone"],
        classes=tuple(document["classes"]),
        pretrained={k[11:]: v for k, v in tensors.items() if k.startswith("pretrained/")},
        meta=meta,
        profile_arrays={k: tensors[f"profile/{k}"].numpy() for k in PROFILE_KEYS},
        meta_ways=int(document["meta_ways"]),
        info={**document.get("info", {}), "weights_sha256": document["weights_sha256"]},
    )


def _read_manifest(manifest: Path) -> dict[str, Any]:
    try:
        document = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InvalidInputError(
            f"{str(manifest)!r} is not readable JSON: {error}.", code=CORRUPT_FILE
        ) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise InvalidInputError(f"{str(manifest)!r} is not a saved source.", code=CORRUPT_FILE)
    version = document.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise InvalidInputError(
            f"{str(manifest)!r} has format version {version!r}; this code reads up to "
            f"{FORMAT_VERSION}. Upgrade automl-advisor.",
            code=CORRUPT_FILE,
        )
    return document


def builtin_sources() -> list[str]:
    """Names of the sources that ship with the package."""
    if not BUILTIN_DIR.is_dir():
        return []
    return sorted(p.name for p in BUILTIN_DIR.iterdir() if (p / "source.json").is_file())


def load_source(
    name_or_path: str | Path | Source, *, search_paths: tuple[str | Path, ...] = ()
) -> Source:
    """A source by object, folder path, or name (looked up in ``search_paths``, then built-ins).

    Loaded folders are cached in memory (keyed by path and modification time), so loading the
    built-in ``glyphs`` source again is free.

    Raises:
        NotFoundError: ``learners.unknown_source``.
        InvalidInputError: ``learners.corrupt_file``.
    """
    if isinstance(name_or_path, Source):
        return name_or_path
    candidate = Path(name_or_path)
    if candidate.exists():
        return _cached_read(str(candidate.resolve()), _mtime(candidate))
    for base in (*map(Path, search_paths), BUILTIN_DIR):
        folder = base / str(name_or_path)
        if (folder / "source.json").is_file():
            return _cached_read(str(folder.resolve()), _mtime(folder))
    known = builtin_sources()
    raise NotFoundError(
        f"No source {str(name_or_path)!r}: not a folder, and not one of {known}.",
        code=UNKNOWN_SOURCE,
    )


def _mtime(path: Path) -> float:
    manifest = path / "source.json" if path.is_dir() else path
    return manifest.stat().st_mtime if manifest.exists() else 0.0


@lru_cache(maxsize=8)
def _cached_read(path: str, mtime: float) -> Source:
    del mtime  # part of the cache key only
    return read_source(path)
