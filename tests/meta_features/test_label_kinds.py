"""Labels of any hashable kind, sortable or not, are encoded; none raises a raw exception."""

from __future__ import annotations

import numpy as np
import pytest

import meta_features as mf
from meta_features._checks import as_labels
from meta_features.errors import InvalidInputError


def test_labels_that_do_not_sort_together_are_coded_in_order_of_appearance() -> None:
    """``None`` beside strings raised a raw TypeError from numpy's sort."""
    codes, count = as_labels(np.array([None, "b", "a", None, 1], dtype=object), 5)
    assert codes.tolist() == [0, 1, 2, 0, 3] and count == 4
    sortable, _ = as_labels(np.array(["b", "a", "b"]), 3)
    assert sortable.tolist() == [1, 0, 1]  # sorted order, as before


def test_unhashable_labels_are_refused_with_a_code() -> None:
    labels = np.empty(2, dtype=object)
    labels[0], labels[1] = {"a": 1}, {"b": 2}
    with pytest.raises(InvalidInputError) as caught:
        as_labels(labels, 2)
    assert caught.value.code == "input.invalid"


def test_extract_measures_labels_of_mixed_kinds() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 3))
    y = np.array([None, "b", 3] * 4, dtype=object)
    features = mf.extract(X, y, groups=["general"])
    assert features["nr_class"] == 3
