"""Meta-features of labeled datasets: pure functions on arrays.

The advisor sees a dataset through its meta-features (Rivolli et al. 2022): sizes and ratios,
attribute statistics, information theory, landmark learners, and — given a source domain —
similarity of the data to the source and transferability of the source's features. ::

    import meta_features as mf
    mf.names()                                  # the schema, known before extraction
    features = mf.extract(X, y, source=profile) # mapping name -> float, with .reasons
    mf.transferability.logme(F, y)              # the scores as plain functions
    mf.similarity.mmd(A, B)

This package imports numpy, scipy, scikit-learn and POT only; a source reaches it as a
:class:`SourceProfile`.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from meta_features import similarity, transferability
    from meta_features.config import ExtractConfig
    from meta_features.errors import AdvisorError
    from meta_features.extraction import extract
    from meta_features.result import MetaFeatures, Missing
    from meta_features.schema import FEATURES, GROUPS, FeatureSpec, Tier, names, tier_of
    from meta_features.source import SourceProfile

# Where each public name lives. They load on first use (PEP 562): scikit-learn, SciPy and POT
# take seconds to import, and a program that only needs ``meta_features.errors`` (the
# advisor's error hierarchy, its command line's ``--help``) should not pay for them.
_HOMES = {
    "similarity": "meta_features.similarity",
    "transferability": "meta_features.transferability",
    "ExtractConfig": "meta_features.config",
    "AdvisorError": "meta_features.errors",
    "extract": "meta_features.extraction",
    "MetaFeatures": "meta_features.result",
    "Missing": "meta_features.result",
    "FEATURES": "meta_features.schema",
    "GROUPS": "meta_features.schema",
    "FeatureSpec": "meta_features.schema",
    "Tier": "meta_features.schema",
    "names": "meta_features.schema",
    "tier_of": "meta_features.schema",
    "SourceProfile": "meta_features.source",
}


_MODULES = frozenset({"similarity", "transferability"})


def __getattr__(name: str) -> Any:
    """Load a public name from its module on first use."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'meta_features' has no attribute {name!r}")
    module = import_module(home)
    value = module if name in _MODULES else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))


__all__ = [
    "FEATURES",
    "GROUPS",
    "AdvisorError",
    "ExtractConfig",
    "FeatureSpec",
    "MetaFeatures",
    "Missing",
    "SourceProfile",
    "Tier",
    "extract",
    "names",
    "similarity",
    "tier_of",
    "transferability",
]
