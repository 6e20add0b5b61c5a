"""Backbones, sources, and the transfer / meta / hybrid / scratch learner families.

::

    from learners import load_source, build_source, make_learner
    src = load_source("glyphs")                                   # the built-in source
    model = make_learner("meta", source=src, variant="protonet")  # scikit-learn style
    model.fit(X_support, y_support).predict(X_query)

This package may import :mod:`meta_features` (a source hands it a ``SourceProfile``) and
nothing above it.
"""

from learners.build import build_source
from learners.families.base import Learner, saved_source_name
from learners.registry import FAMILIES, default_variant, learner_class, make_learner, variants
from learners.source import META_ALGORITHMS, Source
from learners.store import builtin_sources, load_source, read_source, save_source

__all__ = [
    "FAMILIES",
    "META_ALGORITHMS",
    "Learner",
    "Source",
    "build_source",
    "builtin_sources",
    "default_variant",
    "learner_class",
    "load_source",
    "make_learner",
    "read_source",
    "save_source",
    "saved_source_name",
    "variants",
]
