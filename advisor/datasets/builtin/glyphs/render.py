"""Drawing one glyph, clean or with seeded augmentation, into a small grayscale image.

Pipeline (all steps at ``SUPERSAMPLE``× the output resolution, then box-filtered down, so
edges are anti-aliased the same way at every size):

1. **Draw** the character with Pillow/FreeType at ``EM_FRACTION`` × the image size per em,
   its layout box centred (see :func:`draw_clean`); glyphs whose ink would reach beyond
   ``FIT_FRACTION`` of the image are drawn smaller, so a tall integral sign stays whole.
2. **Stroke weight**: a grey-level dilation or erosion (max/min filter) of radius
   ``r ~ round(U(-1.5, 1.5)·s)`` super-sampled pixels, ``|r| ≤ 2``; an erosion that would
   remove more than ``1 − MIN_INK_KEPT`` of the ink (a hairline glyph) is skipped.
3. **Affine jitter** about the centre: rotation ``θ ~ N(0, 8°)·s`` (clipped to ±20°),
   shear ``k ~ N(0, 0.12)·s``, per-axis scale ``exp(N(0, 0.08)·s)``, translation
   ``N(0, 1)·s`` output pixels, bilinear resampling.
4. **Down-sample** by area averaging (box filter) to the output size.
5. **Blur**: Gaussian of radius ``|N(0, 0.35)|·s`` pixels, then the levels are stretched so
   the brightest pixel is full intensity (a small or thin glyph stays as dark as a big one).
6. **Noise**: additive Gaussian, standard deviation ``U(0, 0.03)·s`` of full scale, clipped.

``s`` is the augmentation strength (0 gives the clean rendering). Each step draws its random
numbers whatever ``s`` is, so the random stream, and therefore the result, depends only on the
seed. Ink is bright (255) on a dark (0) background, the MNIST convention. This follows the
spirit of the affine and stroke augmentations used with Omniglot (Lake et al. 2015; Santoro et
al. 2016) on top of font variation.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from advisor.datasets.builtin.glyphs.fonts import Writer, truetype

SUPERSAMPLE = 4
EM_FRACTION = 0.75
FIT_FRACTION = 0.92
MIN_INK_KEPT = 0.6


def draw_clean(writer: Writer, char: str, image_size: int) -> Image.Image:
    """The character drawn on a super-sampled square canvas (mode ``"L"``), as text is laid out.

    The canvas is ``image_size * SUPERSAMPLE`` pixels square. The centre of the glyph's layout
    box — half its advance width, half-way between the font's ascender and descender — is put
    at the centre of the canvas, so a glyph keeps its size and its position relative to the
    baseline (``o`` is smaller and lower than ``O``; a Braille dot keeps its place in the cell).
    A glyph whose ink would reach beyond ``FIT_FRACTION`` of the canvas is drawn smaller.
    """
    canvas_size = image_size * SUPERSAMPLE
    canvas = Image.new("L", (canvas_size, canvas_size), 0)
    em = round(EM_FRACTION * canvas_size)
    reach = _reach(writer, char, em)
    if reach is None:
        return canvas
    limit = FIT_FRACTION * canvas_size / 2.0
    if reach > limit:
        em = max(1, int(em * limit / reach))
    centre = canvas_size / 2.0
    ImageDraw.Draw(canvas).text(
        (centre, centre), char, font=truetype(writer, em), fill=255, anchor="mm"
    )
    return canvas


def _reach(writer: Writer, char: str, em: int) -> float | None:
    """Largest distance of the glyph's ink box from its layout centre, ``None`` without ink."""
    left, top, right, bottom = truetype(writer, em).getbbox(char, anchor="mm")
    if right <= left or bottom <= top:
        return None
    return float(max(abs(left), abs(right), abs(top), abs(bottom)))


def downsample(canvas: Image.Image, image_size: int) -> np.ndarray:
    """Area-average a super-sampled canvas down to ``image_size`` square, as uint8."""
    small = canvas.resize((image_size, image_size), Image.Resampling.BOX)
    return np.asarray(small, dtype=np.uint8)


def render_clean(writer: Writer, char: str, image_size: int) -> np.ndarray:
    """The un-augmented rendering, uint8 ``(image_size, image_size)``."""
    return downsample(draw_clean(writer, char, image_size), image_size)


def augment(
    clean: Image.Image, rng: np.random.Generator, *, strength: float, image_size: int
) -> np.ndarray:
    """Apply steps 2–6 of the module docstring to a clean super-sampled canvas."""
    radius = int(np.clip(round(rng.uniform(-1.5, 1.5) * strength), -2, 2))
    angle = float(np.clip(rng.normal(0.0, 8.0) * strength, -20.0, 20.0))
    shear = float(rng.normal(0.0, 0.12) * strength)
    scale_x, scale_y = np.exp(rng.normal(0.0, 0.08, size=2) * strength)
    shift_x, shift_y = rng.normal(0.0, 1.0, size=2) * strength * SUPERSAMPLE
    blur = abs(float(rng.normal(0.0, 0.35))) * strength
    noise_sd = float(rng.uniform(0.0, 0.03)) * strength * 255.0
    noise = rng.standard_normal((image_size, image_size))

    image = clean
    if radius > 0:
        image = image.filter(ImageFilter.MaxFilter(2 * radius + 1))
    elif radius < 0:
        thinner = image.filter(ImageFilter.MinFilter(2 * -radius + 1))
        if _ink_mass(thinner) >= MIN_INK_KEPT * _ink_mass(image):
            image = thinner
    image = _affine(
        image,
        angle_deg=angle,
        shear=shear,
        scale_x=float(scale_x),
        scale_y=float(scale_y),
        shift_x=shift_x,
        shift_y=shift_y,
    )
    small = image.resize((image_size, image_size), Image.Resampling.BOX)
    if blur > 0.05:
        small = small.filter(ImageFilter.GaussianBlur(radius=blur))
    pixels = np.asarray(small, dtype=np.float64)
    peak = float(pixels.max())
    if peak > 0.0:
        pixels *= 255.0 / peak
    pixels += noise * noise_sd
    return np.clip(np.rint(pixels), 0, 255).astype(np.uint8)


def _ink_mass(image: Image.Image) -> float:
    return float(np.asarray(image, dtype=np.float64).sum())


def _affine(
    image: Image.Image,
    *,
    angle_deg: float,
    shear: float,
    scale_x: float,
    scale_y: float,
    shift_x: float,
    shift_y: float,
) -> Image.Image:
    """Rotate, shear and scale about the centre, then translate (bilinear).

    The forward map is ``p' = c + t + R(θ)·K(k)·S(sx, sy)·(p − c)``; Pillow wants the inverse
    (output → input) as the six coefficients of a 2×3 matrix.
    """
    theta = math.radians(angle_deg)
    cos, sin = math.cos(theta), math.sin(theta)
    rotation = np.array([[cos, -sin], [sin, cos]])
    shearing = np.array([[1.0, shear], [0.0, 1.0]])
    scaling = np.diag([scale_x, scale_y])
    inverse = np.linalg.inv(rotation @ shearing @ scaling)
    centre = np.array([image.width / 2.0, image.height / 2.0])
    offset = centre - inverse @ (centre + np.array([shift_x, shift_y]))
    coefficients = (
        inverse[0, 0],
        inverse[0, 1],
        offset[0],
        inverse[1, 0],
        inverse[1, 1],
        offset[1],
    )
    return image.transform(
        image.size, Image.Transform.AFFINE, coefficients, resample=Image.Resampling.BILINEAR
    )
