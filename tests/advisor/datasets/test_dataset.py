"""make_dataset: the one door through which arrays become a Dataset."""

from __future__ import annotations

import numpy as np
import pytest

from advisor.datasets import make_dataset
from advisor.datasets.dataset import Provenance, normalize_labels
from advisor.errors import DatasetError, LimitExceededError
from advisor.settings import DataLimits


def test_vector_dataset_encodes_labels_and_describes_itself() -> None:
    X = np.arange(12, dtype=np.int32).reshape(6, 2)
    y = np.array(["b", "a", "b", "c", "a", "c"])
    ds = make_dataset(X, y, provenance=Provenance(name="toy", format="array"))
    assert ds.modality == "vector" and ds.X.dtype == np.float64
    assert ds.classes.tolist() == ["a", "b", "c"]
    assert (ds.classes[ds.y_encoded] == y).all()
    assert ds.info.n_rows == 6 and ds.info.n_classes == 3 and ds.info.n_features == 2
    assert ds.info.shots.model_dump() == {"min": 2, "median": 2.0, "max": 2}
    assert ds.info.class_counts == {"a": 2, "b": 2, "c": 2}
    assert ds.feature_names == ("x0", "x1")
    assert ds.info.dtypes == {"X": "float64", "y": "<U1"}


def test_arrays_are_read_only() -> None:
    ds = make_dataset(np.zeros((4, 2)), [0, 1, 0, 1])
    with pytest.raises(ValueError):
        ds.X[0, 0] = 1.0
    with pytest.raises(ValueError):
        ds.y_encoded[0] = 3


@pytest.mark.parametrize(
    ("images", "dtype"),
    [
        (np.full((4, 5, 5), 200, dtype=np.int64), np.uint8),
        (np.full((4, 5, 5, 1), 0.5), np.float32),
        (np.ones((4, 5, 5, 3), dtype=bool), np.uint8),
    ],
)
def test_images_are_normalised_to_uint8_or_float32(images: np.ndarray, dtype: type) -> None:
    ds = make_dataset(images, [0, 0, 1, 1])
    assert ds.modality == "image" and ds.X.dtype == dtype
    assert ds.X.shape[:3] == (4, 5, 5) and ds.X.ndim in (3, 4)
    assert ds.feature_names is None


@pytest.mark.parametrize(
    ("labels", "expected_dtype"),
    [
        ([1, 2, 1], np.int64),
        ([1.5, 2, 1.5], np.float64),
        ([True, False, True], np.bool_),
        (["a", 1, "a"], np.str_),
    ],
)
def test_object_labels_get_one_sortable_kind(labels: list, expected_dtype: type) -> None:
    normalized = normalize_labels(np.array(labels, dtype=object))
    assert normalized.dtype.type is expected_dtype


@pytest.mark.parametrize(
    ("X", "y", "code", "kwargs"),
    [
        (np.zeros((3, 2)), [0, 1], "dataset.shape_mismatch", {}),
        (np.zeros((2, 2, 2, 2, 2)), [0, 1], "dataset.shape_mismatch", {}),
        (np.zeros((4, 5, 5, 2)), [0, 0, 1, 1], "dataset.shape_mismatch", {}),
        (np.zeros((4, 2)), [0, 0, 1, 1], "dataset.shape_mismatch", {"modality": "image"}),
        (np.zeros((0, 2)), [], "dataset.no_rows", {}),
        (np.zeros((4, 0)), [0, 0, 1, 1], "dataset.no_features", {}),
        (np.array([[1.0], [np.nan], [1.0], [2.0]]), [0, 0, 1, 1], "dataset.non_finite", {}),
        (np.array([["a"], ["b"], ["c"], ["d"]]), [0, 0, 1, 1], "dataset.bad_dtype", {}),
        (np.full((4, 3, 3), 300), [0, 0, 1, 1], "dataset.bad_dtype", {}),
        (np.full((4, 3, 3), 1.5), [0, 0, 1, 1], "dataset.bad_dtype", {}),
        (np.zeros((4, 1)), [0, None, 1, 1], "dataset.missing_labels", {}),
        (np.zeros((4, 1)), [0.0, np.nan, 1.0, 1.0], "dataset.missing_labels", {}),
        (np.zeros((4, 1)), ["a", " ", "b", "b"], "dataset.missing_labels", {}),
        (np.zeros((4, 1)), [1, 1, 1, 1], "dataset.single_class", {}),
        (np.zeros((4, 1)), [1, 1, 1, 2], "dataset.class_too_small", {}),
        (np.zeros((4, 1)), [0, 0, 1, 1], "dataset.shape_mismatch", {"groups": [1, 2]}),
        (np.zeros((4, 1)), [0, 0, 1, 1], "dataset.shape_mismatch", {"feature_names": ["a", "b"]}),
    ],
)
def test_bad_arrays_are_refused_with_their_code(X, y, code: str, kwargs: dict) -> None:
    with pytest.raises(DatasetError) as caught:
        make_dataset(X, y, **kwargs)
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("limits", "X", "code"),
    [
        (DataLimits(max_rows=3), np.zeros((4, 1)), "dataset.too_many_rows"),
        (DataLimits(max_columns=1), np.zeros((4, 2)), "dataset.too_many_columns"),
        (DataLimits(max_image_pixels=8), np.zeros((4, 3, 3)), "dataset.image_too_large"),
        (DataLimits(max_image_count=3), np.zeros((4, 3, 3)), "dataset.too_many_rows"),
    ],
)
def test_limits_are_enforced(limits: DataLimits, X: np.ndarray, code: str) -> None:
    with pytest.raises(LimitExceededError) as caught:
        make_dataset(X, [0, 0, 1, 1], limits=limits)
    assert caught.value.code == code


