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
            mean, scale = standardisation(array.astype(np.float64))
            return cls("vector", (array.shape[1],), tuple(mean), tuple(scale))
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


TINY = 1e-12
"""A column whose deviation is below this is checked for being constant (:func:`standardisation`).
"""


def standardisation(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each column's mean and scale, for ``(x − mean) / scale``, whatever the column's units.

    The mean and the scale (the population standard deviation) are ``values.mean`` and
    ``values.std``, so that ordinary columns get exactly the floats they always got. Two kinds
    of column are looked at again, on the column divided by its largest ``|x|`` (then scaled
    back), where neither sum overflows nor squares underflow:

    * a column whose statistics overflow (``|x|`` from about 1e154 on, where ``x²`` is
      infinite): its scale would be infinite and zero the column;
    * a column whose deviation falls below :data:`TINY`: it is taken as constant (scale 1)
      only when it is one: its values all equal, or spread by no more than rounding, ten
      machine epsilons of its largest ``|x|``. A column in tiny units (values of 1e-13) keeps
      its deviation.

    A constant column whose statistics overflow gets its largest ``|x|`` as scale (its
    standardised values are then rounding, about 0). Columns holding NaN or infinities are left
    as ``mean`` and ``std`` give them.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        mean = values.mean(axis=0)
        scale = values.std(axis=0)
    overflow = ~(np.isfinite(mean) & np.isfinite(scale))
    tiny = ~overflow & (scale < TINY)
    if values.shape[0] == 0 or not (overflow | tiny).any():
        scale[tiny] = 1.0
        return mean, scale
    with np.errstate(over="ignore", invalid="ignore"):
        peak = np.max(np.abs(values), axis=0)
    regular = np.isfinite(peak) & (peak > 0)
    scale[tiny & ~regular] = 1.0  # all zeros
    look = (overflow | tiny) & regular
    unit = values[:, look] / peak[look]
    spread, centre = unit.std(axis=0), unit.mean(axis=0)
    constant = (spread <= 10 * np.finfo(scale.dtype).eps) | (np.ptp(unit, axis=0) == 0)
    small = tiny[look]
    mean[look] = np.where(constant & small, mean[look], centre * peak[look])
    scale[look] = np.where(constant, np.where(small, 1.0, peak[look]), spread * peak[look])
    return mean, scale


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
