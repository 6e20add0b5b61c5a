"""``make_learner``: every family and variant behind one name-based constructor."""

from __future__ import annotations

from typing import Any

from learners.errors import UNKNOWN_FAMILY, UNKNOWN_VARIANT, NotFoundError
from learners.families.base import Learner
from learners.families.hybrid import ProtoMAML
from learners.families.meta import ANIL, FOMAML, MAML, ProtoNet
from learners.families.scratch import (
    GradientBoostingLearner,
    LogisticRegressionLearner,
    ScratchNetwork,
)
from learners.families.transfer import BaselinePlusPlus, FineTune, LinearProbe
from learners.source import Source
from learners.store import load_source

FAMILIES: dict[str, dict[str, type[Learner]]] = {
    "transfer": {
        "finetune": FineTune,
        "linear_probe": LinearProbe,
        "baseline_pp": BaselinePlusPlus,
    },
    "meta": {"protonet": ProtoNet, "maml": MAML, "fomaml": FOMAML, "anil": ANIL},
    "hybrid": {"protomaml": ProtoMAML},
    "scratch": {
        "logreg": LogisticRegressionLearner,
        "gbm": GradientBoostingLearner,
        "cnn": ScratchNetwork,
    },
}
"""Every family's variants; the first variant of each family is its default."""


def variants(family: str) -> list[str]:
    """The variants of ``family``, default first.

    Raises:
        NotFoundError: ``learners.unknown_family``.
    """
    if family not in FAMILIES:
        raise NotFoundError(
            f"Unknown learner family {family!r}; the families are {list(FAMILIES)}.",
            code=UNKNOWN_FAMILY,
        )
    return list(FAMILIES[family])


def default_variant(family: str) -> str:
    """The variant ``make_learner`` uses when none is named."""
    return variants(family)[0]


def learner_class(family: str, variant: str | None = None) -> type[Learner]:
    """The class of ``family``/``variant``.

    Raises:
        NotFoundError: ``learners.unknown_family`` or ``learners.unknown_variant``.
    """
    names = variants(family)
    chosen = variant or names[0]
    if chosen not in FAMILIES[family]:
        raise NotFoundError(
            f"The {family} family has no variant {chosen!r}; it has {names}.",
            code=UNKNOWN_VARIANT,
        )
    return FAMILIES[family][chosen]


def make_learner(
    family: str,
    *,
    source: Source | str | None = None,
    variant: str | None = None,
    **params: Any,
) -> Learner:
    """A learner of ``family`` (``transfer``, ``meta``, ``hybrid``, ``scratch``).

    Args:
        family: the learning family.
        source: the :class:`~learners.source.Source` (or its name or folder) to start from;
            not needed by ``scratch``.
        variant: the family's variant (its default when omitted, see :data:`FAMILIES`).
        **params: hyper-parameters of the variant (see its class).

    Example:
        >>> model = make_learner("meta", source="glyphs", variant="protonet")  # doctest: +SKIP
        >>> model.fit(X_support, y_support).predict(X_query)                   # doctest: +SKIP
    """
    cls = learner_class(family, variant)
    loaded = None if source is None else load_source(source)
    return cls(source=loaded, **params)
