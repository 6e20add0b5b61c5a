"""The built-in benchmark domains: the project's own meta-dataset, all offline and seeded.

* ``glyphs`` — characters of many scripts rendered from the fonts inside matplotlib
  (Omniglot-style: a class per character, a domain per script, a writer per font);
* ``digits`` — scikit-learn's real handwritten digits, up-sampled to 28×28;
* ``tabular`` — scikit-learn's bundled tables and synthetic families with controllable
  covariate and concept shift.

``docs/DATASETS.md`` describes every domain with its class count and sample images.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from advisor import errors
from advisor.datasets.builtin.base import BuiltinFamily, DomainCard
from advisor.datasets.builtin.digits import DigitsFamily
from advisor.datasets.builtin.glyphs import GlyphsFamily
from advisor.datasets.builtin.tabular import TabularFamily
from advisor.datasets.dataset import Dataset
from advisor.errors import NotFoundError


@lru_cache(maxsize=1)
def families() -> dict[str, BuiltinFamily]:
    """The built-in families by name."""
    return {family.name: family for family in (GlyphsFamily(), DigitsFamily(), TabularFamily())}


def get_family(name: str) -> BuiltinFamily:
    """The family called ``name``.

    Raises:
        NotFoundError: ``builtin.unknown_family``.
    """
    try:
        return families()[name]
    except KeyError:
        raise NotFoundError(
            f"There is no built-in family {name!r}; there are: {', '.join(families())}.",
            code=errors.UNKNOWN_FAMILY,
            family=name,
        ) from None


def builtin_domains() -> dict[str, list[str]]:
    """Every built-in family with its domain names, e.g. ``{"glyphs": ["latin_upper", …]}``."""
    return {name: family.domains() for name, family in families().items()}


def domain_cards() -> list[DomainCard]:
    """A :class:`DomainCard` (classes, shape, description) for every built-in domain."""
    return [family.card(d) for family in families().values() for d in family.domains()]


def load_builtin(family: str, domain: str, *, seed: int = 0, **options: Any) -> Dataset:
    """Load a built-in domain as a :class:`~advisor.datasets.Dataset`.

    Args:
        family: ``"glyphs"``, ``"digits"`` or ``"tabular"``.
        domain: one of ``builtin_domains()[family]``.
        seed: the seed of every random step; the same seed gives the same bytes.
        **options: family options (e.g. ``examples_per_class=20``, ``augment=1.0`` for glyphs;
            ``covariate_shift=…`` for synthetic tables).

    Raises:
        NotFoundError: ``builtin.unknown_family`` or ``builtin.unknown_domain``.
        ConfigurationError: ``builtin.bad_option``.

    Example:
        >>> greek = load_builtin("glyphs", domain="greek", seed=0)      # doctest: +SKIP
        >>> greek.X.shape                                               # doctest: +SKIP
        (680, 28, 28)
    """
    return get_family(family).load(domain, seed=seed, **options)


__all__ = [
    "BuiltinFamily",
    "DomainCard",
    "builtin_domains",
    "domain_cards",
    "families",
    "get_family",
    "load_builtin",
]
