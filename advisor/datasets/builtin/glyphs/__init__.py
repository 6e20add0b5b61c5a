"""The ``glyphs`` benchmark family (see :mod:`~advisor.datasets.builtin.glyphs.family`)."""

from advisor.datasets.builtin.glyphs.catalogue import Catalogue, GlyphClass, catalogue
from advisor.datasets.builtin.glyphs.family import GlyphOptions, GlyphsFamily, render_domain
from advisor.datasets.builtin.glyphs.scripts import SCRIPTS

__all__ = [
    "SCRIPTS",
    "Catalogue",
    "GlyphClass",
    "GlyphOptions",
    "GlyphsFamily",
    "catalogue",
    "render_domain",
]
