"""``extract``: every requested meta-feature of a labeled dataset, with reasons and timings."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from meta_features._checks import as_labels
from meta_features.config import ExtractConfig
from meta_features.context import Context
from meta_features.errors import BAD_SHAPE, NON_FINITE, TOO_FEW_EXAMPLES, InvalidInputError
from meta_features.groups import (
    general,
    info_theory,
    landmarking,
    source_similarity,
    source_transferability,
    statistical,
)
from meta_features.groups._common import Value
from meta_features.result import MetaFeatures, Missing
from meta_features.schema import FeatureSpec, Tier, specs
from meta_features.source import SourceProfile

GroupFunction = Callable[[Context, frozenset[str]], dict[str, Value]]

COMPUTE: dict[str, GroupFunction] = {
    "general": general.compute,
    "statistical": statistical.compute,
    "info-theory": info_theory.compute,
    "landmarking": landmarking.compute,
    "similarity": source_similarity.compute,
    "transferability": source_transferability.compute,
}


def extract(
    X: Any,
    y: Any,
    *,
    groups: Iterable[str] | str | None = None,
    source: SourceProfile | None = None,
    random_state: int = 0,
    categorical: Sequence[bool] | np.ndarray | None = None,
    max_tier: int | None = None,
    config: ExtractConfig | None = None,
) -> MetaFeatures:
    """Extract the meta-features of a labeled dataset.

    Args:
        X: vectors ``(N, D)`` or images ``(N, H, W)`` / ``(N, H, W, C)`` (uint8 or float).
        y: ``N`` labels of any hashable kind.
        groups: groups to compute (see :data:`meta_features.schema.GROUPS`); all by default.
        source: the source domain's profile, needed by ``similarity`` and ``transferability``
            (without it those features are NaN, with the reason "no source was given").
        random_state: seed of every random step (subsamples, folds, PCA, attribute draws).
        categorical: for vector data, which of the ``D`` columns are categorical (e.g. the
            one-hot columns of an encoded table); all numeric by default.
        max_tier: skip features costlier than this :class:`~meta_features.schema.Tier`.
        config: caps and settings (:class:`~meta_features.config.ExtractConfig`).

    Returns:
        :class:`~meta_features.result.MetaFeatures` holding exactly
        ``names(groups, max_tier)``; a value is NaN only where it is undefined for the data,
        and ``reasons`` says why.

    Raises:
        InvalidInputError: ``meta_features.bad_shape`` / ``non_finite`` /
            ``too_few_examples`` for unusable arrays, ``meta_features.bad_option`` for
            unknown groups.
    """
    raw = _check_inputs(X)
    codes, n_classes = as_labels(y, raw.shape[0])
    ctx = Context(
        raw=raw,
        codes=codes,
        n_classes=n_classes,
        categorical=_check_categorical(categorical, raw),
        is_image=raw.ndim > 2,
        source=source,
        config=config or ExtractConfig(),
        random_state=int(random_state),
    )
    chosen = specs(groups, max_tier)
    values: dict[str, float] = {}
    reasons: dict[str, str] = {}
    timings: dict[str, float] = {}
    for group in dict.fromkeys(spec.group for spec in chosen):
        group_specs = [spec for spec in chosen if spec.group == group]
        start = time.perf_counter()
        computed = _run_group(group, ctx, frozenset(spec.name for spec in group_specs))
        for spec in group_specs:
            _store(spec, computed.get(spec.name, Missing("not computed")), values, reasons)
        timings[group] = time.perf_counter() - start
    tiers: dict[str, Tier] = {name: spec.tier for spec in chosen for name in spec.output_names()}
    return MetaFeatures(
        values, reasons=reasons, timings=timings, tiers=tiers, view=_view_description(ctx, chosen)
    )


def _run_group(group: str, ctx: Context, wanted: frozenset[str]) -> dict[str, Value]:
    """A group's values; a numerical failure becomes a reason, never a crash."""
    try:
        return COMPUTE[group](ctx, wanted)
    except (ValueError, ArithmeticError, np.linalg.LinAlgError) as error:
        return dict.fromkeys(wanted, Missing(f"{group} could not be computed: {error}"))


def _store(
    spec: FeatureSpec, value: Value, values: dict[str, float], reasons: dict[str, str]
) -> None:
    """Summarise one feature into its output names, recording a reason for every NaN."""
    if isinstance(value, Missing):
        for name in spec.output_names():
            values[name], reasons[name] = math.nan, value.reason
        return
    if not spec.vector:
        number = float(np.asarray(value, dtype=np.float64).reshape(()))
        values[spec.name] = number
        if not math.isfinite(number):
            values[spec.name] = math.nan
            reasons[spec.name] = "the value is not finite for this data"
        return
    vector = np.asarray(value, dtype=np.float64).reshape(-1)
    finite = vector[np.isfinite(vector)]
    mean_name, sd_name = spec.output_names()
    if finite.size == 0:
        for name in (mean_name, sd_name):
            values[name], reasons[name] = math.nan, "no value is defined for this data"
        return
    values[mean_name] = float(finite.mean())
    if finite.size < 2:
        values[sd_name] = math.nan
        reasons[sd_name] = "a single value has no spread (sd needs two)"
    else:
        values[sd_name] = float(finite.std(ddof=1))


def _view_description(ctx: Context, chosen: tuple[FeatureSpec, ...]) -> str:
    classic = {"statistical", "info-theory", "landmarking"}
    return ctx.view.description if any(s.group in classic for s in chosen) else "not used"


def _check_inputs(X: Any) -> np.ndarray:
    raw = np.asarray(X)
    if raw.dtype.kind not in "biuf":
        raise InvalidInputError(f"X must be numeric, got dtype {raw.dtype}.", code=BAD_SHAPE)
    if raw.ndim not in (2, 3, 4):
        raise InvalidInputError(
            f"X must be (N, D) vectors or (N, H, W[, C]) images, got shape {raw.shape}.",
            code=BAD_SHAPE,
        )
    if raw.shape[0] == 0 or raw[0].size == 0:
        raise InvalidInputError("X holds no example or no attribute.", code=TOO_FEW_EXAMPLES)
    if raw.dtype.kind == "f" and not np.isfinite(raw).all():
        raise InvalidInputError(
            "X holds NaN or infinite values; impute them first.", code=NON_FINITE
        )
    return raw if raw.dtype.kind in "uf" else raw.astype(np.float64)


def _check_categorical(
    categorical: Sequence[bool] | np.ndarray | None, raw: np.ndarray
) -> np.ndarray:
    width = int(np.prod(raw.shape[1:]))
    if categorical is None or raw.ndim > 2:
        return np.zeros(width, dtype=bool)
    mask = np.asarray(categorical, dtype=bool).reshape(-1)
    if mask.shape[0] != width:
        raise InvalidInputError(
            f"categorical has {mask.shape[0]} entries for {width} columns.", code=BAD_SHAPE
        )
    return mask
