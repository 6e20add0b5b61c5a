"""Which characters become classes, and which fonts may draw each: the glyph catalogue.

A candidate code point of a domain (:mod:`~advisor.datasets.builtin.glyphs.scripts`) is drawn
by a writer (font) only if

1. the font's ``cmap`` maps it to a glyph of its own — no fallback font is ever involved;
2. the clean rendering has ink: at least ``MIN_INK_PIXELS`` pixels above half intensity;
3. the rendering is not the font's *.notdef* box ("tofu"): its distance to the rendering of a
   code point the font lacks is above ``DUPLICATE_DISTANCE``.

A candidate with fewer than ``MIN_WRITERS`` writers is dropped. Then near-duplicates are
removed: two classes are *alike* when, in at least half of the fonts that draw both, their
clean renderings are within ``DUPLICATE_DISTANCE`` of each other, where the distance of
images ``a`` and ``b`` is the relative squared error

    d(a, b) = ||a − b||² / max(||a||², ||b||²).

Identical outlines, such as Latin ``A``, Greek ``Α`` and Cyrillic ``А``, give 0, and
homoglyphs whose outlines differ by a hair (Cyrillic ``Г``, Greek ``Γ``) stay below 0.015;
letters that differ by one dot or mark (Arabic ``ث`` and ``ت``, Cyrillic ``Щ`` and ``Ш``) lie
at 0.02–0.07 and are kept apart, as a reader would keep them. Classes are
visited in priority order — domains as listed in ``SCRIPTS``, then code points ascending — and
a class alike to one already kept is dropped, with the kept twin recorded. So Latin keeps
``A`` and Greek and Cyrillic lose their look-alikes.

The catalogue depends only on the font files and the rasteriser; it is built once (a few
seconds) and cached on disk keyed by :func:`~advisor.datasets.builtin.glyphs.fonts.fingerprint`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from advisor.datasets.builtin.cache import cache_key, cached_json
from advisor.datasets.builtin.glyphs.fonts import Writer, charmap, fingerprint, writers
from advisor.datasets.builtin.glyphs.render import render_clean
from advisor.datasets.builtin.glyphs.scripts import SCRIPTS

CATALOGUE_VERSION = 1
REFERENCE_SIZE = 28
MIN_INK_PIXELS = 4
MIN_WRITERS = 2
DUPLICATE_DISTANCE = 0.02
_MISSING_PROBES = (0x0378, 0x0379, 0x0380, 0x0381, 0x0382, 0x0383)  # unassigned code points


@dataclass(frozen=True)
class GlyphClass:
    """One class: a character, its domain, and the writers (font indices) that draw it."""

    char: str
    domain: str
    writers: tuple[int, ...]

    @property
    def codepoint(self) -> int:
        """The character's Unicode code point."""
        return ord(self.char)


@dataclass(frozen=True)
class DroppedGlyph:
    """A candidate left out, and why (``"writers"`` or ``"duplicate"`` of ``twin``)."""

    char: str
    domain: str
    reason: str
    twin: str | None = None