@pytest.mark.parametrize(
    "y",
    [
        np.round(np.linspace(10.0, 99.0, 40) * 1.37, 2),  # prices with cents
        np.arange(40) % 25 * 13,  # whole numbers, 25 distinct in 40 rows, some once
    ],
)
def test_a_quantity_as_labels_is_named_for_what_it_is(y: np.ndarray) -> None:
    with pytest.raises(DatasetError) as caught:
        make_dataset(np.zeros((40, 1)), y)
    assert caught.value.code == "dataset.numeric_label"
    assert "quantity to predict (regression)" in caught.value.message


@pytest.mark.parametrize(
    ("y", "code"),
    [
        (np.r_[np.arange(10).repeat(3), 9.5], "dataset.class_too_small"),  # 11 distinct only
        (np.arange(60.0) % 19, None),  # 19 classes, each three times or more
        (np.r_[np.arange(20).repeat(6), [99]], "dataset.class_too_small"),  # 21 in 121 rows
        (np.r_[np.arange(19).repeat(5), [99] * 4, [7.5]], "dataset.class_too_small"),  # 1 rare
        (np.r_[np.arange(19).repeat(5), np.arange(100, 108) + 0.5], "dataset.numeric_label"),
    ],
)
def test_class_codes_are_not_taken_for_a_quantity(y: np.ndarray, code: str | None) -> None:
    """Numbers read as a quantity only where they fail as classes, and are many and varied."""
    if code is None:
        assert make_dataset(np.zeros((y.size, 1)), y).n_classes == 19
        return
    with pytest.raises(DatasetError) as caught:
        make_dataset(np.zeros((y.size, 1)), y)
    assert caught.value.code == code


def test_too_many_classes_is_checked_before_class_sizes() -> None:
    with pytest.raises(LimitExceededError) as caught:
        make_dataset(np.zeros((5, 1)), [0, 1, 2, 3, 4], limits=DataLimits(max_classes=4))
    assert caught.value.code == "dataset.too_many_classes"
    assert caught.value.details == {"classes": 5, "limit": 4}


def test_take_and_select_classes_keep_provenance_and_reencode() -> None:
    X = np.arange(8, dtype=float).reshape(8, 1)
    y = np.array(["a", "a", "b", "b", "c", "c", "d", "d"])
    ds = make_dataset(X, y, groups=np.arange(8) % 2, provenance=Provenance(name="n", sha256="h"))
    sub = ds.select_classes(["b", "d"])
    assert sub.classes.tolist() == ["b", "d"]
    assert sub.y_encoded.tolist() == [0, 0, 1, 1]
    assert sub.X[:, 0].tolist() == [2.0, 3.0, 6.0, 7.0]
    assert sub.groups is not None and sub.groups.tolist() == [0, 1, 0, 1]
    assert sub.info.sha256 == "h" and sub.info.name == "n"
    single = ds.take([0])  # a slice may break the few-shot rules; it is still a dataset
    assert single.info.n_classes == 1
    with pytest.raises(DatasetError) as caught:
        ds.select_classes(["z"])
    assert caught.value.code == "dataset.bad_option"
