"""A picture of an image dataset: a grid with one class per row (for docs and the CLI)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from advisor import errors
from advisor.datasets.dataset import Dataset
from advisor.errors import DatasetError

_GAP = 2


def preview_grid(
    dataset: Dataset, *, n_classes: int = 12, n_examples: int = 10, seed: int = 0, scale: int = 2
) -> Image.Image:
    """A grid of ``n_examples`` images of each of ``n_classes`` seeded-random classes.

    Raises:
        DatasetError: ``dataset.bad_option`` for vector data.
    """
    if dataset.modality != "image":
        raise DatasetError("Only image datasets can be previewed.", code=errors.BAD_OPTION)
    return image_grid(
        dataset.X,
        dataset.y_encoded,
        n_classes=n_classes,
        n_examples=n_examples,
        seed=seed,
        scale=scale,
    )


def image_grid(
    images: np.ndarray,
    codes: np.ndarray,
    *,
    n_classes: int = 12,
    n_examples: int = 10,
    seed: int = 0,
    scale: int = 2,
) -> Image.Image:
    """The grid of :func:`preview_grid` from images ``(N, H, W[, 3])`` and class codes ``0…K−1``.

    Pixels are ``uint8``, or floats in [0, 1].
    """
    if images.ndim == 4 and images.shape[-1] == 1:  # one channel: grayscale
        images = images[..., 0]
    n_total = int(codes.max()) + 1 if codes.size else 0
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(n_total, size=min(n_classes, n_total), replace=False))
    height, width = images.shape[1:3]
    cell_h, cell_w = height * scale + _GAP, width * scale + _GAP
    mode = "RGB" if images.ndim == 4 else "L"
    grid = Image.new(mode, (n_examples * cell_w + _GAP, len(chosen) * cell_h + _GAP), 96)
    for row, code in enumerate(chosen):
        rows = np.flatnonzero(codes == code)[:n_examples]
        for column, index in enumerate(rows):
            pixels = images[index]
            if pixels.dtype != np.uint8:
                pixels = np.rint(np.clip(pixels, 0.0, 1.0) * 255).astype(np.uint8)
            tile = Image.fromarray(pixels).resize(
                (width * scale, height * scale), Image.Resampling.NEAREST
            )
            grid.paste(tile, (_GAP + column * cell_w, _GAP + row * cell_h))
    return grid


def save_preview(dataset: Dataset, path: str | Path, **kwargs: int) -> Path:
    """Write :func:`preview_grid` to a PNG file and return its path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    preview_grid(dataset, **kwargs).save(target, format="PNG")
    return target
