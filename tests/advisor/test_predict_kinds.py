"""An image model given a table is told the kind of data it takes first, whatever the columns."""

from __future__ import annotations

import numpy as np
import pytest

from advisor.errors import AdvisorError
from advisor.prediction import classify, predict_rows
from learners import Learner, make_learner


@pytest.fixture(scope="module")
def image_model() -> Learner:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(12, 8, 8)).astype(np.uint8)
    return make_learner("scratch", variant="logreg").fit(images, np.array(["a", "b"] * 6))


TABLES = {
    "text label": b"x,label\n1,a\n2,b\n",
    "text feature": b"colour,size\nred,1\nblue,2\n",
    "numbers with a gap": b"x,y\n1,\n2,3\n",
    "numbers": b"x,y\n1,2\n2,3\n",
}


def _refusal(call: object) -> AdvisorError:
    with pytest.raises(AdvisorError) as caught:
        call()  # type: ignore[operator]
    return caught.value


@pytest.mark.parametrize("table", list(TABLES))
def test_a_table_given_to_an_image_model_is_refused_for_its_kind(
    image_model: Learner, table: str
) -> None:
    error = _refusal(lambda: classify(image_model, TABLES[table], name="rows.csv"))
    assert error.code == "predict.bad_instances"
    assert "The model takes image inputs (8x8)" in error.message
    assert "hold text" not in error.message and "missing" not in error.message


def test_the_labeled_table_says_the_same(image_model: Learner) -> None:
    error = _refusal(
        lambda: classify(image_model, TABLES["text label"], name="rows.csv", label="label")
    )
    assert error.code == "predict.bad_instances"
    assert "The model takes image inputs (8x8)" in error.message


def test_rows_of_the_wrong_kind_holding_gaps_are_refused_for_their_kind(
    image_model: Learner,
) -> None:
    error = _refusal(lambda: predict_rows(image_model, np.array([[1.0, np.nan]])))
    assert "The model takes image inputs (8x8)" in error.message


def test_images_with_gaps_are_still_refused_for_their_values(image_model: Learner) -> None:
    images = np.full((1, 8, 8), 0.5)
    images[0, 0, 0] = np.nan
    error = _refusal(lambda: predict_rows(image_model, images))
    assert error.code == "predict.bad_instances"
    assert "missing or infinite" in error.message
