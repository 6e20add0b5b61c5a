"""From numpy arrays to the tensors the networks take, as the source's input spec says.

An :class:`InputSpec` records what a source was trained on: images of a given height, width
and channel count, or vectors with named features standardised by the source's means and
scales. :func:`to_tensor` brings any compatible array to that form:

* images ``(N, H, W)`` or ``(N, H, W, C)``, uint8 in [0, 255] or float in [0, 1], become
  float32 ``(N, C, H', W')`` in [0, 1]; a different size is resized bilinearly to the spec's,
  RGB becomes grayscale (the channel mean) and grayscale RGB (repeated) when the spec asks;
* vectors ``(N, D)`` become float32 ``(N, D)``, standardised ``(x − mean) / scale``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F

from learners.errors import INPUT_MISMATCH, InvalidInputError

Modality = Literal["image", "vector"]


@dataclass(frozen=True)
class InputSpec:
    """What a network takes: its modality and shape, and the standardisation of vectors."""

    modality: Modality
    shape: tuple[int, ...]
    mean: tuple[float, ...] | None = None
    scale: tuple[float, ...] | None = None

    @property
    def channels(self) -> int:
        """Image channels (1 for grayscale); 0 for vectors."""
        if self.modality == "vector":
            return 0
        return self.shape[2] if len(self.shape) == 3 else 1

    @property
    def width(self) -> int:
        """Number of input features of vectors; pixels per channel of images."""
        return int(np.prod(self.shape[:2])) if self.modality == "image" else self.shape[0]

    @classmethod
    def from_data(cls, X: np.ndarray) -> InputSpec:
        """The spec of a training array; vectors get its column means and scales."""
        array = np.asarray(X)
        if array.ndim == 2:
            values = array.astype(np.float64)
            scale = values.std(axis=0)
            scale[scale < 1e-12] = 1.0
            return cls("vector", (array.shape[1],), tuple(values.mean(axis=0)), tuple(scale))
        if array.ndim in (3, 4):
            return cls("image", tuple(int(s) for s in array.shape[1:]))
        raise InvalidInputError(
            f"Expected (N, D) vectors or (N, H, W[, C]) images, got shape {array.shape}.",
            code=INPUT_MISMATCH,
        )

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return asdict(self)

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> InputSpec:
        """Inverse of :meth:`to_json`."""
        optional = {
            k: tuple(document[k]) if document.get(k) is not None else None
            for k in ("mean", "scale")
        }
        return cls(document["modality"], tuple(document["shape"]), **optional)


def to_tensor(X: Any, spec: InputSpec) -> torch.Tensor:
    """``X`` as a float32 tensor for a network built on ``spec`` (module docstring).

    Raises:
        InvalidInputError: ``learners.input_mismatch`` for vectors of another width, images
            given to a vector network and the other way round, or images other than uint8
            whose values leave [0, 1] (0–255 pixels as floats would reach the network 255
            times too bright, and it would answer without a word).
    """
    array = np.asarray(X)
    if spec.modality == "vector":
        if array.ndim != 2 or array.shape[1] != spec.shape[0]:
            raise InvalidInputError(
                f"The source takes vectors of {spec.shape[0]} features; got shape {array.shape}.",
                code=INPUT_MISMATCH,
            )
        mean = np.asarray(spec.mean, dtype=np.float64)
        scale = np.asarray(spec.scale, dtype=np.float64)
        return torch.from_numpy(((array.astype(np.float64) - mean) / scale).astype(np.float32))
    if array.ndim not in (3, 4):
        raise InvalidInputError(
            f"The source takes images; got an array of shape {array.shape}.", code=INPUT_MISMATCH
        )
    pixels = (
        np.array(array, copy=True) if not array.flags.writeable else np.ascontiguousarray(array)
    )
    if array.dtype != np.uint8 and array.size:
        _check_unit_range(array)
    images = torch.from_numpy(pixels)
    images = images.float() / 255.0 if array.dtype == np.uint8 else images.float()
    images = images.unsqueeze(1) if images.ndim == 3 else images.permute(0, 3, 1, 2)
    if images.shape[1] != spec.channels:
        images = (
            images.mean(dim=1, keepdim=True)
            if spec.channels == 1
            else images.expand(-1, spec.channels, -1, -1)
        )
    height, width = spec.shape[0], spec.shape[1]
    if images.shape[2:] != (height, width):
        images = F.interpolate(images, size=(height, width), mode="bilinear", align_corners=False)
    return images.contiguous()


ROUNDING = 1e-3
"""How far outside [0, 1] a float pixel may lie (resampling rounds: 1.0000001 is a white pixel)."""


def _check_unit_range(images: np.ndarray) -> None:
    """Refuse non-uint8 images with values outside [0, 1] (or not finite)."""
    low, high = float(np.min(images)), float(np.max(images))
    finite = np.isfinite(low) and np.isfinite(high)
    if not finite or low < -ROUNDING or high > 1.0 + ROUNDING:
        raise InvalidInputError(
            f"Images of dtype {images.dtype} must hold values in [0, 1], got [{low:g}, {high:g}]; "
            "divide 0-255 pixels by 255, or pass them as uint8.",
            code=INPUT_MISMATCH,
        )
