"""What a run was trained on, kept with the run for its report: a summary and sample images.

:func:`summarize` describes the training data from its arrays — kind, size, classes, examples
per class — and, where the data was read from a file, from its :class:`DatasetInfo` as well
(the file's name and format, how a table's columns were encoded, what reading noticed).
:func:`sample_picture` draws a few images of each class, and :func:`save_samples` keeps that
picture beside a run's model. Neither
validates the data again: a run's data has been accepted by then, whatever its size.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
from PIL import Image
from pydantic import BaseModel, ConfigDict

from advisor.datasets.dataset import DatasetInfo
from advisor.datasets.preview import image_grid

SAMPLES_FILE = "samples.png"
SAMPLE_CLASSES = 10
SAMPLE_EXAMPLES = 8


class DataSummary(BaseModel):
    """A run's training data, as its report describes it."""

    model_config = ConfigDict(frozen=True)

    modality: Literal["image", "vector"]
    examples: int
    example_shape: list[int]
    class_counts: dict[str, int]
    name: str | None = None
    format: str | None = None
    numeric_columns: int | None = None
    categorical_columns: int | None = None
    missing_filled: int = 0
    left_out: dict[str, str] = {}
    """A table's columns left out of the features, each with its role: ``"dropped"`` (by
    ``drop=``, or empty) or ``"identifier"`` (a row identifier)."""
    warnings: list[str] = []

    @property
    def shots(self) -> tuple[int, float, int]:
        """Examples per class: fewest, median, most."""
        counts = np.array(list(self.class_counts.values()))
        return int(counts.min()), float(np.median(counts)), int(counts.max())

    def sentence(self) -> str:
        """One sentence of what the data is, e.g. ``100 images (28×28, grayscale) of 10 …``.

        A second one names a table's columns left out of the features, if any.
        """
        low, median, high = self.shots
        per_class = f"{low}" if low == high else f"{low}–{high} (median {median:g})"
        if self.modality == "image":
            height, width = self.example_shape[:2]
            colour = (
                "colour"
                if len(self.example_shape) == 3 and self.example_shape[2] == 3
                else "grayscale"
            )
            what = f"{self.examples} images ({height}×{width}, {colour})"
        else:
            what = f"{self.examples} rows of {self.example_shape[0]} features"
            kinds = [
                f"{count} {kind}"
                for count, kind in (
                    (self.numeric_columns, "numeric"),
                    (self.categorical_columns, "categorical"),
                )
                if count
            ]
            if kinds:
                columns = sum(c or 0 for c in (self.numeric_columns, self.categorical_columns))
                what += f" (from {' and '.join(kinds)} column{'s' if columns > 1 else ''})"
        origin = f", read from {self.name} ({self.format})" if self.name else ""
        text = f"{what} of {len(self.class_counts)} classes, {per_class} per class{origin}."
        if self.left_out:
            listed = ", ".join(
                f"{name} ({'a row identifier' if role == 'identifier' else 'dropped'})"
                for name, role in self.left_out.items()
            )
            text += f" Left out of the features: {listed}."
        return text


def summarize(X: Any, y: Any, info: DatasetInfo | None = None) -> DataSummary:
    """The summary of training data ``(X, y)``; ``info`` adds what reading it found out."""
    X = np.asarray(X)
    labels, counts = np.unique(np.asarray(y).astype(str), return_counts=True)
    shape = list(X.shape[1:])
    if len(shape) == 3 and shape[2] == 1:
        shape = shape[:2]
    extra: dict[str, Any] = {}
    if info is not None:
        extra = {"name": info.name or None, "format": info.format, "warnings": info.warnings}
        if info.tabular is not None:
            kinds = [c.kind for c in info.tabular.columns if c.role == "feature"]
            extra |= {
                "numeric_columns": sum(k == "numeric" for k in kinds),
                "categorical_columns": sum(k != "numeric" for k in kinds),
                "missing_filled": info.tabular.n_missing,
                "left_out": {
                    c.name: c.role
                    for c in info.tabular.columns
                    if c.role in ("dropped", "identifier")
                },
            }
    return DataSummary(
        modality="vector" if X.ndim == 2 else "image",
        examples=int(X.shape[0]),
        example_shape=[int(s) for s in shape],
        class_counts={str(k): int(v) for k, v in zip(labels, counts, strict=True)},
        **extra,
    )


def sample_picture(X: Any, y: Any) -> Image.Image | None:
    """A picture of a few images of each class; ``None`` for vector data.

    Up to ``SAMPLE_EXAMPLES`` images of each of the first ``SAMPLE_CLASSES`` classes (in the
    order of :attr:`DataSummary.class_counts`), one class per row
    (:func:`~advisor.datasets.preview.image_grid`).
    """
    X = np.asarray(X)
    if X.ndim not in (3, 4):
        return None
    _, codes = np.unique(np.asarray(y).astype(str), return_inverse=True)
    codes = codes.reshape(-1)
    first = codes < SAMPLE_CLASSES  # the first classes, in the summary's order
    widest = int(np.bincount(codes[first]).max())  # no empty columns
    return image_grid(
        X[first],
        codes[first],
        n_classes=SAMPLE_CLASSES,
        n_examples=min(SAMPLE_EXAMPLES, widest),
    )


def save_samples(X: Any, y: Any, folder: Path) -> Path | None:
    """:func:`sample_picture` as ``SAMPLES_FILE`` (PNG) in ``folder``; ``None`` for vectors."""
    picture = sample_picture(X, y)
    if picture is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SAMPLES_FILE
    picture.save(path, format="PNG")
    return path
