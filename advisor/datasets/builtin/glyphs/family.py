"""The ``glyphs`` family: an Omniglot-style few-shot benchmark rendered from bundled fonts.

Every character is a class, every Unicode script or block a domain
(:mod:`~advisor.datasets.builtin.glyphs.scripts`), every font a writer
(:mod:`~advisor.datasets.builtin.glyphs.fonts`). Example ``i`` of a class is drawn by writer
``w_i`` — the class's writers in a seeded random order, cycled — and augmented
(:mod:`~advisor.datasets.builtin.glyphs.render`) with a generator seeded by
``(seed, code point, i)`` alone, so an example does not depend on which other classes or
domains are rendered, and the same seed gives the same bytes. ``groups`` holds the writer of
each example, for splits by writer.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image
from pydantic import Field

from advisor.datasets.builtin.base import BuiltinFamily, DomainCard, FamilyOptions
from advisor.datasets.builtin.cache import cache_key, cached_arrays
from advisor.datasets.builtin.glyphs.catalogue import GlyphClass, catalogue
from advisor.datasets.builtin.glyphs.fonts import fingerprint, writers
from advisor.datasets.builtin.glyphs.render import augment, draw_clean
from advisor.datasets.builtin.glyphs.scripts import SCRIPT_BY_NAME
from advisor.datasets.dataset import Dataset, Provenance, make_dataset

RENDER_VERSION = 1
_SALT = 0x61796C67  # keeps these streams apart from other seeded generators


class GlyphOptions(FamilyOptions):
    """Options of a glyph domain."""

    examples_per_class: int = Field(20, ge=1, le=1000, description="Examples drawn per class.")
    image_size: int = Field(28, ge=8, le=128, description="Side of the square images, pixels.")
    augment: float = Field(
        1.0, ge=0.0, le=2.0, description="Augmentation strength; 0 gives clean renderings."
    )


def render_domain(
    domain: str, *, seed: int, examples_per_class: int, image_size: int, augment_strength: float
) -> dict[str, np.ndarray]:
    """Render every class of ``domain``: ``images`` (N, S, S) uint8, ``labels``, ``writers``."""
    by_index = {writer.index: writer for writer in writers()}
    images, labels, writer_ids = [], [], []
    for glyph in catalogue().classes[domain]:
        order = _writer_order(glyph, seed)
        clean: dict[int, Image.Image] = {}
        for i in range(examples_per_class):
            writer = order[i % len(order)]
            if writer not in clean:
                clean[writer] = draw_clean(by_index[writer], glyph.char, image_size)
            rng = np.random.default_rng([_SALT, seed, glyph.codepoint, i])
            images.append(
                augment(clean[writer], rng, strength=augment_strength, image_size=image_size)
            )
            labels.append(glyph.char)
            writer_ids.append(writer)
    return {
        "images": np.stack(images),
        "labels": np.array(labels, dtype=str),
        "writers": np.array(writer_ids, dtype=np.int64),
    }


def _writer_order(glyph: GlyphClass, seed: int) -> list[int]:
    rng = np.random.default_rng([_SALT, seed, glyph.codepoint])
    return [glyph.writers[i] for i in rng.permutation(len(glyph.writers))]


class GlyphsFamily(BuiltinFamily):
    """Glyph domains: 28×28 grayscale characters, one class per character."""

    name = "glyphs"
    options_model = GlyphOptions

    def domains(self) -> list[str]:
        """Domains that kept at least two classes, in priority order."""
        return list(catalogue().classes)

    def card(self, domain: str) -> DomainCard:
        """Class count and description of one domain."""
        self.check_domain(domain)
        defaults = GlyphOptions()
        glyphs = catalogue().classes[domain]
        n_writers = len({w for g in glyphs for w in g.writers})
        return DomainCard(
            family=self.name,
            domain=domain,
            modality="image",
            n_classes=len(glyphs),
            examples_per_class=defaults.examples_per_class,
            input_shape=(defaults.image_size, defaults.image_size),
            description=f"{SCRIPT_BY_NAME[domain].description} ({n_writers} fonts)",
        )

    def _load(self, domain: str, *, seed: int, options: Any) -> Dataset:
        assert isinstance(options, GlyphOptions)
        key = cache_key(
            {
                "version": RENDER_VERSION,
                "fonts": fingerprint(),
                "domain": domain,
                "seed": seed,
                **options.model_dump(),
            }
        )
        arrays = cached_arrays(
            "glyphs",
            f"{domain}-{key}",
            lambda: render_domain(
                domain,
                seed=seed,
                examples_per_class=options.examples_per_class,
                image_size=options.image_size,
                augment_strength=options.augment,
            ),
        )
        return make_dataset(
            arrays["images"],
            arrays["labels"],
            modality="image",
            groups=arrays["writers"],
            provenance=Provenance(name=f"glyphs/{domain}", format="builtin"),
        )
