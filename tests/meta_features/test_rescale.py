"""``ExtractConfig.rescale``: the classic groups of vector data, free of the columns' units."""

from __future__ import annotations

import math

import numpy as np
import pytest

import meta_features as mf
from meta_features.errors import InvalidInputError
from meta_features.view import rescaled

CLASSIC = ["general", "statistical", "info-theory", "landmarking"]
# CART importances break ties between equally good splits by the float rounding of the
# thresholds, so the tree-based landmarks may pick another attribute after an arbitrary
# affine change (exactly the same after a change by powers of two, which rounds nothing).
TREE_LANDMARKS = ("best_node", "random_node", "worst_node", "elite_nn")


def _table(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(3), 20)
    centres = rng.normal(0, 1.5, size=(3, 5))
    X = centres[y] + rng.normal(size=(60, 5))
    X[:, 4] = rng.exponential(size=60) + y  # a skewed column
    return X, y


def _same(a: mf.MetaFeatures, b: mf.MetaFeatures, skip: tuple[str, ...] = ()) -> list[str]:
    """The names whose values differ (beyond float rounding)."""
    return [
        name
        for name in a
        if not name.startswith(skip)
        and not (math.isnan(a[name]) and math.isnan(b[name]))
        and not math.isclose(a[name], b[name], rel_tol=1e-7, abs_tol=1e-9)
    ]


def test_standard_rescale_makes_the_features_independent_of_units() -> None:
    X, y = _table()
    units = 2.0 ** np.array([-3, 0, 4, 10, 7])  # exact in floating point
    changed = X * units
    standard = mf.ExtractConfig(rescale="standard")
    raw = mf.extract(X, y, groups=CLASSIC)
    assert _same(raw, mf.extract(changed, y, groups=CLASSIC))  # as given: units matter
    assert "mean.mean" in _same(raw, mf.extract(changed, y, groups=CLASSIC))
    first = mf.extract(X, y, groups=CLASSIC, config=standard)
    again = mf.extract(changed, y, groups=CLASSIC, config=standard)
    values = np.array(list(first.values()))
    np.testing.assert_array_equal(values, np.array([again[name] for name in first]))  # exactly
    affine = X * np.array([1e-3, 7.0, 250.0, 0.3, 12.0]) + np.array([5.0, -40, 1e3, 0, 2])
    moved = mf.extract(affine, y, groups=CLASSIC, config=standard)
    assert _same(first, moved, skip=TREE_LANDMARKS) == []
    assert first["mean.mean"] == pytest.approx(0.0, abs=1e-12)
    assert first["sd.mean"] == pytest.approx(math.sqrt(60 / 59))  # population sd 1, ddof=1 here
    assert "rescaled (standard)" in first.view


@pytest.mark.parametrize(
    ("how", "low", "high"),
    [("min-max", 0.0, 1.0), ("robust", None, None), ("standard", None, None)],
)
def test_each_rescale_follows_its_scaler(how: str, low: float | None, high: float | None) -> None:
    X, _ = _table()
    numeric = np.array([True, True, False, True, True])
    X[:, 2] = (X[:, 2] > 0).astype(float)  # a categorical 0/1 column keeps its codes
    out = rescaled(X, numeric, how)
    np.testing.assert_array_equal(out[:, 2], X[:, 2])
    if how == "min-max":
        np.testing.assert_allclose(out[:, numeric].min(axis=0), low)
        np.testing.assert_allclose(out[:, numeric].max(axis=0), high)
    elif how == "robust":
        np.testing.assert_allclose(np.median(out[:, numeric], axis=0), 0.0, atol=1e-12)
        q75, q25 = np.quantile(out[:, numeric], [0.75, 0.25], axis=0)
        np.testing.assert_allclose(q75 - q25, 1.0)
    else:
        np.testing.assert_allclose(out[:, numeric].mean(axis=0), 0.0, atol=1e-12)
        np.testing.assert_allclose(out[:, numeric].std(axis=0), 1.0)


def test_constant_columns_become_zero_not_nan() -> None:
    X = np.column_stack([np.full(10, 7.0), np.arange(10.0)])
    for how in ("standard", "min-max", "robust"):
        out = rescaled(X, np.array([True, True]), how)
        assert np.isfinite(out).all() and (out[:, 0] == 0).all()


def test_categorical_columns_are_not_rescaled_by_extract() -> None:
    X, y = _table()
    X[:, 3] = (X[:, 3] > 0).astype(float)
    mask = [False, False, False, True, False]
    standard = mf.ExtractConfig(rescale="standard")
    scaled = mf.extract(X, y, groups=["general", "info-theory"], categorical=mask, config=standard)
    raw = mf.extract(X, y, groups=["general", "info-theory"], categorical=mask)
    # info-theory reads the categorical column as its codes, and bins the numeric ones by
    # equal widths, which an affine change leaves alone
    assert _same(raw, scaled) == []


def test_images_are_never_rescaled() -> None:
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(20, 8, 8), dtype=np.uint8)
    y = np.repeat(np.arange(4), 5)
    groups = ["statistical", "landmarking"]
    plain = mf.extract(images, y, groups=groups)
    scaled = mf.extract(images, y, groups=groups, config=mf.ExtractConfig(rescale="standard"))
    assert _same(plain, scaled) == []
    assert "rescaled" not in scaled.view


def test_an_unknown_rescale_is_refused() -> None:
    with pytest.raises(InvalidInputError) as caught:
        mf.ExtractConfig(rescale="zscore")  # type: ignore[arg-type]
    assert caught.value.code == "meta_features.bad_option"
