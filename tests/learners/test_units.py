"""A table's units do not matter: columns in tiny or huge units are standardised, not zeroed."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from learners import make_learner
from learners.families._linear import LinearModel
from learners.tensors import InputSpec, standardisation, to_tensor

UNITS = [1e-13, 1e-160, 1e160, 1e300]


def signed_table(unit: float) -> tuple[np.ndarray, np.ndarray]:
    """Two columns of ±(1–2)·unit; the label is the sign of the first."""
    rng = np.random.default_rng(0)
    labels = np.array(["p"] * 20 + ["q"] * 20)
    sign = np.where(labels == "p", 1.0, -1.0)
    first = sign * (1.0 + rng.random(40))
    second = rng.choice([-1.0, 1.0], 40) * (1.0 + rng.random(40))
    return np.column_stack([first, second]) * unit, labels


@pytest.mark.parametrize("unit", UNITS)
def test_standardisation_is_unit_free(unit: float) -> None:
    X, _ = signed_table(unit)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warnings
        mean, scale = standardisation(X)
        reference_mean, reference_scale = standardisation(X / unit)
    np.testing.assert_allclose(mean / unit, reference_mean, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(scale / unit, reference_scale, rtol=1e-9)
    np.testing.assert_allclose((X - mean) / scale, (X / unit - reference_mean) / reference_scale)


def test_ordinary_columns_keep_their_floats() -> None:
    """The knowledge base's learners reproduce bit for bit: the same floats as mean and std."""
    rng = np.random.default_rng(1)
    X = rng.normal(3.0, 2.0, size=(30, 5))
    X[:, 2] = 7.0  # constant: scale 1, mean as numpy gives it
    X[:, 3] = 0.0
    X[:, 4] = rng.integers(0, 255, 30) / 255.0
    mean, scale = standardisation(X)
    expected = X.std(axis=0)
    expected[expected < 1e-12] = 1.0
    assert np.array_equal(mean, X.mean(axis=0))
    assert np.array_equal(scale, expected)
    float32 = X.astype(np.float32)
    mean32, scale32 = standardisation(float32)
    expected32 = float32.std(axis=0)
    expected32[expected32 < 1e-12] = 1.0
    assert np.array_equal(mean32, float32.mean(axis=0)) and np.array_equal(scale32, expected32)


def test_constant_columns_stay_constant_in_any_units() -> None:
    X = np.column_stack([np.full(10, 3e-13), np.full(10, 5e300), np.full(10, 0.1)])
    mean, scale = standardisation(X)
    assert np.all(np.isfinite(scale)) and np.all(scale > 0)
    assert np.allclose((X - mean) / scale, 0.0)


@pytest.mark.parametrize("unit", UNITS)
def test_linear_model_separates_any_units(unit: float) -> None:
    X, labels = signed_table(unit)
    codes = (labels == "q").astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = LinearModel.fit(X, codes, C=1.0, seed=0)
        accuracy = float(np.mean(model.predict_proba(X).argmax(axis=1) == codes))
    assert accuracy == 1.0


@pytest.mark.parametrize("unit", UNITS)
def test_logreg_learner_separates_any_units(unit: float) -> None:
    X, labels = signed_table(unit)
    model = make_learner("scratch", variant="logreg").fit(X, labels)
    assert float(np.mean(model.predict(X) == labels)) == 1.0


@pytest.mark.parametrize("unit", UNITS)
def test_vector_tensors_are_unit_free(unit: float) -> None:
    """What the networks (scratch MLP, sources built from a table) see does not depend on units."""
    X, _ = signed_table(unit)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        spec = InputSpec.from_data(X)
        tensor = to_tensor(X, spec).numpy()
    reference = to_tensor(X / unit, InputSpec.from_data(X / unit)).numpy()
    np.testing.assert_allclose(tensor, reference, rtol=1e-5, atol=1e-6)
    assert np.abs(tensor[:, 0]).min() > 0.1  # the informative column is not zeroed


@pytest.mark.parametrize("unit", [1e-13, 1e300])
def test_scratch_network_separates_any_units(unit: float, one_thread: None) -> None:
    X, labels = signed_table(unit)
    model = make_learner("scratch", variant="cnn", steps=60, random_state=0).fit(X, labels)
    assert float(np.mean(model.predict(X) == labels)) >= 0.95
