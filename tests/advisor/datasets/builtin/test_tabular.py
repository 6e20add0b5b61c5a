"""The ``tabular`` family: bundled sklearn datasets and the seeded synthetic shift benchmark."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import sklearn.datasets

from advisor.datasets.builtin.synthetic import sample_synthetic, synthetic_world
from advisor.datasets.builtin.tabular import TabularFamily
from advisor.errors import ConfigurationError, LimitExceededError, NotFoundError
from advisor.settings import reset_settings

FAMILY = TabularFamily()
SKLEARN_DOMAINS = ["iris", "wine", "breast_cancer"]
SYNTHETIC_DOMAINS = [
    "synthetic_source",
    "synthetic_covariate",
    "synthetic_concept",
    "synthetic_both",
]


def _sorted_rows(X: np.ndarray, codes: np.ndarray) -> np.ndarray:
    table = np.column_stack([X, codes])
    return table[np.lexsort(table.T[::-1])]


def _row_bytes(X: np.ndarray) -> set[bytes]:
    return {row.tobytes() for row in X}


# -- domains and cards -----------------------------------------------------------------------


def test_domains_and_cards() -> None:
    assert FAMILY.name == "tabular"
    assert FAMILY.domains() == SKLEARN_DOMAINS + SYNTHETIC_DOMAINS
    for domain in FAMILY.domains():
        card = FAMILY.card(domain)
        assert card.family == "tabular"
        assert card.domain == domain
        assert card.modality == "vector"
        assert card.description
        assert "\n" not in card.description
    assert FAMILY.card("iris").examples_per_class == 50
    assert FAMILY.card("wine").examples_per_class is None
    assert FAMILY.card("breast_cancer").input_shape == (30,)
    assert FAMILY.card("breast_cancer").n_classes == 2
    synthetic = FAMILY.card("synthetic_both")
    assert (synthetic.n_classes, synthetic.examples_per_class) == (10, 50)
    assert synthetic.input_shape == (20,)


def test_unknown_domain() -> None:
    with pytest.raises(NotFoundError) as info:
        FAMILY.load("titanic")
    assert info.value.code == "builtin.unknown_domain"


# -- the bundled sklearn datasets ------------------------------------------------------------


@pytest.mark.parametrize("domain", SKLEARN_DOMAINS)
def test_sklearn_domain_matches_sklearn_up_to_row_order(domain: str) -> None:
    bunch = getattr(sklearn.datasets, f"load_{domain}")()
    ds = FAMILY.load(domain, seed=3)
    assert ds.X.dtype == np.float64
    assert ds.X.shape == bunch.data.shape
    assert ds.feature_names == tuple(bunch.feature_names)
    assert ds.classes.tolist() == sorted(bunch.target_names.tolist())
    assert ds.y.dtype.kind == "U"
    assert ds.groups is None
    assert ds.info.name == f"tabular/{domain}"
    expected_labels = bunch.target_names[bunch.target]
    assert np.array_equal(np.sort(ds.y), np.sort(expected_labels))
    ours = _sorted_rows(ds.X, np.searchsorted(ds.classes, ds.y))
    theirs = _sorted_rows(bunch.data, np.searchsorted(ds.classes, expected_labels))
    assert np.array_equal(ours, theirs)


def test_sklearn_seed_permutes_rows_deterministically() -> None:
    first = FAMILY.load("wine", seed=0)
    again = FAMILY.load("wine", seed=0)
    other = FAMILY.load("wine", seed=1)
    assert first.X.tobytes() == again.X.tobytes()
    assert np.array_equal(first.y, again.y)
    assert first.X.tobytes() != other.X.tobytes()
    assert _row_bytes(first.X) == _row_bytes(other.X)


@pytest.mark.parametrize(
    "options", [{"n_classes": 3}, {"family_seed": 0}, {"noise": 0.1}, {"concept_shift": 0.0}]
)
def test_sklearn_domains_refuse_synthetic_options(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError) as info:
        FAMILY.load("iris", **options)
    assert info.value.code == "builtin.bad_option"


# -- synthetic: shape, labels, determinism ---------------------------------------------------


def test_synthetic_defaults_are_balanced() -> None:
    ds = FAMILY.load("synthetic_source")
    assert ds.X.shape == (500, 20)
    assert ds.X.dtype == np.float64
    assert ds.classes.tolist() == [f"c{k:02d}" for k in range(10)]
    assert ds.feature_names == tuple(f"f{i:02d}" for i in range(20))
    assert set(ds.info.class_counts.values()) == {50}
    assert ds.groups is None


def test_synthetic_options_shape_the_sample() -> None:
    ds = FAMILY.load(
        "synthetic_both", n_classes=12, n_features=101, examples_per_class=7, family_seed=4
    )
    assert ds.X.shape == (84, 101)
    assert np.array_equal(np.bincount(ds.y_encoded), np.full(12, 7))
    assert ds.classes[-1] == "c11"
    assert ds.feature_names is not None
    assert ds.feature_names[0] == "f000"
    assert ds.feature_names[-1] == "f100"


@pytest.mark.parametrize("domain", SYNTHETIC_DOMAINS)
def test_synthetic_determinism(domain: str) -> None:
    first = FAMILY.load(domain, seed=5)
    again = FAMILY.load(domain, seed=5)
    other = FAMILY.load(domain, seed=6)
    assert first.X.tobytes() == again.X.tobytes()
    assert first.y.tobytes() == again.y.tobytes()
    assert not _row_bytes(first.X) & _row_bytes(other.X)
    # same teacher for both seeds
    preset_concept = {"synthetic_concept": 0.5, "synthetic_both": 0.5}.get(domain, 0.0)
    teacher = synthetic_world(0, 20, 10).teacher(preset_concept)
    assert np.array_equal(teacher.predict(first.X), first.y_encoded)
    assert np.array_equal(teacher.predict(other.X), other.y_encoded)


def test_source_and_targets_do_not_share_draws() -> None:
    source = FAMILY.load("synthetic_source", seed=0)
    concept = FAMILY.load("synthetic_concept", seed=0)
    assert not _row_bytes(source.X) & _row_bytes(concept.X)


def test_world_is_fixed_by_family_seed() -> None:
    world = synthetic_world(0, 20, 10)
    assert synthetic_world(0, 20, 10) is world
    other = synthetic_world(1, 20, 10)
    assert not np.array_equal(world.w2, other.w2)
    assert np.isclose(np.linalg.norm(world.shift_direction), 1.0)
    assert np.allclose(world.rotation @ world.rotation.T, np.eye(20), atol=1e-12)
    assert world.log_scales.min() >= -0.5
    assert world.log_scales.max() <= 0.5
    assert not world.w1.flags.writeable
    a = FAMILY.load("synthetic_source", family_seed=1)
    b = FAMILY.load("synthetic_source", family_seed=1, seed=1)
    teacher = other.teacher(0.0)
    assert np.array_equal(teacher.predict(a.X), a.y_encoded)
    assert np.array_equal(teacher.predict(b.X), b.y_encoded)
    assert not np.array_equal(world.teacher(0.0).predict(a.X), a.y_encoded)


def test_source_teacher_is_calibrated_to_balanced_classes() -> None:
    world = synthetic_world(0, 20, 10)
    x = world.draw_inputs(np.random.default_rng(123), 20_000, 0.0)
    frequency = np.bincount(world.teacher(0.0).predict(x), minlength=10) / x.shape[0]
    assert frequency.min() > 0.08
    assert frequency.max() < 0.12


# -- synthetic: covariate shift --------------------------------------------------------------


@pytest.mark.parametrize("shift", [0.0, 1.0, 2.0])
def test_covariate_shift_moves_input_distribution(shift: float) -> None:
    world = synthetic_world(0, 20, 10)
    x = world.draw_inputs(np.random.default_rng(7), 40_000, shift)
    mean = x.mean(axis=0)
    assert abs(mean @ world.shift_direction - shift) < 0.05
    assert np.abs(mean - shift * world.shift_direction).max() < 0.05
    covariance = np.cov(x, rowvar=False)
    assert np.abs(covariance - world.input_covariance(shift)).max() < 0.1
    if shift == 0.0:
        assert np.allclose(world.input_covariance(shift), np.eye(20))


def test_covariate_shift_moves_the_loaded_mean_along_u() -> None:
    world = synthetic_world(0, 20, 10)
    source = FAMILY.load("synthetic_source", examples_per_class=100)
    target = FAMILY.load("synthetic_covariate", examples_per_class=100)
    moved = (target.X.mean(axis=0) - source.X.mean(axis=0)) @ world.shift_direction
    # about s = 1; class balancing re-weights p(x) a little (module docstring)
    assert 0.6 < moved < 1.2
    bigger = FAMILY.load("synthetic_covariate", covariate_shift=2.0, examples_per_class=100)
    assert (bigger.X.mean(axis=0) - source.X.mean(axis=0)) @ world.shift_direction > 1.4


def test_covariate_shift_keeps_the_labelling_function() -> None:
    target = FAMILY.load("synthetic_covariate", seed=2)
    source_teacher = synthetic_world(0, 20, 10).teacher(0.0)
    assert np.array_equal(source_teacher.predict(target.X), target.y_encoded)


# -- synthetic: concept shift ----------------------------------------------------------------


def _agreement_with_source(concept_shift: float) -> float:
    world = synthetic_world(0, 20, 10)
    X, y = sample_synthetic(world, seed=0, concept_shift=concept_shift, examples_per_class=100)
    assert np.array_equal(np.bincount(y), np.full(10, 100))
    return float(np.mean(world.teacher(0.0).predict(X) == y))


def test_concept_shift_relabels_points() -> None:
    none, half, full = (_agreement_with_source(c) for c in (0.0, 0.5, 1.0))
    assert none == 1.0
    assert full < 0.5
    assert full < half < none


def test_concept_shift_targets_have_their_own_teacher() -> None:
    target = FAMILY.load("synthetic_concept")
    world = synthetic_world(0, 20, 10)
    assert np.array_equal(world.teacher(0.5).predict(target.X), target.y_encoded)
    assert np.mean(world.teacher(0.0).predict(target.X) == target.y_encoded) < 0.9


# -- synthetic: noise ------------------------------------------------------------------------


def test_noise_perturbs_features_not_labels() -> None:
    clean = FAMILY.load("synthetic_source", seed=3)
    noisy = FAMILY.load("synthetic_source", seed=3, noise=0.5)
    assert np.array_equal(clean.y, noisy.y)
    assert 0.45 < float(np.std(noisy.X - clean.X)) < 0.55


# -- bad options and limits ------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"n_features": 1},
        {"n_features": 1001},
        {"n_classes": 1},
        {"n_classes": 101},
        {"examples_per_class": 1},
        {"family_seed": -1},
        {"covariate_shift": -0.1},
        {"covariate_shift": float("inf")},
        {"concept_shift": 1.5},
        {"concept_shift": -0.5},
        {"noise": -0.1},
        {"noise": float("nan")},
        {"shift": 1.0},
    ],
)
def test_bad_synthetic_options(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError) as info:
        FAMILY.load("synthetic_source", **options)
    assert info.value.code == "builtin.bad_option"


def test_class_too_rare_under_the_shift_is_an_option_error() -> None:
    with pytest.raises(ConfigurationError) as info:
        FAMILY.load("synthetic_covariate", covariate_shift=100.0, examples_per_class=5)
    assert info.value.code == "builtin.bad_option"
    assert "too rare" in info.value.message


@pytest.mark.parametrize(
    "kwargs", [{"seed": -1}, {"seed": 0, "concept_shift": 2.0}, {"seed": 0, "noise": -1.0}]
)
def test_sample_synthetic_checks_its_arguments(kwargs: dict[str, Any]) -> None:
    world = synthetic_world(0, 20, 10)
    with pytest.raises(ConfigurationError) as info:
        sample_synthetic(world, **kwargs)
    assert info.value.code == "builtin.bad_option"


@pytest.fixture
def tiny_cell_limit(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("ADVISOR_MAX_CELLS", "1000")
    reset_settings()
    yield
    monkeypatch.delenv("ADVISOR_MAX_CELLS")
    reset_settings()


@pytest.mark.usefixtures("tiny_cell_limit")
def test_sample_larger_than_max_cells_is_refused_before_drawing() -> None:
    with pytest.raises(LimitExceededError) as info:
        FAMILY.load("synthetic_source")
    assert info.value.code == "dataset.too_many_cells"
