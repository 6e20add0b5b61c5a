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

from meta_features import similarity, transferability
from meta_features.config import ExtractConfig
from meta_features.errors import AdvisorError
from meta_features.extract import extract
from meta_features.result import MetaFeatures, Missing
from meta_features.schema import FEATURES, GROUPS, FeatureSpec, Tier, names, tier_of
from meta_features.source import SourceProfile

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
