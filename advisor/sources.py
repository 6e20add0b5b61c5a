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

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from advisor.datasets import ClassSplit, Dataset, load_builtin, make_dataset, split_classes
from advisor.datasets.dataset import Provenance
from advisor.errors import SOURCE_BAD_NAME, SOURCE_EXISTS, ConfigurationError, ConflictError
from advisor.settings import get_settings
from advisor.wire import SOURCE_NAME_PATTERN
from learners import Source, build_source, builtin_sources, load_source, save_source

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


SOURCE_NAME = re.compile(SOURCE_NAME_PATTERN)
"""A user source's name: a folder name on every system, and the service's rule too."""
KB_SOURCE_PREFIX = "synthetic-"
"""The knowledge base's own table sources (``synthetic-<world>``), kept beside users' sources."""


def check_source_name(name: str, *, replace: bool | None = False) -> str:
    """``name`` if a user's new source may take it.

    It must match :data:`SOURCE_NAME`, and not be a built-in source's or the knowledge base's
    (``synthetic-…``, whose tables the advisor treats as its own measurements). A name already
    taken by a source under :func:`user_sources_dir` is refused unless ``replace``;
    ``replace=None`` leaves that to the caller (the service keeps its tenants' sources
    elsewhere).

    Raises:
        ConfigurationError: ``source.bad_name``.
        ConflictError: ``source.exists``.
    """
    if not SOURCE_NAME.fullmatch(name):
        raise ConfigurationError(
            f"{name!r} is not a source name: 2-40 characters of a-z, 0-9, '_' and '-', "
            "starting with a letter.",
            code=SOURCE_BAD_NAME,
        )
    if name.startswith(KB_SOURCE_PREFIX):
        raise ConfigurationError(
            f"Names starting with {KB_SOURCE_PREFIX!r} belong to the knowledge base's own "
            "sources; choose another.",
            code=SOURCE_BAD_NAME,
        )
    if name in builtin_sources():
        raise ConflictError(f"{name!r} is a built-in source.", code=SOURCE_EXISTS)
    if replace is False and (user_sources_dir() / name).exists():
        raise ConflictError(
            f"You have a source {name!r} already; choose another name, or replace it "
            "(--replace, replace=True).",
            code=SOURCE_EXISTS,
        )
    return name


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
    replace: bool = False,
    **settings: Any,
) -> Path:
    """Build a source from a user's dataset and keep it under :func:`user_sources_dir`.

    The name is checked (:func:`check_source_name`) before anything is built; with
    ``replace``, a user source of that name is replaced once the new one is built.

    Raises:
        ConfigurationError: ``source.bad_name``.
        ConflictError: ``source.exists``.
    """
    check_source_name(name, replace=replace)
    source = build_source(dataset, name=name, progress=progress, **settings)
    source.info["dataset"] = dataset.info.model_dump(mode="json", include={"name", "sha256"})
    folder = user_sources_dir() / name
    if replace and folder.exists():
        shutil.rmtree(folder)
    return save_source(source, folder)
