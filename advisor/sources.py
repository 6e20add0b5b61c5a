"""Sources the advisor offers: the built-in ``glyphs`` source, and sources users build.

**The built-in ``glyphs`` source** is built from a documented subset of the glyph scripts —
:data:`GLYPH_SOURCE_DOMAINS`: Latin upper and lower case, Cyrillic, Armenian, mathematical
operators and box drawing, scripts of letters and of symbols — on 70 % of each script's
classes (:func:`glyph_source_split`, seeded). The other 30 % of those classes are the
*in-domain* targets (new classes of familiar scripts); every other glyph script, the real
handwritten digits and the tabular domains are *cross-domain* targets. The built source ships
inside the package (``learners/data/sources/glyphs``); ``advisor sources build glyphs``
rebuilds it.

**User sources** are built from any labeled file with ``advisor sources build-from`` and kept
under ``$ADVISOR_HOME/sources/<name>``, where :func:`get_source` finds them by name.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from advisor.datasets import ClassSplit, Dataset, load_builtin, make_dataset, split_classes
from advisor.datasets.dataset import Provenance
from advisor.settings import get_settings
from learners import Source, build_source, load_source, save_source

GLYPH_SOURCE_DOMAINS = (
    "latin_upper",
    "latin_lower",
    "cyrillic",
    "armenian",
    "math_operators",
    "box_drawing",
)
HELDOUT_SHARE = 0.3
SPLIT_SEED = 0
GLYPH_BUILD: dict[str, Any] = {
    "backbone": "conv4",
    "pretrain_epochs": 10,
    "meta_episodes": {"protonet": 300, "maml": 40, "fomaml": 60, "anil": 60},
    "meta_ways": 5,
    "meta_shots": 5,
    "meta_queries": 5,
    "seed": 0,
}
"""How the shipped ``glyphs`` source is built (see :func:`build_glyphs_source`)."""


def user_sources_dir() -> Path:
    """Where sources users build are kept: ``$ADVISOR_HOME/sources``."""
    return get_settings().home / "sources"


def get_source(name_or_path: str | Path | Source) -> Source:
    """A source by object, path, or name (user sources first, then built-in ones).

    Raises:
        NotFoundError: ``learners.unknown_source``.
    """
    return load_source(name_or_path, search_paths=(user_sources_dir(),))


def glyph_source_split(domain: str) -> ClassSplit:
    """The seeded split of a source script's classes into source (70 %) and held-out (30 %)."""
    dataset = load_builtin("glyphs", domain, seed=0)
    return split_classes(dataset, heldout=HELDOUT_SHARE, seed=SPLIT_SEED)


def concatenate(datasets: list[Dataset], *, name: str) -> Dataset:
    """One dataset of the rows of several (same modality and shape; labels kept as they are)."""
    return make_dataset(
        np.concatenate([d.X for d in datasets]),
        np.concatenate([d.y for d in datasets]),
        groups=None
        if any(d.groups is None for d in datasets)
        else np.concatenate([d.groups for d in datasets]),
        provenance=Provenance(name=name, format="builtin"),
    )


def glyph_source_data() -> Dataset:
    """The training data of the ``glyphs`` source: the source classes of every source script."""
    parts = [glyph_source_split(domain).source for domain in GLYPH_SOURCE_DOMAINS]
    return concatenate(parts, name="glyphs source classes")


def build_glyphs_source(
    out: str | Path | None = None,
    *,
    progress: Callable[[str], None] | None = None,
    **overrides: Any,
) -> Source:
    """Build the ``glyphs`` source with :data:`GLYPH_BUILD` (or ``overrides``), saved to ``out``."""
    settings = {**GLYPH_BUILD, **overrides}
    source = build_source(glyph_source_data(), name="glyphs", progress=progress, **settings)
    source.info["domains"] = list(GLYPH_SOURCE_DOMAINS)
    source.info["heldout_share"] = HELDOUT_SHARE
    if out is not None:
        save_source(source, out)
    return source


def build_user_source(
    dataset: Dataset,
    name: str,
    *,
    progress: Callable[[str], None] | None = None,
    **settings: Any,
) -> Path:
    """Build a source from a user's dataset and keep it under :func:`user_sources_dir`."""
    source = build_source(dataset, name=name, progress=progress, **settings)
    source.info["dataset"] = dataset.info.model_dump(mode="json", include={"name", "sha256"})
    return save_source(source, user_sources_dir() / name)