@dataclass(frozen=True)
class Catalogue:
    """The classes of every domain, plus the candidates that were dropped."""

    classes: dict[str, tuple[GlyphClass, ...]]
    dropped: tuple[DroppedGlyph, ...]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form (for the disk cache and for docs)."""
        return {
            "classes": {
                d: [[g.char, list(g.writers)] for g in glyphs] for d, glyphs in self.classes.items()
            },
            "dropped": [[g.char, g.domain, g.reason, g.twin] for g in self.dropped],
        }

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> Catalogue:
        """Inverse of :meth:`to_json`."""
        classes = {
            domain: tuple(GlyphClass(char, domain, tuple(ws)) for char, ws in entries)
            for domain, entries in document["classes"].items()
        }
        dropped = tuple(DroppedGlyph(*entry) for entry in document["dropped"])
        return cls(classes=classes, dropped=dropped)


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    """The glyph catalogue of this installation (built once, then read from the disk cache)."""
    key = cache_key({"version": CATALOGUE_VERSION, "fonts": fingerprint(), "size": REFERENCE_SIZE})
    return Catalogue.from_json(cached_json("glyphs", f"catalogue-{key}", lambda: build().to_json()))


def build() -> Catalogue:
    """Build the catalogue from the fonts (the definition is in the module docstring)."""
    candidates = [(script.name, chr(cp)) for script in SCRIPTS for cp in script.candidates()]
    fonts = writers()
    drawn: dict[int, dict[int, np.ndarray]] = {}  # writer index -> candidate index -> image
    for writer in fonts:
        drawn[writer.index] = _drawable(writer, candidates)
    slots = [w.index for w in fonts]
    coverage = np.zeros((len(candidates), len(slots)), dtype=bool)
    for column, index in enumerate(slots):
        coverage[list(drawn[index]), column] = True
    alike = _alike_counts(drawn, len(candidates), slots)
    shared = coverage.astype(np.int32) @ coverage.T.astype(np.int32)
    duplicate = (shared > 0) & (2 * alike >= shared)

    classes: dict[str, list[GlyphClass]] = {script.name: [] for script in SCRIPTS}
    dropped: list[DroppedGlyph] = []
    kept: list[int] = []
    for i, (domain, char) in enumerate(candidates):
        writer_ids = tuple(slots[c] for c in np.flatnonzero(coverage[i]))
        if len(writer_ids) < MIN_WRITERS:
            dropped.append(DroppedGlyph(char, domain, "writers"))
            continue
        twin = next((k for k in kept if duplicate[i, k]), None)
        if twin is not None:
            dropped.append(DroppedGlyph(char, domain, "duplicate", candidates[twin][1]))
            continue
        kept.append(i)
        classes[domain].append(GlyphClass(char, domain, writer_ids))
    return Catalogue(
        classes={d: tuple(glyphs) for d, glyphs in classes.items() if len(glyphs) >= 2},
        dropped=tuple(dropped),
    )


def _drawable(writer: Writer, candidates: list[tuple[str, str]]) -> dict[int, np.ndarray]:
    """Renderings of the candidates this writer really draws (rules 1–3)."""
    mapped = charmap(writer)
    probe = next(cp for cp in _MISSING_PROBES if cp not in mapped)
    tofu = render_clean(writer, chr(probe), REFERENCE_SIZE).astype(np.float32)
    result = {}
    for i, (_, char) in enumerate(candidates):
        if ord(char) not in mapped:
            continue
        image = render_clean(writer, char, REFERENCE_SIZE).astype(np.float32)
        if int((image > 127).sum()) < MIN_INK_PIXELS:
            continue
        if tofu.any() and relative_distance(image, tofu) <= DUPLICATE_DISTANCE:
            continue
        result[i] = image
    return result


def relative_distance(a: np.ndarray, b: np.ndarray) -> float:
    """``||a − b||² / max(||a||², ||b||²)``, 0 for identical images (see module docstring)."""
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    denominator = max(float((a64**2).sum()), float((b64**2).sum()), 1e-12)
    return float(((a64 - b64) ** 2).sum() / denominator)


def _alike_counts(
    drawn: dict[int, dict[int, np.ndarray]], n_candidates: int, slots: list[int]
) -> np.ndarray:
    """For each candidate pair, in how many fonts their renderings are alike."""
    counts = np.zeros((n_candidates, n_candidates), dtype=np.int32)
    for index in slots:
        rows = np.array(sorted(drawn[index]), dtype=np.int64)
        if rows.size < 2:
            continue
        images = np.stack([drawn[index][r].ravel() for r in rows]).astype(np.float64)
        norms = (images**2).sum(axis=1)
        squared = norms[:, None] + norms[None, :] - 2.0 * images @ images.T
        distance = np.maximum(squared, 0.0) / np.maximum(np.maximum.outer(norms, norms), 1e-12)
        close = distance <= DUPLICATE_DISTANCE
        np.fill_diagonal(close, False)
        counts[np.ix_(rows, rows)] += close.astype(np.int32)
    return counts
