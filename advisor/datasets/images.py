"""Decoding one image file into a fixed-size array, safely.

Accepted formats: PNG and JPEG (plus BMP, GIF — first frame — and WebP, which Pillow decodes
the same way). Images are converted to grayscale (``"L"``) or ``"RGB"``; transparent pixels are
composited over white first, so a transparent background does not turn black. With a declared
``size`` the image is resized (stretched, aspect ratio not kept, Lanczos filter); without one,
its size is kept and all images of a dataset must agree.

The pixel count is checked against ``max_image_pixels`` *before* decoding (decompression-bomb
guard), and truncated files are refused rather than padded (Pillow's
``LOAD_TRUNCATED_IMAGES`` stays off).
"""

from __future__ import annotations

import io
import warnings
from typing import Literal

import numpy as np
from PIL import Image, UnidentifiedImageError

from advisor import errors
from advisor.errors import DatasetError, LimitExceededError

ColorMode = Literal["grayscale", "rgb"]
ACCEPTED_FORMATS = frozenset({"PNG", "JPEG", "BMP", "GIF", "WEBP"})
_PIL_MODE: dict[ColorMode, str] = {"grayscale": "L", "rgb": "RGB"}


def decode_image(
    data: bytes,
    *,
    name: str,
    size: tuple[int, int] | None,
    color: ColorMode,
    max_pixels: int,
) -> np.ndarray:
    """Decode ``data`` into a uint8 array ``(H, W)`` (grayscale) or ``(H, W, 3)`` (RGB).

    Args:
        data: the file's bytes.
        name: the file's name, for error messages.
        size: ``(height, width)`` to resize to, or ``None`` to keep the size.
        color: ``"grayscale"`` or ``"rgb"``.
        max_pixels: refuse images with more pixels than this.

    Raises:
        DatasetError: ``dataset.bad_image`` for truncated, corrupt or non-image files.
        LimitExceededError: ``dataset.image_too_large``.
    """
    image = _open(data, name=name, max_pixels=max_pixels)
    try:
        image.load()
        converted = _convert(image, color)
    except (OSError, ValueError, SyntaxError) as err:
        raise DatasetError(
            f"The image {name!r} is truncated or corrupt: {err}.",
            code=errors.BAD_IMAGE,
            file=name,
        ) from None
    if size is not None and converted.size != (size[1], size[0]):
        converted = converted.resize((size[1], size[0]), Image.Resampling.LANCZOS)
    return np.asarray(converted, dtype=np.uint8)


def _open(data: bytes, *, name: str, max_pixels: int) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=sorted(ACCEPTED_FORMATS))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_large(name, max_pixels) from None
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
            raise DatasetError(
                f"The file {name!r} is not a PNG or JPEG image (or it is corrupt).",
                code=errors.BAD_IMAGE,
                file=name,
            ) from None
    width, height = image.size
    if width * height > max_pixels:
        raise _too_large(name, max_pixels, width=width, height=height)
    return image


def _too_large(name: str, max_pixels: int, **dims: int) -> LimitExceededError:
    shape = f" ({dims['width']}x{dims['height']})" if dims else ""
    return LimitExceededError(
        f"The image {name!r}{shape} has more than {max_pixels} pixels "
        "(setting ADVISOR_MAX_IMAGE_PIXELS).",
        code=errors.IMAGE_TOO_LARGE,
        file=name,
        limit=max_pixels,
        **dims,
    )


# Pillow opens a 16-bit grayscale PNG in one of these modes; its ``convert("L")`` clips every
# level above 255 to white instead of scaling.
_SIXTEEN_BIT_MODES = frozenset({"I", "I;16", "I;16B", "I;16L", "I;16N"})
_SIXTEEN_TO_EIGHT = 257  # 65535 / 255: level v of 0–65535 is level v / 257 of 0–255


def eight_bit_gray(levels: np.ndarray) -> np.ndarray:
    """16-bit gray levels (0–65535) as 8-bit ones: ``round(v / 257)``, clipped to 0–255.

    257 = 65535 / 255 maps black to black and white to white, and each 8-bit level ``u``
    stored as 16 bits (``257·u``, PNG's own scaling) back to ``u``.
    """
    scaled = np.rint(np.asarray(levels, dtype=np.float64) / _SIXTEEN_TO_EIGHT)
    return np.clip(scaled, 0, 255).astype(np.uint8)


def _convert(image: Image.Image, color: ColorMode) -> Image.Image:
    if image.mode in _SIXTEEN_BIT_MODES:
        image = Image.fromarray(eight_bit_gray(np.asarray(image)))
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return image.convert(_PIL_MODE[color])
