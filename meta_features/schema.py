"""The schema of the meta-features: every name, its group and its cost tier, before extraction.

A *vector-valued* feature (one value per attribute, per attribute pair, per class or per fold)
is summarised by its mean and its standard deviation (``ddof=1``), named ``feature.mean`` and
``feature.sd`` — PyMFE's convention. A scalar feature keeps its name.

Cost tiers let callers pick cheap features (``extract(..., max_tier=Tier.LINEAR)``):

====  ==========  ==========================================================================
tier  name        cost
====  ==========  ==========================================================================
0     COUNTS      counts and ratios, ``O(N + D)``
1     LINEAR      one pass or one sort per attribute, ``O(N D log N)``
2     PAIRWISE    attribute pairs or a ``D × D`` decomposition, ``O(N D²)``
3     MODELS      cross-validated landmark models on a capped sample
4     SOURCE      needs the source network: embeddings and predictions of the data
====  ==========  ==========================================================================
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum

from meta_features.errors import BAD_OPTION, InvalidInputError


class Tier(IntEnum):
    """Cost tier of a meta-feature (see the module docstring)."""

    COUNTS = 0
    LINEAR = 1
    PAIRWISE = 2
    MODELS = 3
    SOURCE = 4


GROUPS: tuple[str, ...] = (
    "general",
    "statistical",
    "info-theory",
    "landmarking",
    "similarity",
    "transferability",
)
SOURCE_GROUPS = frozenset({"similarity", "transferability"})


@dataclass(frozen=True)
class FeatureSpec:
    """One meta-feature as declared: name, group, tier, and whether it is vector-valued."""

    name: str
    group: str
    tier: Tier
    vector: bool = False

    def output_names(self) -> tuple[str, ...]:
        """The names in the extractor's output: ``name`` or ``name.mean`` and ``name.sd``."""
        return (f"{self.name}.mean", f"{self.name}.sd") if self.vector else (self.name,)


def _specs(group: str, tier: Tier, names: str, *, vector: bool = False) -> list[FeatureSpec]:
    return [FeatureSpec(n, group, tier, vector) for n in names.split()]


FEATURES: tuple[FeatureSpec, ...] = tuple(
    _specs("general", Tier.COUNTS, "nr_inst nr_attr nr_class nr_num nr_cat nr_bin")
    + _specs("general", Tier.COUNTS, "attr_to_inst inst_to_attr cat_to_num num_to_cat")
    + _specs("general", Tier.COUNTS, "freq_class", vector=True)
    + _specs("general", Tier.COUNTS, "shots_min shots_median shots_max imbalance_ratio")
    + _specs(
        "statistical",
        Tier.LINEAR,
        "mean sd var min max median range iq_range mad skewness kurtosis",
        vector=True,
    )
    + _specs("statistical", Tier.PAIRWISE, "cor cov eigenvalues", vector=True)
    + _specs("statistical", Tier.PAIRWISE, "nr_cor_attr")
    + _specs("statistical", Tier.LINEAR, "nr_outliers")
    + _specs("statistical", Tier.LINEAR, "sparsity", vector=True)
    + _specs("statistical", Tier.PAIRWISE, "can_cor", vector=True)
    + _specs("statistical", Tier.PAIRWISE, "w_lambda")
    + _specs("info-theory", Tier.COUNTS, "class_ent")
    + _specs("info-theory", Tier.LINEAR, "attr_ent joint_ent mut_inf", vector=True)
    + _specs("info-theory", Tier.LINEAR, "eq_num_attr ns_ratio")
    + _specs("info-theory", Tier.PAIRWISE, "attr_conc", vector=True)
    + _specs("info-theory", Tier.LINEAR, "class_conc", vector=True)
    + _specs(
        "landmarking",
        Tier.MODELS,
        "one_nn best_node random_node worst_node linear_discr naive_bayes elite_nn",
        vector=True,
    )
    + _specs("similarity", Tier.SOURCE, "mmd frechet proxy_a_distance sinkhorn")
    + _specs("similarity", Tier.SOURCE, "centroid_dist", vector=True)
    + _specs(
        "transferability",
        Tier.SOURCE,
        "logme leep nce h_score h_score_shrinkage gbc transrate",
    )
)


def check_groups(groups: Iterable[str] | str | None) -> tuple[str, ...]:
    """The requested groups in schema order; ``None`` means all of them.

    Raises:
        InvalidInputError: ``meta_features.bad_option`` for an unknown group.
    """
    if groups is None:
        return GROUPS
    wanted = {groups} if isinstance(groups, str) else set(groups)
    unknown = sorted(wanted - set(GROUPS))
    if unknown:
        raise InvalidInputError(
            f"Unknown meta-feature groups {unknown}; the groups are {list(GROUPS)}.",
            code=BAD_OPTION,
        )
    return tuple(g for g in GROUPS if g in wanted)


def specs(
    groups: Iterable[str] | str | None = None, max_tier: int | None = None
) -> tuple[FeatureSpec, ...]:
    """The declared features of ``groups`` whose tier is at most ``max_tier``."""
    chosen = set(check_groups(groups))
    limit = Tier.SOURCE if max_tier is None else max_tier
    return tuple(f for f in FEATURES if f.group in chosen and f.tier <= limit)


def names(groups: Iterable[str] | str | None = None, max_tier: int | None = None) -> list[str]:
    """Every output name of ``groups`` (all groups by default), in a stable order.

    This is the schema: :func:`~meta_features.extract` returns exactly these names, with NaN
    (and a recorded reason) where a value is undefined.
    """
    return [name for spec in specs(groups, max_tier) for name in spec.output_names()]


def tier_of(name: str) -> Tier:
    """The tier of an output name such as ``"cor.mean"``."""
    base = name.rsplit(".", 1)[0] if name.endswith((".mean", ".sd")) else name
    for spec in FEATURES:
        if spec.name == base:
            return spec.tier
    raise InvalidInputError(f"Unknown meta-feature {name!r}.", code=BAD_OPTION)
