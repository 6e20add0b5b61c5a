"""Meta-features of labeled datasets: pure functions on arrays.

The meta-feature groups, source similarity and transferability scores are the subject of the
meta-features issue; today this package holds the project's exception hierarchy
(:mod:`meta_features.errors`), which lives here, at the bottom of the import graph, so that
every package can raise it.
"""

from meta_features.errors import AdvisorError

__all__ = ["AdvisorError"]
