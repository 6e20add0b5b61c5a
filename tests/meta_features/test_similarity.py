"""Defining properties of the sample similarity measures (meta_features.similarity)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from meta_features import similarity as sim
from meta_features._linalg import sq_distances
from meta_features.errors import (
    BAD_OPTION,
    BAD_SHAPE,
    NON_FINITE,
    TOO_FEW_EXAMPLES,
    InvalidInputError,
)

Discrepancy = Callable[[np.ndarray, np.ndarray], float]

SAMPLE_MEASURES: dict[str, Discrepancy] = {
    "mmd": sim.mmd,
    "frechet": sim.frechet,
    "sinkhorn": sim.sinkhorn_divergence,
    "proxy_a_distance": sim.proxy_a_distance,
}


def gaussian(n: int, d: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, d))


# -- identical and shifted samples -----------------------------------------------------------


def test_identical_samples_are_at_distance_zero() -> None:
    a = gaussian(200, 5, 0)
    assert abs(sim.mmd(a, a)) < 0.02
    assert sim.frechet(a, a) == pytest.approx(0.0, abs=1e-9)
    assert sim.sinkhorn_divergence(a, a) == 0.0
    assert sim.proxy_a_distance(a, a) <= 0.3


def test_samples_of_one_distribution_are_close() -> None:
    a, b = gaussian(200, 5, 0), gaussian(200, 5, 1)
    assert abs(sim.mmd(a, b)) < 0.02
    assert sim.proxy_a_distance(a, b) <= 0.3
    shifted = b + 2.0
    assert sim.frechet(a, b) < 0.1 * sim.frechet(a, shifted)
    # (OT between two finite samples keeps a sampling bias: "close" is relative to a shift)
    a, b, shifted = a[:120], b[:120], shifted[:120]
    assert sim.sinkhorn_divergence(a, b) < 0.15 * sim.sinkhorn_divergence(a, shifted)


@pytest.mark.parametrize("name", ["mmd", "frechet", "sinkhorn"])
def test_discrepancy_grows_with_the_shift(name: str) -> None:
    measure = SAMPLE_MEASURES[name]
    a, b = gaussian(120, 5, 0), gaussian(120, 5, 1)
    values = [measure(a, b + shift) for shift in (0.0, 0.5, 1.0, 2.0)]
    assert np.all(np.diff(values) > 0), values


def test_proxy_a_distance_is_two_for_separated_samples() -> None:
    a, b = gaussian(300, 4, 0), gaussian(300, 4, 1) + 10.0
    assert sim.proxy_a_distance(a, b) >= 1.95
    assert 0.0 <= sim.proxy_a_distance(a, b + 0.3) <= 2.0


# -- MMD -------------------------------------------------------------------------------------


def test_mmd_matches_the_unbiased_estimator() -> None:
    a, b = gaussian(12, 3, 0), gaussian(9, 3, 1) + 0.5
    sigma = 1.3

    def k(x: np.ndarray, y: np.ndarray) -> float:
        return float(np.exp(-np.sum((x - y) ** 2) / (2 * sigma**2)))

    m, n = len(a), len(b)
    within_a = sum(k(a[i], a[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    within_b = sum(k(b[i], b[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    between = sum(k(x, y) for x in a for y in b) / (m * n)
    expected = within_a + within_b - 2 * between
    assert sim.mmd(a, b, bandwidth=sigma) == pytest.approx(expected, rel=1e-12)


def test_mmd_median_heuristic_makes_it_scale_free() -> None:
    a, b = gaussian(100, 4, 0), gaussian(100, 4, 1) + 0.7
    assert sim.mmd(a * 1e6, b * 1e6) == pytest.approx(sim.mmd(a, b), rel=1e-9)


def test_subsampling_is_capped_and_seeded() -> None:
    a, b = gaussian(300, 3, 0), gaussian(300, 3, 1) + 0.5
    capped = sim.mmd(a, b, max_samples=50, random_state=3)
    assert capped == sim.mmd(a, b, max_samples=50, random_state=3)
    assert capped != sim.mmd(a, b, max_samples=50, random_state=4)
    assert sim.mmd(a[:50], b[:50], max_samples=50) == sim.mmd(a[:50], b[:50])


# -- Fréchet ---------------------------------------------------------------------------------


def test_frechet_from_moments_matches_the_one_dimensional_closed_form() -> None:
    for (m1, s1), (m2, s2) in (((0.0, 1.0), (3.0, 2.0)), ((-1.0, 0.5), (-1.0, 4.0))):
        expected = (m1 - m2) ** 2 + (s1 - s2) ** 2
        assert sim.frechet_from_moments(m1, s1**2, m2, s2**2) == pytest.approx(expected)
        value = sim.frechet_from_moments([m1], [[s1**2]], [m2], [[s2**2]])
        assert value == pytest.approx(expected)


def test_frechet_from_moments_of_diagonal_gaussians_adds_up_per_dimension() -> None:
    mean_a, mean_b = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, -1.0])
    sd_a, sd_b = np.array([1.0, 2.0, 0.5]), np.array([3.0, 2.0, 0.0])
    expected = np.sum((mean_a - mean_b) ** 2) + np.sum((sd_a - sd_b) ** 2)
    value = sim.frechet_from_moments(mean_a, np.diag(sd_a**2), mean_b, np.diag(sd_b**2))
    assert value == pytest.approx(expected)


def test_frechet_from_moments_is_zero_for_equal_gaussians_and_symmetric() -> None:
    rng = np.random.default_rng(2)
    root = rng.normal(size=(6, 6))
    cov_a, cov_b = root @ root.T, np.cov(rng.normal(size=(50, 6)), rowvar=False)
    mean = rng.normal(size=6)
    assert sim.frechet_from_moments(mean, cov_a, mean, cov_a) == pytest.approx(0.0, abs=1e-9)
    assert sim.frechet_from_moments(mean, cov_a, 0 * mean, cov_b) == pytest.approx(
        sim.frechet_from_moments(0 * mean, cov_b, mean, cov_a), rel=1e-9
    )


@pytest.mark.parametrize("shape", [(40, 5), (15, 60)], ids=["N>D", "N<D"])
def test_frechet_of_samples_uses_their_means_and_unbiased_covariances(
    shape: tuple[int, int],
) -> None:
    a, b = gaussian(*shape, 0), 1.5 * gaussian(shape[0] + 3, shape[1], 1) + 0.2
    expected = sim.frechet_from_moments(
        a.mean(axis=0), np.cov(a, rowvar=False), b.mean(axis=0), np.cov(b, rowvar=False)
    )
    # With N < D the moments path takes square roots of the round-off eigenvalues (~1e-15)
    # of the singular product Σa^½ Σb Σa^½, each adding ~3e-8 to its trace; the Gram path
    # of frechet() does not, so the two agree to ~1e-8 relative there, to 1e-12 otherwise.
    tolerance = 1e-7 if shape[0] < shape[1] else 1e-11
    assert sim.frechet(a, b) == pytest.approx(expected, rel=tolerance)
    assert sim.frechet(b, a) == pytest.approx(expected, rel=tolerance)


def test_frechet_from_moments_validates_shapes() -> None:
    with pytest.raises(InvalidInputError) as raised:
        sim.frechet_from_moments(np.zeros(3), np.eye(2), np.zeros(3), np.eye(3))
    assert raised.value.code == BAD_SHAPE
    with pytest.raises(InvalidInputError) as raised:
        sim.frechet_from_moments(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))
    assert raised.value.code == BAD_SHAPE
    with pytest.raises(InvalidInputError) as raised:
        sim.frechet_from_moments(np.zeros(2), np.eye(2) * np.nan, np.zeros(2), np.eye(2))
    assert raised.value.code == NON_FINITE


# -- Sinkhorn --------------------------------------------------------------------------------


def test_sinkhorn_scales_with_the_square_of_the_features() -> None:
    a, b = gaussian(80, 3, 0), gaussian(80, 3, 1) + 0.8
    reference = sim.sinkhorn_divergence(a, b)
    assert reference > 0
    assert sim.sinkhorn_divergence(3.0 * a, 3.0 * b) == pytest.approx(9 * reference, rel=1e-6)


def test_symmetric_warm_start_gives_the_plain_sinkhorn_value() -> None:
    import ot

    a = gaussian(60, 3, 0)
    cost = sq_distances(a, a)
    cost /= cost.mean()
    weights = np.full(60, 1 / 60)
    cold = ot.sinkhorn2(weights, weights, cost, 0.1, method="sinkhorn_log", numItermax=100_000)
    assert sim._self_entropic_cost(cost, 0.1) == pytest.approx(float(cold), rel=1e-7)


# -- centroids -------------------------------------------------------------------------------


def test_centroid_distances_are_to_the_nearest_source_centroid() -> None:
    source = np.array([[0.0, 0.0], [10.0, 0.0]])
    target = np.array([[3.0, 4.0], [10.0, 1.0], [5.0, 0.0]])
    distances = sim.centroid_distances(target, source)
    assert distances.dtype == np.float64
    np.testing.assert_allclose(distances, [5.0, 1.0, 5.0])


# -- validation ------------------------------------------------------------------------------


ALL_PAIR_FUNCTIONS: dict[str, Callable[[np.ndarray, np.ndarray], object]] = {
    **SAMPLE_MEASURES,
    "centroid_distances": sim.centroid_distances,
}


@pytest.mark.parametrize("name", ALL_PAIR_FUNCTIONS)
def test_pair_functions_validate_their_inputs(name: str) -> None:
    function = ALL_PAIR_FUNCTIONS[name]
    a, b = gaussian(20, 3, 0), gaussian(20, 3, 1)
    with_nan = b.copy()
    with_nan[2, 2] = np.inf
    for left, right, code in (
        (a, gaussian(20, 4, 1), BAD_SHAPE),
        (a, with_nan, NON_FINITE),
        (a, np.zeros((20, 3, 1)), BAD_SHAPE),
    ):
        with pytest.raises(InvalidInputError) as raised:
            function(left, right)
        assert raised.value.code == code


@pytest.mark.parametrize("name", ["mmd", "frechet", "proxy_a_distance"])
def test_two_rows_per_side_are_required(name: str) -> None:
    with pytest.raises(InvalidInputError) as raised:
        SAMPLE_MEASURES[name](gaussian(1, 3, 0), gaussian(10, 3, 1))
    assert raised.value.code == TOO_FEW_EXAMPLES


def test_options_are_validated() -> None:
    a, b = gaussian(20, 3, 0), gaussian(20, 3, 1)
    calls = (
        lambda: sim.mmd(a, b, bandwidth=0.0),
        lambda: sim.mmd(a, b, max_samples=1),
        lambda: sim.proxy_a_distance(a, b, max_samples=1),
        lambda: sim.sinkhorn_divergence(a, b, reg=-0.1),
        lambda: sim.sinkhorn_divergence(a, b, max_samples=0),
        lambda: sim.mmd(a, b, max_samples=2.5),  # type: ignore[arg-type]
    )
    for call in calls:
        with pytest.raises(InvalidInputError) as raised:
            call()
        assert raised.value.code == BAD_OPTION


def test_results_are_python_floats() -> None:
    a, b = gaussian(30, 3, 0), gaussian(30, 3, 1)
    for measure in SAMPLE_MEASURES.values():
        assert isinstance(measure(a, b), float)
    assert isinstance(sim.frechet_from_moments(0.0, 1.0, 1.0, 2.0), float)
