"""The ``digits`` family: real handwritten digits, up-sampled to the MNIST layout.

Domain ``handwritten`` holds the 1797 digit images bundled with scikit-learn
(:func:`sklearn.datasets.load_digits`, read offline), the test part of the UCI "Optical
Recognition of Handwritten Digits" data (Alpaydin & Kaynak, 1998, *Cascading classifiers*,
Kybernetika 34(4); UCI optdigits). Each original is an 8x8 block-count image with values
``v`` in ``0..16`` (the number of "on" pixels of a 4x4 block of a 32x32 bitmap), ink high.

Each image is brought to the layout of MNIST (LeCun, Bottou, Bengio & Haffner, 1998: the
digit in a 20x20 box centred in a 28x28 frame, bright ink on a black background):

1. scale to grey levels: ``g = v * 255 / 16`` (float32);
2. resize ``g`` from 8x8 to ``b x b`` with Pillow's bicubic filter (``Image.resize`` on a
   mode ``"F"`` image, ``Resampling.BICUBIC``, Keys' cubic convolution with ``a = -0.5``),
   where ``b = round(S * 20 / 28)`` for an output size ``S`` (``b = 20`` for ``S = 28``);
3. clip to ``[0, 255]`` (bicubic over- and under-shoots at strokes' edges), round half to
   even, cast to ``uint8``;
4. paste into an ``S x S`` black canvas at offset ``o = (S - b) // 2`` on both axes
   (a 4-pixel margin for ``S = 28``); the margin is exactly 0.

Deviation from MNIST: MNIST centres each digit by its centre of mass; here the whole 8x8
frame is centred, as the UCI preprocessing already normalised the digits' bounding boxes.

Labels are the digits, ``int64`` in ``0..9`` (174 to 183 images per class). The images are
fixed: the load ``seed`` only permutes the row order, deterministically
(``numpy.random.default_rng(SeedSequence(seed)).permutation(1797)``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import ClassVar

import numpy as np
from PIL import Image
from pydantic import Field

from advisor.datasets.builtin.base import BuiltinFamily, DomainCard, FamilyOptions
from advisor.datasets.dataset import Dataset, Provenance, make_dataset

__all__ = ["DigitsFamily", "DigitsOptions", "digit_box_size", "upsample_digits"]

_MNIST_SIZE = 28
_MNIST_BOX = 20
_SOURCE_MAX = 16.0


class DigitsOptions(FamilyOptions):
    """Options of the ``digits`` family."""

    image_size: int = Field(
        _MNIST_SIZE,
        ge=12,
        le=256,
        description="Side of the square output image; the digit fills a centred box of "
        "round(image_size * 20 / 28) pixels.",
    )


def digit_box_size(image_size: int) -> int:
    """Side ``b = round(S * 20 / 28)`` of the digit box in an ``S x S`` image (MNIST ratio)."""
    return round(image_size * _MNIST_BOX / _MNIST_SIZE)


def upsample_digits(images: np.ndarray, image_size: int = _MNIST_SIZE) -> np.ndarray:
    """MNIST-style ``uint8`` images ``(N, S, S)`` from 8x8 digits valued ``0..16``.

    Applies steps 1-4 of the module docstring: scale by 255/16, bicubic resize to the box
    ``b = round(S * 20 / 28)``, clip to [0, 255], round, and centre in a black canvas.
    """
    box = digit_box_size(image_size)
    offset = (image_size - box) // 2
    grey = np.asarray(images, dtype=np.float32) * np.float32(255.0 / _SOURCE_MAX)
    canvas = np.zeros((grey.shape[0], image_size, image_size), dtype=np.uint8)
    for i, image in enumerate(grey):
        resized = Image.fromarray(image, mode="F").resize(
            (box, box), resample=Image.Resampling.BICUBIC
        )
        pixels = np.rint(np.clip(np.asarray(resized), 0.0, 255.0)).astype(np.uint8)
        canvas[i, offset : offset + box, offset : offset + box] = pixels
    return canvas


@lru_cache(maxsize=4)
def _handwritten(image_size: int) -> tuple[np.ndarray, np.ndarray]:
    """The up-sampled images and labels in scikit-learn's order (read-only, cached)."""
    from sklearn.datasets import load_digits  # noqa: PLC0415 (seconds to import; here only)

    bunch = load_digits()
    images = upsample_digits(bunch.images, image_size)
    labels = np.asarray(bunch.target, dtype=np.int64)
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


class DigitsFamily(BuiltinFamily):
    """Real handwritten digits (UCI optdigits via scikit-learn) in the MNIST 28x28 layout."""

    name: ClassVar[str] = "digits"
    options_model: ClassVar[type[FamilyOptions]] = DigitsOptions

    def domains(self) -> list[str]:
        """The one domain, ``handwritten``."""
        return ["handwritten"]

    def card(self, domain: str) -> DomainCard:
        """The card of ``domain`` with the default 28x28 images."""
        self.check_domain(domain)
        return DomainCard(
            family=self.name,
            domain=domain,
            modality="image",
            n_classes=10,
            examples_per_class=None,
            input_shape=(_MNIST_SIZE, _MNIST_SIZE),
            description="1797 real handwritten digits 0-9 (UCI optdigits, 8x8) up-sampled "
            "to MNIST's 28x28 layout.",
        )

    def _load(self, domain: str, *, seed: int, options: DigitsOptions) -> Dataset:
        images, labels = _handwritten(options.image_size)
        order = np.random.default_rng(np.random.SeedSequence(seed)).permutation(labels.size)
        return make_dataset(
            images[order],
            labels[order],
            modality="image",
            groups=None,
            provenance=Provenance(name=f"{self.name}/{domain}", format="builtin"),
        )
