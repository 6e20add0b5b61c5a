"""The learning-curve bench draws what its docstring says, and scores what it claims."""

from __future__ import annotations

import numpy as np
import pytest

from bench.learning_curve import TABLES, _draw, _errors


@pytest.mark.parametrize("table", ["wine", "digits"])
def test_the_extra_data_doubles_each_class_and_the_test_set_is_the_rest(table: str) -> None:
    X, y, X_extra, y_extra, X_test, y_test = _draw(table, per_class=5, seed=1)
    _, labels = TABLES[table]()
    classes = np.unique(labels)
    assert np.bincount(y).tolist() == [5] * classes.size
    assert np.bincount(y_extra).tolist() == [5] * classes.size
    assert len(X) + len(X_extra) + len(X_test) == len(labels)
    rows = {tuple(r) for r in np.concatenate([X, X_extra])}
    assert not any(tuple(r) in rows for r in X_test[:50])  # no training row is tested
    again = _draw(table, per_class=5, seed=1)
    assert np.array_equal(again[0], X) and np.array_equal(again[5], y_test)


@pytest.mark.parametrize("ways", [5, 20])
def test_the_glyph_draw_keeps_its_classes_as_uint8_pixels(ways: int) -> None:
    X, y, _, y_extra, X_test, y_test = _draw(f"greek glyphs, {ways} ways", per_class=3, seed=0)
    assert np.bincount(y).tolist() == [3] * ways and np.bincount(y_extra).tolist() == [3] * ways
    assert set(np.unique(y_test)) == set(range(ways))
    # As a user's images reach the learners: floats would have to be in [0, 1].
    assert X.dtype == np.uint8 and X_test.dtype == np.uint8


def test_every_error_is_over_the_draws_that_gave_a_gain() -> None:
    rows = [
        {"predicted": 0.02, "realised": 0.05, "naive": 0.10},
        {"predicted": None, "realised": 0.40, "naive": 0.00},  # no gain given: left out
        {"predicted": 0.04, "realised": 0.01, "naive": 0.00},
    ]
    found = _errors(rows)
    assert found["given"] == 2
    assert found["ours"] == pytest.approx(0.03) and found["no gain"] == pytest.approx(0.03)
    assert found["last doubling"] == pytest.approx(0.03)
    assert found["realised"] == pytest.approx(0.03) and found["predicted"] == pytest.approx(0.03)
