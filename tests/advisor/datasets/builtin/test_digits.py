"""The ``digits`` family: sklearn's handwritten digits in the MNIST 28x28 layout."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_digits

from advisor.datasets.builtin.digits import DigitsFamily, digit_box_size, upsample_digits
from advisor.datasets.dataset import Dataset
from advisor.errors import ConfigurationError, NotFoundError

FAMILY = DigitsFamily()


@pytest.fixture(scope="module")
def digits() -> Dataset:
    return FAMILY.load("handwritten", seed=0)


def _row_multiset(images: np.ndarray, labels: np.ndarray) -> list[tuple[int, bytes]]:
    return sorted(
        (int(label), image.tobytes()) for image, label in zip(images, labels, strict=True)
    )


def test_domains_and_card() -> None:
    assert FAMILY.name == "digits"
    assert FAMILY.domains() == ["handwritten"]
    card = FAMILY.card("handwritten")
    assert card.family == "digits"
    assert card.modality == "image"
    assert card.n_classes == 10
    assert card.input_shape == (28, 28)
    assert card.description
    assert "\n" not in card.description


def test_shapes_dtypes_and_labels(digits: Dataset) -> None:
    assert digits.modality == "image"
    assert digits.X.shape == (1797, 28, 28)
    assert digits.X.dtype == np.uint8
    assert digits.y.dtype == np.int64
    assert digits.classes.tolist() == list(range(10))
    expected_counts = np.bincount(load_digits().target, minlength=10)
    assert np.array_equal(np.bincount(digits.y, minlength=10), expected_counts)
    assert digits.groups is None
    assert digits.info.name == "digits/handwritten"
    assert digits.info.format == "builtin"


def test_digit_sits_in_the_centred_20x20_box(digits: Dataset) -> None:
    X = digits.X
    assert not X[:, :4, :].any()
    assert not X[:, 24:, :].any()
    assert not X[:, :, :4].any()
    assert not X[:, :, 24:].any()
    box = X[:, 4:24, 4:24].reshape(len(X), -1)
    assert (box.max(axis=1) > 100).all()  # every image has ink in its box


def test_ink_is_bright_on_a_dark_background(digits: Dataset) -> None:
    X = digits.X.astype(np.float64)
    assert X.max() == 255
    assert np.median(X) == 0
    assert X.mean() < 80
    # the stroke pixels (the brightest tenth of each box) are bright
    box = digits.X[:, 4:24, 4:24].reshape(len(X), -1)
    assert np.percentile(box, 90, axis=1).min() > 100


def test_matches_sklearn_up_to_row_order(digits: Dataset) -> None:
    source = load_digits()
    expected = upsample_digits(source.images)
    assert _row_multiset(digits.X, digits.y) == _row_multiset(expected, source.target)


def test_seed_only_permutes_rows(digits: Dataset) -> None:
    again = FAMILY.load("handwritten", seed=0)
    other = FAMILY.load("handwritten", seed=1)
    assert again.X.tobytes() == digits.X.tobytes()
    assert again.y.tobytes() == digits.y.tobytes()
    assert other.X.tobytes() != digits.X.tobytes()
    assert _row_multiset(other.X, other.y) == _row_multiset(digits.X, digits.y)


def test_upsample_constant_and_point_images() -> None:
    full = np.full((1, 8, 8), 16.0)
    image = upsample_digits(full)[0]
    assert image.dtype == np.uint8
    assert (image[4:24, 4:24] == 255).all()
    image[4:24, 4:24] = 0
    assert not image.any()

    dot = np.zeros((1, 8, 8))
    dot[0, 3:5, 3:5] = 16.0
    blob = upsample_digits(dot)[0].astype(int)
    assert blob.max() == 255  # bicubic overshoot is clipped, not wrapped
    peak = np.unravel_index(np.argmax(blob), blob.shape)
    assert 12 <= peak[0] <= 15
    assert 12 <= peak[1] <= 15
    assert np.array_equal(blob, blob.T)  # a symmetric input stays symmetric


@pytest.mark.parametrize(("size", "box"), [(12, 9), (28, 20), (32, 23), (56, 40)])
def test_box_size(size: int, box: int) -> None:
    assert digit_box_size(size) == box


def test_image_size_option() -> None:
    small = FAMILY.load("handwritten", image_size=12)
    assert small.X.shape == (1797, 12, 12)
    # box of 9 at offset 1: row/column 0 and 10-11 are background
    assert not small.X[:, 0, :].any()
    assert not small.X[:, 10:, :].any()
    assert not small.X[:, :, 0].any()
    assert not small.X[:, :, 10:].any()
    assert small.X[:, 1:10, 1:10].any()


@pytest.mark.parametrize("options", [{"image_size": 11}, {"image_size": 1000}, {"size": 28}])
def test_bad_options(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError) as info:
        FAMILY.load("handwritten", **options)
    assert info.value.code == "builtin.bad_option"


def test_unknown_domain() -> None:
    with pytest.raises(NotFoundError) as info:
        FAMILY.load("printed")
    assert info.value.code == "builtin.unknown_domain"
    with pytest.raises(NotFoundError):
        FAMILY.card("printed")
