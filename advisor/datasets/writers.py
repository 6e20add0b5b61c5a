"""Writing a :class:`Dataset` to files that :func:`~advisor.datasets.load_dataset` reads back.

* vector data: ``csv``, ``tsv``, ``parquet``, ``json`` (records), ``jsonl`` or ``npz`` — the
  features under their names plus a ``label`` column (``target`` if a feature is already
  called ``label``);
* images: ``zip`` (one folder of PNG files per class) or ``npz`` (``X``, ``y``, ``groups``).

Class folder names are the labels, except where a label is not a safe file name (a path
separator, a leading dot, a control character) or would clash with another on a
case-insensitive file system (``Σ`` and ``σ``): those get their code points appended
(``σ_U+03C3``), so that the archive unpacks the same everywhere.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from PIL import Image

from advisor import errors
from advisor.datasets.dataset import Dataset
from advisor.errors import DatasetError

ExportFormat = Literal["csv", "tsv", "parquet", "json", "jsonl", "npz", "zip"]
VECTOR_FORMATS: tuple[ExportFormat, ...] = ("csv", "tsv", "parquet", "json", "jsonl", "npz")
IMAGE_FORMATS: tuple[ExportFormat, ...] = ("zip", "npz")


def to_bytes(dataset: Dataset, fmt: ExportFormat) -> bytes:
    """The dataset serialised in ``fmt``.

    Raises:
        DatasetError: ``dataset.bad_option`` when ``fmt`` does not suit the modality.
    """
    allowed = IMAGE_FORMATS if dataset.modality == "image" else VECTOR_FORMATS
    if fmt not in allowed:
        raise DatasetError(
            f"{dataset.modality} data can be written as {', '.join(allowed)}, not {fmt}.",
            code=errors.BAD_OPTION,
        )
    if fmt == "npz":
        return _npz(dataset)
    if fmt == "zip":
        return _image_zip(dataset)
    frame = to_frame(dataset)
    if fmt in ("csv", "tsv"):
        return frame.to_csv(index=False, sep="," if fmt == "csv" else "\t").encode("utf-8")
    if fmt == "parquet":
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        return buffer.getvalue()
    records = [
        {key: _plain(value) for key, value in row.items()} for row in frame.to_dict("records")
    ]
    if fmt == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()
    return json.dumps(records, ensure_ascii=False).encode()


def _plain(value: object) -> object:
    """A JSON-native value; Python's float repr round-trips float64 exactly."""
    return value.item() if isinstance(value, np.generic) else value


def write_dataset(dataset: Dataset, path: str | Path, fmt: ExportFormat | None = None) -> Path:
    """Write the dataset to ``path``; the format defaults to the path's suffix."""
    target = Path(path)
    chosen = fmt or target.suffix.lower().lstrip(".")
    if chosen not in ("csv", "tsv", "parquet", "json", "jsonl", "npz", "zip"):
        raise DatasetError(
            f"Cannot tell the format of {str(target)!r}; name it .csv, .tsv, .parquet, .json, "
            ".jsonl, .npz or .zip.",
            code=errors.BAD_OPTION,
        )
    payload = to_bytes(dataset, chosen)  # type: ignore[arg-type]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(payload)
    return target


def to_frame(dataset: Dataset) -> pd.DataFrame:
    """Vector data as a table: the features, a label column, and a ``group`` column if any.

    The label column is ``label`` (``target`` if a feature is called ``label``).
    """
    if dataset.modality != "vector" or dataset.feature_names is None:
        raise DatasetError("Only vector data has a table form.", code=errors.BAD_OPTION)
    frame = pd.DataFrame(dataset.X, columns=list(dataset.feature_names))
    frame["label" if "label" not in frame.columns else "target"] = dataset.y
    if dataset.groups is not None and "group" not in frame.columns:
        frame["group"] = dataset.groups
    return frame


def _npz(dataset: Dataset) -> bytes:
    arrays: dict[str, np.ndarray] = {"X": dataset.X, "y": dataset.y}
    if dataset.groups is not None:
        arrays["groups"] = dataset.groups
    if dataset.feature_names is not None:
        arrays["feature_names"] = np.array(dataset.feature_names, dtype=str)
    loosely: dict[str, Any] = dict(arrays)  # numpy stubs mistake **arrays for allow_pickle
    buffer = io.BytesIO()
    np.savez_compressed(buffer, allow_pickle=False, **loosely)
    return buffer.getvalue()


def _image_zip(dataset: Dataset) -> bytes:
    folders = class_folder_names(dataset.classes)
    buffer = io.BytesIO()
    counters = dict.fromkeys(folders.values(), 0)
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for image, label in zip(dataset.X, dataset.y, strict=True):
            folder = folders[label.item() if isinstance(label, np.generic) else label]
            counters[folder] += 1
            pixels = image if image.dtype == np.uint8 else np.rint(image * 255).astype(np.uint8)
            png = io.BytesIO()
            Image.fromarray(pixels).save(png, format="PNG")
            archive.writestr(f"{folder}/{counters[folder]:05d}.png", png.getvalue())
    return buffer.getvalue()


def class_folder_names(classes: np.ndarray) -> dict[object, str]:
    """A safe, case-insensitively unique folder name for each class (see module docstring).

    Of labels that fold to the same name (``Σ``, ``σ``), the first in sorted order keeps its
    name and the others get their code points appended; an unsafe label is spelled in code
    points; a name still taken gets a counter.
    """
    names: dict[object, str] = {}
    taken: set[str] = set()
    for label in (c.item() if isinstance(c, np.generic) else c for c in classes.tolist()):
        text = str(label)
        codes = "_".join(f"U+{ord(ch):04X}" for ch in text)
        name = codes if _unsafe(text) else text
        if name.casefold() in taken and not _unsafe(text):
            name = f"{text}_{codes}"
        base, counter = name, 2
        while name.casefold() in taken:
            name, counter = f"{base}_{counter}", counter + 1
        taken.add(name.casefold())
        names[label] = name
    return names


def _unsafe(name: str) -> bool:
    return (
        not name.strip()
        or name.startswith(".")
        or any(ch in name for ch in "/\\:")
        or any(ord(ch) < 32 for ch in name)
    )
