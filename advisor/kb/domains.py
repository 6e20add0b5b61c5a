"""The domains knowledge-base tasks are drawn from, and the sources they are measured against.

======================  =========================================  ==================  ======
domain name             data                                       source              kind
======================  =========================================  ==================  ======
``glyphs:<script>+``    held-out classes of a source script         ``glyphs``          in
``glyphs:<script>``     a glyph script the source never saw         ``glyphs``          cross
``digits``              real handwritten digits                     ``glyphs``          cross
``tabular:<w>:<shift>`` a shifted target of synthetic world ``w``    ``synthetic-<w>``   cross
======================  =========================================  ==================  ======

Glyph domains are rendered with 70 examples per class so that 50-shot tasks with 15 queries
fit; synthetic domains are drawn with 350 per class (drawing is cheap, and more query examples
mean less noise in every measured accuracy — see :mod:`advisor.kb.noise`). The four synthetic
worlds differ in width and number of classes (``D × K`` = 20 × 10, 10 × 20, 40 × 5, 5 × 15).
A synthetic world's source is built on its unshifted data by :func:`tabular_source`
(seconds; cached under ``ADVISOR_HOME/sources``); its targets are the covariate-shifted
(``s = 1``), concept-shifted (``c = 0.5``) and doubly shifted presets.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from advisor.datasets import Dataset, builtin_domains, load_builtin
from advisor.datasets.tasks import Task, sample_task
from advisor.sources import (
    GLYPH_SOURCE_DOMAINS,
    get_source,
    glyph_source_split,
    user_sources_dir,
)
from learners import Source, build_source, save_source
from meta_features.errors import InvalidInputError, NotFoundError

GLYPH_EXAMPLES = 70
TABULAR_EXAMPLES = 350
TABULAR_WORLDS: dict[int, dict[str, int]] = {
    0: {"n_features": 20, "n_classes": 10},
    1: {"n_features": 10, "n_classes": 20},
    2: {"n_features": 40, "n_classes": 5},
    3: {"n_features": 5, "n_classes": 15},
}
TABULAR_SHIFTS = ("synthetic_covariate", "synthetic_concept", "synthetic_both")


@dataclass(frozen=True)
class DomainRef:
    """A knowledge-base domain: its name, its source, in- or cross-domain."""

    name: str
    source: str
    kind: str

    @property
    def modality(self) -> str:
        """``"image"`` or ``"vector"``: the kind of data (a synthetic world's are vectors)."""
        return "vector" if self.source.startswith("synthetic-") else "image"


def _all_domains() -> tuple[DomainRef, ...]:
    refs = [DomainRef(f"glyphs:{d}+", "glyphs", "in") for d in GLYPH_SOURCE_DOMAINS]
    refs += [
        DomainRef(f"glyphs:{d}", "glyphs", "cross")
        for d in builtin_domains()["glyphs"]
        if d not in GLYPH_SOURCE_DOMAINS
    ]
    refs.append(DomainRef("digits", "glyphs", "cross"))
    refs += [
        DomainRef(f"tabular:{world}:{shift}", f"synthetic-{world}", "cross")
        for world in TABULAR_WORLDS
        for shift in TABULAR_SHIFTS
    ]
    return tuple(refs)


KB_DOMAINS = _all_domains()
DOMAIN_BY_NAME = {ref.name: ref for ref in KB_DOMAINS}


def domain_modality(name: str) -> str | None:
    """``"image"`` or ``"vector"``: a knowledge-base domain's kind of data (``None``: unknown)."""
    ref = DOMAIN_BY_NAME.get(name)
    return None if ref is None else ref.modality


@lru_cache(maxsize=32)
def load_domain(name: str, *, tabular_examples: int = TABULAR_EXAMPLES) -> Dataset:
    """The dataset of a knowledge-base domain (see the module docstring).

    ``tabular_examples`` is the number of examples per class of a synthetic domain (the
    learners benchmark draws its tasks from the 70 of its published tables).
    """
    if name == "digits":
        return load_builtin("digits", "handwritten", seed=0)
    if name.startswith("tabular:"):
        _, world, shift = name.split(":")
        return load_builtin(
            "tabular",
            shift,
            seed=1,
            family_seed=int(world),
            examples_per_class=tabular_examples,
            **TABULAR_WORLDS[int(world)],
        )
    script = name.removeprefix("glyphs:")
    if script.endswith("+"):
        split = glyph_source_split(script[:-1])
        rendered = load_builtin("glyphs", script[:-1], seed=0, examples_per_class=GLYPH_EXAMPLES)
        return rendered.select_classes(split.heldout_classes, name=f"{name} held-out classes")
    return load_builtin("glyphs", script, seed=1, examples_per_class=GLYPH_EXAMPLES)


def domain_capacity(domain: DomainRef) -> tuple[int, int]:
    """``(classes, smallest class size)`` of a domain."""
    data = load_domain(domain.name)
    return data.n_classes, int(np.bincount(data.y_encoded).min())


def draw_task(domain: str, *, ways: int, shots: int, queries: int, seed: int) -> Task:
    """The task a :class:`~advisor.kb.grid.TaskSpec` names."""
    return sample_task(load_domain(domain), ways=ways, shots=shots, queries=queries, seed=seed)


@lru_cache(maxsize=8)
def kb_source(name: str) -> Source:
    """A knowledge-base source by name: ``glyphs``, or a synthetic world's ``synthetic-<w>``."""
    if name.startswith("synthetic-"):
        return tabular_source(int(name.split("-")[1]))
    return get_source(name)


def tabular_source(world: int) -> Source:
    """The source of synthetic world ``world``, built once and kept under ADVISOR_HOME."""
    name = f"synthetic-{world}"
    try:
        return get_source(name)
    except (NotFoundError, InvalidInputError):
        pass  # not built yet, or damaged: build it (again) below
    data = load_builtin(
        "tabular",
        "synthetic_source",
        seed=0,
        family_seed=world,
        examples_per_class=100,
        **TABULAR_WORLDS[world],
    )
    settings: dict[str, Any] = {"pretrain_epochs": 30, "meta_episodes": 200, "seed": 0}
    source = build_source(data, name=name, **settings)
    save_source(source, user_sources_dir() / name)
    return source
