"""The extractor: schema, reasons for every NaN, views, source groups, robustness."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import meta_features as mf
from meta_features.errors import InvalidInputError


def _blobs(n_per_class: int = 30, n_classes: int = 3, d: int = 6, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, size=(n_classes, d))
    y = np.repeat(np.arange(n_classes), n_per_class)
    return centres[y] + rng.normal(size=(y.size, d)), y


def _profile(input_dim: int, *, dim: int = 8, seed: int = 1) -> mf.SourceProfile:
    """A toy source: a fixed random tanh projection, and a softmax over 4 source classes."""
    rng = np.random.default_rng(seed)
    weights = rng.normal(size=(input_dim, dim)) / np.sqrt(input_dim)
    head = rng.normal(size=(dim, 4))

    def embed(inputs: np.ndarray) -> np.ndarray:
        flat = np.asarray(inputs, dtype=float).reshape(len(inputs), -1)
        return np.tanh(flat @ weights)

    def predict_proba(inputs: np.ndarray) -> np.ndarray:
        logits = embed(inputs) @ head
        logits -= logits.max(axis=1, keepdims=True)
        return np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)

    source_x = rng.normal(size=(400, input_dim))
    source_y = rng.integers(0, 4, 400)
    return mf.SourceProfile.from_embeddings(
        embed(source_x), source_y, embed=embed, predict_proba=predict_proba, sample_size=200
    )


def test_names_is_the_exact_schema_of_extract() -> None:
    X, y = _blobs()
    result = mf.extract(X, y)
    assert list(result) == mf.names()
    assert len(mf.names()) == len(set(mf.names()))
    assert "cor.mean" in mf.names() and "cor" not in mf.names()
    assert mf.names("general", max_tier=mf.Tier.COUNTS)[:3] == ["nr_inst", "nr_attr", "nr_class"]
    assert set(result.timings) == set(mf.GROUPS)
    assert all(result.tiers[name] == mf.tier_of(name) for name in result)


def test_every_nan_has_a_reason_and_only_nans_have_reasons() -> None:
    X, y = _blobs()
    result = mf.extract(X, y)
    nan_names = {k for k, v in result.items() if math.isnan(v)}
    assert nan_names == set(result.reasons)
    # without a source, the source groups say so; the classic groups are all defined
    source_names = set(mf.names(["similarity", "transferability"]))
    assert nan_names == source_names | {"num_to_cat"}
    assert result.reasons["logme"] == "no source was given"


def test_to_dict_is_json_ready() -> None:
    X, y = _blobs()
    document = mf.extract(X, y, groups=["general", "transferability"]).to_dict()
    text = json.dumps(document)
    assert json.loads(text)["values"]["logme"] is None
    assert document["tiers"]["nr_inst"] == 0


def test_source_groups_with_a_profile() -> None:
    X, y = _blobs(d=6)
    result = mf.extract(X, y, source=_profile(6), groups=["similarity", "transferability"])
    assert not result.reasons, result.reasons
    assert all(math.isfinite(v) for v in result.values())
    assert result["leep"] <= 0.0 and result["nce"] <= 0.0


def test_a_source_that_cannot_embed_is_a_reason_not_a_crash() -> None:
    X, y = _blobs(d=6)
    result = mf.extract(X, y, source=_profile(5), groups=["similarity", "transferability"])
    assert all(math.isnan(v) for v in result.values())
    assert "embed failed" in result.reasons["mmd"]


def test_images_use_a_documented_low_dimensional_view() -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(25, 28, 28), dtype=np.uint8)
    y = np.repeat(np.arange(5), 5)
    result = mf.extract(images, y, groups=["general", "statistical"])
    assert result["nr_attr"] == 784  # general describes the raw data
    assert "principal components" in result.view
    assert result["eigenvalues.mean"] > 0
    with_source = mf.extract(images, y, groups=["statistical"], source=_profile(784))
    assert with_source.view.startswith("source embedding (8 dims)")


def test_few_shot_and_one_shot_tasks() -> None:
    X, y = _blobs(n_per_class=5, n_classes=5, d=40)
    five_shot = mf.extract(X, y, groups=["landmarking"])
    assert not five_shot.reasons  # k = 5 folds, one example of each class per fold
    one_shot = mf.extract(X[::5], y[::5], groups=["general", "landmarking"])
    assert one_shot["shots_max"] == 1
    assert "2 examples in every class" in one_shot.reasons["one_nn.mean"]


def test_max_tier_skips_costly_features() -> None:
    X, y = _blobs()
    cheap = mf.extract(X, y, max_tier=mf.Tier.LINEAR)
    assert "cor.mean" not in cheap and "one_nn.mean" not in cheap
    assert "mean.mean" in cheap and "landmarking" not in cheap.timings


def test_same_seed_same_values() -> None:
    X, y = _blobs()
    first = mf.extract(X, y, random_state=3, groups=["landmarking", "info-theory"])
    second = mf.extract(X, y, random_state=3, groups=["landmarking", "info-theory"])
    assert dict(first) == dict(second)


def test_categorical_mask_counts_categorical_columns() -> None:
    X, y = _blobs(d=4)
    X[:, 3] = (X[:, 3] > 0).astype(float)
    result = mf.extract(X, y, groups=["general"], categorical=[False, False, False, True])
    assert (result["nr_cat"], result["nr_num"], result["nr_bin"]) == (1, 3, 1)
    assert result["num_to_cat"] == 3 and result["cat_to_num"] == pytest.approx(1 / 3)


@pytest.mark.parametrize(
    ("X", "y", "code"),
    [
        (np.zeros((0, 3)), [], "meta_features.too_few_examples"),
        (np.array([[1.0, np.nan], [2.0, 3.0]]), [0, 1], "meta_features.non_finite"),
        (np.array([["a"], ["b"]]), [0, 1], "meta_features.bad_shape"),
        (np.zeros(5), [0] * 5, "meta_features.bad_shape"),
        (np.zeros((4, 2)), [0, 1], "meta_features.bad_shape"),
    ],
)
def test_unusable_inputs_are_refused(X, y, code: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        mf.extract(X, y)
    assert caught.value.code == code


def test_unknown_group_and_bad_config() -> None:
    X, y = _blobs()
    with pytest.raises(InvalidInputError) as caught:
        mf.extract(X, y, groups=["nope"])
    assert caught.value.code == "meta_features.bad_option"
    with pytest.raises(InvalidInputError):
        mf.ExtractConfig(cv_folds=1)


def test_degenerate_data_never_crashes() -> None:
    # one class, constant columns, a single row per class, duplicate rows
    cases = [
        (np.ones((6, 3)), np.zeros(6)),
        (np.ones((6, 3)), np.array([0, 0, 0, 1, 1, 1])),
        (np.arange(4.0).reshape(2, 2), np.array([0, 1])),
        (np.repeat([[1.0, 2.0]], 10, axis=0), np.repeat([0, 1], 5)),
    ]
    for X, y in cases:
        result = mf.extract(X, y)
        assert set(result) == set(mf.names())
        nan_names = {k for k, v in result.items() if math.isnan(v)}
        assert nan_names == set(result.reasons)
