"""Image datasets laid out as one sub-folder per class, in a folder or a zip archive.

Layout::

    letters/            (an optional single wrapper folder is looked through)
        alpha/001.png
        alpha/002.png
        beta/001.jpg
        ...

The class of an image is the name of the first-level folder it lies in (deeper folders are
allowed and belong to that class). Operating-system litter — ``__MACOSX/``, ``.DS_Store``,
``Thumbs.db``, ``desktop.ini`` and other dot-files — is skipped. Image files at the top level are
refused (their class is unknown); other top-level files (a README, a LICENSE) are ignored with a
warning. Every other file must decode as an image. Zip archives are read in memory through
:mod:`advisor.datasets.safezip`; nothing is extracted to disk. Files are read in sorted path
order, so the same archive gives the same arrays.

Images to *classify* (:func:`read_images_to_classify`) may also lie loose: at the top level, or
in one folder holding nothing but images; they are read unlabeled, each named by its path.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TypeVar

import numpy as np

from advisor import errors
from advisor.datasets.dataset import Dataset, Provenance, make_dataset
from advisor.datasets.encoder import TabularEncoder, refuse_encoder
from advisor.datasets.images import decode_image
from advisor.datasets.options import LoadOptions
from advisor.datasets.safezip import open_zip, read_entry
from advisor.datasets.sources import RawInput
from advisor.errors import DatasetError, LimitExceededError
from advisor.settings import DataLimits

IGNORED_NAMES = frozenset({"__MACOSX", ".DS_Store", "Thumbs.db", "desktop.ini"})
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"})


_Built = TypeVar("_Built")


@dataclass(frozen=True)
class _Entry:
    path: PurePosixPath
    read: Callable[[], bytes]


def read_images(
    raw: RawInput,
    options: LoadOptions,
    limits: DataLimits,
    *,
    encoder: TabularEncoder | None = None,
) -> Dataset:
    """Read a folder or a zip archive of class sub-folders of images (links are refused)."""
    refuse_encoder(encoder, "images")
    return _with_entries(
        raw,
        limits,
        lambda entries, folders, provenance: _build(
            entries, options, limits, provenance, folders=folders
        ),
    )


def read_images_to_classify(
    raw: RawInput, options: LoadOptions, limits: DataLimits
) -> ImagesToClassify:
    """Images to classify, from a folder or a zip archive, each named by its path.

    Images that lie loose (at the top level, or in one folder holding nothing but images) are
    read unlabeled; images in class sub-folders are read by :func:`read_images`' rules and
    labeled by their folders, so that the labels can score the predictions.
    """
    return _with_entries(
        raw,
        limits,
        lambda entries, folders, provenance: _build_to_classify(
            entries, options, limits, provenance, directories=folders
        ),
    )


@dataclass(frozen=True)
class ImagesToClassify:
    """Images to classify, read from a folder or a zip archive.

    Their arrays, their paths (in reading order), the reader's warnings, and their labels (the
    names of their class folders) where they lie in class folders.
    """

    X: np.ndarray
    names: list[str]
    warnings: list[str]
    y: np.ndarray | None = None


def _with_entries(
    raw: RawInput,
    limits: DataLimits,
    build: Callable[[list[_Entry], list[PurePosixPath], Provenance], _Built],
) -> _Built:
    """``build`` of the files of a folder or a zip archive (kept open while it reads them).

    ``build`` also gets the folders the files lie in and the empty ones (to name a class folder
    that holds no image).
    """
    if raw.directory is not None:
        entries, folders, total = _folder_entries(raw, limits)
        return build(
            entries, folders, Provenance(name=raw.name, format="image_folder", size_bytes=total)
        )
    archive, members = open_zip(raw.data or b"", limits)
    entries = [
        _Entry(PurePosixPath(m.filename.replace("\\", "/")), _reader(archive, m)) for m in members
    ]
    folders = [
        PurePosixPath(m.filename.replace("\\", "/")) for m in archive.infolist() if m.is_dir()
    ]
    provenance = Provenance(
        name=raw.name, format="image_zip", sha256=raw.sha256, size_bytes=raw.size_bytes
    )
    with archive:
        return build(entries, folders, provenance)


def _reader(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> Callable[[], bytes]:
    return lambda: read_entry(archive, member)


def _folder_entries(
    raw: RawInput, limits: DataLimits
) -> tuple[list[_Entry], list[PurePosixPath], int]:
    """The folder's files, in sorted path order, its sub-folders, and the files' total size."""
    root = raw.directory
    if root is None:  # pragma: no cover - the loader only routes folders here
        raise DatasetError("Not a folder.", code=errors.BAD_OPTION)
    entries: list[_Entry] = []
    folders: list[PurePosixPath] = []
    total = 0
    for path in sorted(root.rglob("*")):
        relative = PurePosixPath(path.relative_to(root).as_posix())
        if path.is_symlink():
            raise DatasetError(
                f"{str(relative)!r} is a symbolic link; links are refused.",
                code=errors.UNSAFE_PATH,
                entry=str(relative),
            )
        if path.is_dir():
            folders.append(relative)
        if not path.is_file():
            continue
        total += path.stat().st_size
        if total > limits.max_upload_bytes:
            raise LimitExceededError(
                f"The folder holds more than {limits.max_upload_bytes} bytes "
                "(setting ADVISOR_MAX_UPLOAD_BYTES).",
                code=errors.DATASET_TOO_LARGE,
                limit=limits.max_upload_bytes,
            )
        entries.append(_Entry(relative, path.read_bytes))
    return entries, folders, total


def _class_entries(
    entries: Iterable[_Entry], folders: Iterable[PurePosixPath] = ()
) -> tuple[list[_Entry], list[str]]:
    """The images in class sub-folders, in reading order, and warnings on the files left out.

    ``folders`` are the folders of the input (the files' own are found from their paths): a
    class folder that holds no image is named in a warning.

    Raises:
        DatasetError: ``dataset.bad_layout`` for an image at the top level.
    """
    entries = list(entries)
    kept = sorted((e for e in entries if not _ignored(e.path)), key=lambda e: e.path.parts)
    kept, warnings, wrappers = _strip_wrappers(kept)
    in_classes = []
    for entry in kept:
        if len(entry.path.parts) > 1:
            in_classes.append(entry)
        elif _is_image_name(entry.path):
            raise DatasetError(
                f"The image {str(entry.path)!r} lies at the top level; put each image in "
                "the sub-folder named after its class.",
                code=errors.BAD_LAYOUT,
                file=str(entry.path),
            )
        else:
            warnings.append(_ignored_note(entry.path))
    seen = set(folders) | {parent for e in entries for parent in e.path.parents}
    classes = {e.path.parts[0] for e in in_classes}
    empty = {
        folder.parts[len(wrappers)]
        for folder in seen
        if len(folder.parts) > len(wrappers)
        and folder.parts[: len(wrappers)] == wrappers
        and not _ignored(folder)
        and ".." not in folder.parts
        and not folder.is_absolute()
    } - classes
    warnings += [
        f"Folder {name!r} holds no image; ignored (it is not a class)." for name in sorted(empty)
    ]
    return in_classes, warnings


def _build(
    entries: Iterable[_Entry],
    options: LoadOptions,
    limits: DataLimits,
    provenance: Provenance,
    *,
    folders: Iterable[PurePosixPath] = (),
) -> Dataset:
    kept, warnings = _class_entries(entries, folders)
    images: list[np.ndarray] = []
    labels: list[str] = []
    digest = hashlib.sha256()
    for entry in kept:
        _check_count(len(images), limits)
        data = entry.read()
        digest.update(str(entry.path).encode() + b"\0" + hashlib.sha256(data).digest())
        images.append(_decode(entry, data, options, limits))
        labels.append(entry.path.parts[0])
    if not images:
        raise DatasetError(
            "No images found; expected one sub-folder of PNG/JPEG images per class.",
            code=errors.BAD_LAYOUT,
        )
    stacked = _stack(images, [str(e.path) for e in kept])
    if provenance.sha256 is None:
        provenance = provenance.model_copy(update={"sha256": digest.hexdigest()})
    return make_dataset(
        stacked,
        np.array(labels, dtype=str),
        modality="image",
        provenance=provenance,
        warnings=warnings,
        limits=limits,
        check_labels=options.purpose == "train",
    )


def _build_to_classify(
    entries: list[_Entry],
    options: LoadOptions,
    limits: DataLimits,
    provenance: Provenance,
    *,
    directories: list[PurePosixPath],
) -> ImagesToClassify:
    kept = sorted((e for e in entries if not _ignored(e.path)), key=lambda e: e.path.parts)
    folders = {e.path.parts[0] for e in kept if len(e.path.parts) > 1}
    if len(folders) == 1 and all(len(e.path.parts) == 2 for e in kept):  # one wrapper folder
        kept = [_Entry(PurePosixPath(*e.path.parts[1:]), e.read) for e in kept]
    if any(len(e.path.parts) > 1 for e in kept):  # class sub-folders: labeled
        dataset = _build(entries, options, limits, provenance, folders=directories)
        names = [str(e.path) for e in _class_entries(entries)[0]]
        return ImagesToClassify(dataset.X, names, list(dataset.info.warnings), dataset.y)
    loose = [e for e in kept if _is_image_name(e.path)]
    warnings = [f"File {str(e.path)!r} is not an image; ignored." for e in kept if e not in loose]
    if not loose:
        raise DatasetError("No images found; expected PNG/JPEG images.", code=errors.BAD_LAYOUT)
    images: list[np.ndarray] = []
    for entry in loose:
        _check_count(len(images), limits)
        images.append(_decode(entry, entry.read(), options, limits))
    names = [str(e.path) for e in loose]
    return ImagesToClassify(_stack(images, names), names, warnings)


def _check_count(n_read: int, limits: DataLimits) -> None:
    if n_read >= limits.max_image_count:
        raise LimitExceededError(
            f"More than {limits.max_image_count} images (setting ADVISOR_MAX_IMAGE_COUNT).",
            code=errors.TOO_MANY_ROWS,
            limit=limits.max_image_count,
        )


def _decode(entry: _Entry, data: bytes, options: LoadOptions, limits: DataLimits) -> np.ndarray:
    return decode_image(
        data,
        name=str(entry.path),
        size=options.image_size,
        color=options.color,
        max_pixels=limits.max_image_pixels,
    )


def _ignored(path: PurePosixPath) -> bool:
    return any(part in IGNORED_NAMES or part.startswith(".") for part in path.parts)


def _strip_wrappers(entries: list[_Entry]) -> tuple[list[_Entry], list[str], tuple[str, ...]]:
    """Look through single wrapper folders (``data.zip → data/<class>/<image>``).

    A level is a wrapper when all its sub-folders are one folder holding sub-folders of its
    own and no image lies beside it; other files beside it (a README) are ignored, with a
    warning. Also returns the names of the wrapper folders looked through.
    """
    warnings: list[str] = []
    wrappers: tuple[str, ...] = ()
    while True:
        loose = [e for e in entries if len(e.path.parts) == 1]
        nested = [e for e in entries if len(e.path.parts) > 1]
        wrapper = (
            len({e.path.parts[0] for e in nested}) == 1
            and any(len(e.path.parts) >= 3 for e in nested)
            and not any(_is_image_name(e.path) for e in loose)
        )
        if not wrapper:
            return entries, warnings, wrappers
        warnings += [_ignored_note(e.path) for e in loose]
        wrappers += (nested[0].path.parts[0],)
        entries = [_Entry(PurePosixPath(*e.path.parts[1:]), e.read) for e in nested]


def _is_image_name(path: PurePosixPath) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def _ignored_note(path: PurePosixPath) -> str:
    return f"File {str(path)!r} is not in a class folder; ignored."


def _stack(images: list[np.ndarray], files: list[str]) -> np.ndarray:
    """The images as one array; ``files`` names them, in the same order, for the error."""
    shapes = {image.shape for image in images}
    if len(shapes) > 1:
        first = images[0].shape
        odd = next(i for i, image in enumerate(images) if image.shape != first)
        raise DatasetError(
            f"Images differ in size ({files[0]!r} is {first[1]}x{first[0]}, {files[odd]!r} is "
            f"{images[odd].shape[1]}x{images[odd].shape[0]}) and resizing is off; pass "
            "image_size=(height, width) to resize them.",
            code=errors.MIXED_IMAGE_SIZES,
            sizes=sorted(f"{s[1]}x{s[0]}" for s in shapes)[:10],
        )
    return np.stack(images)
