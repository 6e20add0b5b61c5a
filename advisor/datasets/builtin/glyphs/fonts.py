"""The *writers* of the glyphs benchmark: TrueType fonts that ship inside matplotlib.

Each font plays the part a human writer plays in Omniglot (Lake et al. 2015): the same
character drawn in another hand. The sixteen writers are the DejaVu Sans, Serif and Sans Mono
families in regular, bold, oblique/italic and bold-oblique (twelve fonts), and STIX General in
the same four styles. Matplotlib's ``LastResortHE`` font is left out on purpose: it draws a
placeholder box for every code point, the very "tofu" the benchmark must not contain.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import matplotlib
from matplotlib.ft2font import FT2Font
from PIL import ImageFont, features

WRITER_FILES = (
    "DejaVuSans.ttf",
    "DejaVuSans-Bold.ttf",
    "DejaVuSans-Oblique.ttf",
    "DejaVuSans-BoldOblique.ttf",
    "DejaVuSerif.ttf",
    "DejaVuSerif-Bold.ttf",
    "DejaVuSerif-Italic.ttf",
    "DejaVuSerif-BoldItalic.ttf",
    "DejaVuSansMono.ttf",
    "DejaVuSansMono-Bold.ttf",
    "DejaVuSansMono-Oblique.ttf",
    "DejaVuSansMono-BoldOblique.ttf",
    "STIXGeneral.ttf",
    "STIXGeneralBol.ttf",
    "STIXGeneralItalic.ttf",
    "STIXGeneralBolIta.ttf",
)


@dataclass(frozen=True)
class Writer:
    """One font, identified by its position in :data:`WRITER_FILES`."""

    index: int
    name: str
    path: Path


def font_directory() -> Path:
    """Matplotlib's directory of bundled TrueType fonts."""
    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


@lru_cache(maxsize=1)
def writers() -> tuple[Writer, ...]:
    """The writers whose font file is present (all sixteen in any matplotlib ≥ 3.0)."""
    directory = font_directory()
    found = []
    for index, filename in enumerate(WRITER_FILES):
        path = directory / filename
        if path.is_file():
            found.append(Writer(index=index, name=path.stem, path=path))
    return tuple(found)


@cache
def charmap(writer: Writer) -> frozenset[int]:
    """The code points the font maps to a glyph of its own (its ``cmap`` table)."""
    return frozenset(FT2Font(str(writer.path)).get_charmap())


@lru_cache(maxsize=64)
def truetype(writer: Writer, size: int) -> ImageFont.FreeTypeFont:
    """The font loaded by Pillow at ``size`` pixels per em."""
    return ImageFont.truetype(str(writer.path), size=size)


@lru_cache(maxsize=1)
def fingerprint() -> str:
    """A hash of the font files and the rasteriser versions: what the pixels depend on."""
    digest = hashlib.sha256()
    for writer in writers():
        digest.update(writer.name.encode() + hashlib.sha256(writer.path.read_bytes()).digest())
    digest.update(str(features.version("freetype2")).encode())
    digest.update(str(features.version("pil")).encode())
    return digest.hexdigest()[:24]
