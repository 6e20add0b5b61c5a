"""The imbalanced-classes bench draws what its docstring says."""

from __future__ import annotations

import numpy as np
import pytest

from bench.imbalanced import TABLES, _split


@pytest.mark.parametrize("table", list(TABLES))
def test_the_rare_class_is_rare_and_the_test_set_is_every_other_row(table: str) -> None:
    loader, rare, kept = TABLES[table]
    _, y_all = loader(return_X_y=True)
    X, y, X_test, y_test = _split(table, ratio=15, common=40, seed=0)
    assert len(X) == len(y) and len(X_test) == len(y_test)
    counts = {int(label): int(np.sum(y == label)) for label in kept}
    assert counts == {label: 3 if label == rare else 40 for label in kept}
    assert set(np.unique(y_test)) == set(kept)  # every class is tested
    for label in kept:  # each row of a kept class lies in exactly one of the two sets
        assert counts[label] + int(np.sum(y_test == label)) == int(np.sum(y_all == label))
    again = _split(table, ratio=15, common=40, seed=0)
    assert np.array_equal(again[0], X) and np.array_equal(again[3], y_test)
