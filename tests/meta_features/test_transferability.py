"""Defining properties of the transferability scores (meta_features.transferability)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from scipy.optimize import minimize
from sklearn.covariance import LedoitWolf
from sklearn.metrics import mutual_info_score

from meta_features import transferability as tr
from meta_features.errors import (
    BAD_OPTION,
    BAD_SHAPE,
    NON_FINITE,
    TOO_FEW_EXAMPLES,
    InvalidInputError,
)

Score = Callable[[np.ndarray, np.ndarray], float]

FEATURE_SCORES: dict[str, Score] = {
    "logme": tr.logme,
    "h_score": tr.h_score,
    "h_score_shrinkage": tr.h_score_shrinkage,
    "gbc": tr.gbc,
    "transrate": tr.transrate,
}
SHAPES = {"n_much_larger_than_d": (500, 10, 5), "n_smaller_than_d": (20, 200, 4)}


def separable_and_noise(
    n: int, d: int, k: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels, features with class-dependent means, and pure Gaussian noise features."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % k
    separable = rng.normal(size=(n, d)) + 1.5 * rng.normal(size=(k, d))[y]
    return y, separable, rng.normal(size=(n, d))


def entropy(y: np.ndarray) -> float:
    p = np.unique(y, return_counts=True)[1] / y.size
    return float(-np.sum(p * np.log(p)))


# -- every feature-based score --------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
@pytest.mark.parametrize("name", FEATURE_SCORES)
def test_separable_features_rank_above_noise(name: str, shape: tuple[int, int, int]) -> None:
    y, separable, noise = separable_and_noise(*shape)
    score = FEATURE_SCORES[name]
    if name == "h_score" and shape[0] < shape[1]:
        # With N <= D the centred features span every centred direction, so the plain
        # H-score is exactly K - 1 for *any* features (see its docstring): no ranking.
        assert score(separable, y) == pytest.approx(shape[2] - 1, abs=1e-9)
        assert score(noise, y) == pytest.approx(shape[2] - 1, abs=1e-9)
    else:
        assert score(separable, y) > score(noise, y)


def degenerate_variants(features: np.ndarray) -> dict[str, np.ndarray]:
    zero = np.zeros((features.shape[0], 1))
    return {
        "duplicated_columns": np.hstack([features, features[:, :3]]),
        "zero_column": np.hstack([features, zero]),
        "scaled_up": features * 1e6,
        "scaled_down": features * 1e-6,
        "all_zero": np.zeros_like(features),
        "one_feature": features[:, :1],
    }


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
@pytest.mark.parametrize("name", FEATURE_SCORES)
def test_scores_are_finite_floats_on_degenerate_inputs(
    name: str, shape: tuple[int, int, int]
) -> None:
    y, separable, _ = separable_and_noise(*shape)
    for variant, features in degenerate_variants(separable).items():
        value = FEATURE_SCORES[name](features, y)
        assert isinstance(value, float), variant
        assert np.isfinite(value), variant


@pytest.mark.parametrize("name", ["logme", "h_score", "h_score_shrinkage", "gbc"])
def test_scale_free_scores_ignore_the_scale_of_the_features(name: str) -> None:
    y, separable, _ = separable_and_noise(200, 8, 4)
    score = FEATURE_SCORES[name]
    reference = score(separable, y)
    for factor in (1e-6, 1e6):
        assert score(separable * factor, y) == pytest.approx(reference, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("name", FEATURE_SCORES)
def test_feature_scores_validate_their_inputs(name: str) -> None:
    score = FEATURE_SCORES[name]
    y, features, _ = separable_and_noise(30, 4, 3)
    with_nan = features.copy()
    with_nan[3, 1] = np.nan
    cases = {
        NON_FINITE: (with_nan, y),
        BAD_SHAPE: (features, y[:-1]),
        TOO_FEW_EXAMPLES: (features, np.zeros(30)),
    }
    for code, (f, labels) in cases.items():
        with pytest.raises(InvalidInputError) as raised:
            score(f, labels)
        assert raised.value.code == code
    with pytest.raises(InvalidInputError) as raised:
        score(np.zeros((30, 2, 2)), y)
    assert raised.value.code == BAD_SHAPE


def test_labels_may_be_any_hashable() -> None:
    y, features, _ = separable_and_noise(60, 5, 3)
    names = np.array(["cat", "dog", "emu"])[y]
    for score in FEATURE_SCORES.values():
        assert score(features, names) == pytest.approx(score(features, y))


# -- LogME -----------------------------------------------------------------------------------


def brute_force_logme(features: np.ndarray, y: np.ndarray) -> float:
    """Maximise the textbook evidence (D x D matrices) numerically, class by class."""
    n, d = features.shape
    gram = features.T @ features

    def negative_evidence(log_params: np.ndarray, target: np.ndarray) -> float:
        alpha, beta = np.exp(log_params)
        precision = alpha * np.eye(d) + beta * gram
        m = beta * np.linalg.solve(precision, features.T @ target)
        logdet = np.linalg.slogdet(precision)[1]
        evidence = (
            d / 2 * np.log(alpha)
            + n / 2 * np.log(beta)
            - n / 2 * np.log(2 * np.pi)
            - beta / 2 * np.sum((target - features @ m) ** 2)
            - alpha / 2 * m @ m
            - logdet / 2
        )
        return float(-evidence)

    per_class = []
    for c in np.unique(y):
        target = (y == c).astype(float)
        fits = [
            minimize(
                negative_evidence,
                start,
                args=(target,),
                method="Nelder-Mead",
                options={"xatol": 1e-10, "fatol": 1e-13, "maxiter": 5000},
            )
            for start in (np.zeros(2), np.array([3.0, 3.0]))
        ]
        per_class.append(-min(fit.fun for fit in fits) / n)
    return float(np.mean(per_class))


@pytest.mark.parametrize("shape", [(12, 3), (8, 5), (6, 9)], ids=["N>D", "N~D", "N<D"])
def test_logme_equals_the_maximised_evidence(shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(1)
    features = rng.normal(size=shape)
    y = np.arange(shape[0]) % 3
    assert tr.logme(features, y) == pytest.approx(brute_force_logme(features, y), abs=1e-7)


def test_logme_is_finite_for_every_shape() -> None:
    rng = np.random.default_rng(2)
    y = np.arange(30) % 3
    for d in (5, 30, 300):
        assert np.isfinite(tr.logme(rng.normal(size=(30, d)), y))


@pytest.mark.parametrize("seed", [0, 1])
def test_logme_is_continuous_as_d_crosses_n(seed: int) -> None:
    n = 40
    y, separable, noise = separable_and_noise(n, n + 1, 3, seed=seed)
    # Adding one feature changes the maximised log evidence by about the BIC price of one
    # parameter, ½ log N nats, i.e. ½ log N / N per example (0.046 here); dropping the
    # (D − N)/2 log α terms of the zero eigenvalues (as the reference code's N < D branch
    # does) shifts the value by ½ log α / N per missing term, unbounded in α.
    tolerance = 0.5 * math.log(n) / n
    for features in (separable, noise):
        values = [tr.logme(features[:, :d], y) for d in (n - 1, n, n + 1)]
        assert np.all(np.isfinite(values))
        assert max(values) - min(values) < tolerance


def test_logme_prefers_features_that_explain_the_labels() -> None:
    rng = np.random.default_rng(3)
    y = np.arange(200) % 4
    one_hot = np.eye(4)[y]
    assert tr.logme(one_hot + 0.01 * rng.normal(size=(200, 4)), y) > tr.logme(
        rng.normal(size=(200, 4)), y
    )


# -- LEEP and NCE ----------------------------------------------------------------------------


def test_leep_of_a_one_to_one_hard_source_is_zero() -> None:
    y = np.arange(60) % 4
    permutation = np.array([2, 0, 3, 1, 4])  # five source classes, four of them used
    probs = np.eye(5)[permutation[y]]
    assert tr.leep(probs, y) == pytest.approx(0.0, abs=1e-6)


def test_leep_of_uniform_probabilities_is_minus_the_label_entropy() -> None:
    y = np.array([0] * 10 + [1] * 30 + [2] * 20)
    probs = np.full((60, 7), 1 / 7)
    assert tr.leep(probs, y) == pytest.approx(-entropy(y), abs=1e-12)


def test_leep_matches_its_definition_and_prefers_informative_sources() -> None:
    rng = np.random.default_rng(4)
    y = np.arange(80) % 4
    logits = rng.normal(size=(80, 6))
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    joint = np.array([[probs[y == c, z].sum() / 80 for z in range(6)] for c in range(4)])
    conditional = joint / joint.sum(axis=0)
    expected = np.mean([np.log(conditional[y[i]] @ probs[i]) for i in range(80)])
    assert tr.leep(probs, y) == pytest.approx(expected, abs=1e-12)
    informative = 0.9 * np.eye(6)[y] + 0.1 * probs
    assert tr.leep(informative, y) > tr.leep(probs, y)


def test_leep_renormalises_tiny_deviations_and_refuses_other_rows() -> None:
    y = np.arange(20) % 2
    probs = np.random.default_rng(5).dirichlet(np.ones(3), size=20)
    assert tr.leep(probs * (1 + 1e-8), y) == pytest.approx(tr.leep(probs, y), abs=1e-12)
    bad_sum = probs * 1.1
    negative = probs.copy()
    negative[0] = [1.5, -0.5, 0.0]
    with_nan = probs.copy()
    with_nan[0, 0] = np.nan
    for rows, code in ((bad_sum, BAD_SHAPE), (negative, BAD_SHAPE), (with_nan, NON_FINITE)):
        with pytest.raises(InvalidInputError) as raised:
            tr.leep(rows, y)
        assert raised.value.code == code
    with pytest.raises(InvalidInputError) as raised:
        tr.leep(probs, np.zeros(20))
    assert raised.value.code == TOO_FEW_EXAMPLES
    with pytest.raises(InvalidInputError) as raised:
        tr.leep(probs, y[:5])
    assert raised.value.code == BAD_SHAPE


def test_nce_is_zero_when_the_source_determines_the_target() -> None:
    y = np.arange(40) % 4
    assert tr.nce(np.array(["a", "b", "c", "d"])[y], y) == pytest.approx(0.0, abs=1e-12)
    finer = np.arange(40) % 8  # each source class inside one target class
    assert tr.nce(finer, finer % 4) == pytest.approx(0.0, abs=1e-12)


def test_nce_of_a_constant_source_is_minus_the_label_entropy() -> None:
    y = np.array([0] * 5 + [1] * 15 + [2] * 20)
    assert tr.nce(np.full(40, "z"), y) == pytest.approx(-entropy(y), abs=1e-12)


def test_nce_is_mutual_information_minus_label_entropy() -> None:
    rng = np.random.default_rng(6)
    y = rng.integers(0, 4, 300)
    z = (y + rng.integers(0, 3, 300)) % 6
    expected = mutual_info_score(y, z) - entropy(y)
    assert tr.nce(z, y) == pytest.approx(expected, abs=1e-12)


def test_nce_validates_its_inputs() -> None:
    y = np.arange(10) % 2
    for source, labels, code in (
        (np.arange(9), y, BAD_SHAPE),
        (np.zeros((10, 2)), y, BAD_SHAPE),
        (np.arange(10), np.zeros(10), TOO_FEW_EXAMPLES),
    ):
        with pytest.raises(InvalidInputError) as raised:
            tr.nce(source, labels)
        assert raised.value.code == code


# -- H-scores --------------------------------------------------------------------------------


def class_mean_matrix(features: np.ndarray, y: np.ndarray) -> np.ndarray:
    means = {c: features[y == c].mean(axis=0) for c in np.unique(y)}
    return np.stack([means[c] for c in y])


def test_h_score_matches_the_pseudo_inverse_formula() -> None:
    y, features, _ = separable_and_noise(300, 6, 4)
    cov_f = np.cov(features, rowvar=False, bias=True)
    cov_g = np.cov(class_mean_matrix(features, y), rowvar=False, bias=True)
    expected = np.trace(np.linalg.pinv(cov_f, rcond=1e-15) @ cov_g)
    assert tr.h_score(features, y) == pytest.approx(expected, rel=1e-9)


def test_h_score_is_invariant_to_invertible_linear_maps() -> None:
    y, features, _ = separable_and_noise(500, 10, 5)
    rng = np.random.default_rng(7)
    q, _ = np.linalg.qr(rng.normal(size=(10, 10)))
    transform = q @ np.diag(np.linspace(0.5, 3.0, 10))  # condition number 6
    shift = rng.normal(size=10)
    assert tr.h_score(features @ transform + shift, y) == pytest.approx(
        tr.h_score(features, y), rel=1e-9
    )


def test_h_score_shrinkage_matches_the_ledoit_wolf_formula() -> None:
    for n, d in ((300, 6), (20, 50)):
        y, features, _ = separable_and_noise(n, d, 4)
        centred = features - features.mean(axis=0)
        lw = LedoitWolf(assume_centered=True).fit(centred)
        cov_g = np.cov(class_mean_matrix(features, y), rowvar=False, bias=True)
        expected = np.trace(np.linalg.inv(lw.covariance_) @ ((1 - lw.shrinkage_) * cov_g))
        assert tr.h_score_shrinkage(features, y) == pytest.approx(expected, rel=1e-8)
        assert tr.h_score_shrinkage(features, y) <= tr.h_score(features, y) + 1e-12


# -- GBC -------------------------------------------------------------------------------------


def test_gbc_matches_the_bhattacharyya_formula_in_one_dimension() -> None:
    features = np.array([0.0, 2.0, 4.0, 6.0, 1.0, 5.0, 9.0])[:, None]
    y = np.array([0, 0, 0, 0, 1, 1, 1])
    m1, v1 = features[y == 0].mean(), features[y == 0].var()
    m2, v2 = features[y == 1].mean(), features[y == 1].var()
    average = (v1 + v2) / 2
    distance = (m1 - m2) ** 2 / (8 * average) + 0.5 * np.log(average / np.sqrt(v1 * v2))
    assert tr.gbc(features, y) == pytest.approx(-2 * np.exp(-distance), rel=1e-12)


def test_gbc_is_zero_for_far_apart_classes_and_minus_k_k1_for_identical_ones() -> None:
    y = np.arange(30) % 3
    rng = np.random.default_rng(8)
    far = rng.normal(size=(30, 2)) + 1e3 * np.eye(3, 2)[y]
    assert tr.gbc(far, y) == pytest.approx(0.0, abs=1e-12)
    same = np.tile(rng.normal(size=(10, 2)), (3, 1))  # every class holds the same points
    assert tr.gbc(same, np.repeat(np.arange(3), 10)) == pytest.approx(-6.0)


def test_gbc_works_with_one_example_per_class() -> None:
    features = np.random.default_rng(9).normal(size=(5, 3))
    value = tr.gbc(features, np.arange(5))
    assert np.isfinite(value) and value <= 0.0


# -- TransRate -------------------------------------------------------------------------------


def reference_transrate(features: np.ndarray, y: np.ndarray, eps: float) -> float:
    """The authors' definition, with D x D determinants."""

    def rate(z: np.ndarray) -> float:
        n, d = z.shape
        return 0.5 * np.linalg.slogdet(np.eye(d) + z.T @ z / (n * eps))[1]

    z = features - features.mean(axis=0)
    return rate(z) - np.mean([rate(z[y == c]) for c in np.unique(y)])


@pytest.mark.parametrize("shape", [(200, 8), (24, 60)], ids=["N>D", "N<D"])
def test_transrate_matches_the_reference_definition(shape: tuple[int, int]) -> None:
    y, features, _ = separable_and_noise(*shape, 3)
    for eps in (1e-4, 0.1):
        expected = reference_transrate(features, y, eps)
        assert tr.transrate(features, y, eps=eps) == pytest.approx(expected, rel=1e-9)


def test_transrate_refuses_a_non_positive_eps() -> None:
    y, features, _ = separable_and_noise(20, 3, 2)
    for eps in (0.0, -1.0, float("nan")):
        with pytest.raises(InvalidInputError) as raised:
            tr.transrate(features, y, eps=eps)
        assert raised.value.code == BAD_OPTION
