"""``predict_rows`` and ``accuracy``: one model's answers, and the inputs it refuses."""

from __future__ import annotations

import numpy as np
import pytest

from advisor.errors import AdvisorError
from advisor.prediction import accuracy, as_rows, predict_rows
from learners import make_learner


@pytest.fixture(scope="module")
def model():  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(-2, 1, (10, 3)), rng.normal(2, 1, (10, 3))])
    y = np.array(["low"] * 10 + ["high"] * 10)
    return make_learner("scratch", variant="logreg").fit(X, y)


def test_labels_and_probabilities_agree_with_the_model(model) -> None:  # type: ignore[no-untyped-def]
    X = np.array([[-2.0, -2.0, -2.0], [2.0, 2.0, 2.0], [0.1, 0.0, -0.1]])
    answer = predict_rows(model, X)
    assert answer.classes == [str(c) for c in model.classes_] == ["high", "low"]
    assert answer.labels == [str(c) for c in model.predict(X)]
    assert answer.labels[:2] == ["low", "high"]
    assert np.allclose(np.sum(answer.probabilities, axis=1), 1.0, atol=1e-5)
    assert np.allclose(answer.probabilities, np.round(model.predict_proba(X), 6))
    assert accuracy(answer, ["low", "high", "high"]) == pytest.approx(
        np.mean(np.array(answer.labels) == ["low", "high", "high"])
    )


@pytest.mark.parametrize(
    "X",
    [
        np.array([[1.0, np.nan, 0.0]]),
        np.array([[1.0, np.inf, 0.0]]),
        np.array([[1.0, 2.0]]),  # too narrow
        np.zeros((1, 3, 3)),  # images for a vector model
    ],
    ids=["nan", "infinite", "narrow", "images"],
)
def test_rows_that_do_not_fit_are_refused(model, X: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AdvisorError) as caught:
        predict_rows(model, X)
    assert caught.value.code == "predict.bad_instances"


def test_as_rows_refuses_ragged_and_text() -> None:
    assert as_rows([[1, 2], [3, 4]]).dtype == np.float64
    for instances in ([[1, 2], [3]], [["a", "b"]]):
        with pytest.raises(AdvisorError) as caught:
            as_rows(instances)
        assert caught.value.code == "predict.bad_instances"


def test_as_rows_reads_integer_images_as_pixel_levels() -> None:
    """JSON integers 0-255 in an image-shaped array, ``(n, h, w[, c])``, are uint8 pixel
    levels; a number with a fraction, one outside 0-255, and vectors (2-D) stay float64."""
    levels = [[[0, 128], [255, 7]]]
    assert as_rows(levels).dtype == np.uint8 and as_rows(levels).tolist() == levels
    assert as_rows([[[[0, 1, 2]]]]).dtype == np.uint8
    for other in (
        [[[0.0, 0.5], [1.0, 1.0]]],
        [[[0, 1.0]]],
        [[[0, 256]]],
        [[[-1, 3]]],
        [[1, 2]],
        [[[True, False]]],
    ):
        assert as_rows(other).dtype == np.float64, other


def test_images_sent_as_pixel_levels_are_classified_as_uint8_images() -> None:
    """The service's bug: uint8 images sent as JSON integers were refused as float64 images
    outside [0, 1] (``learners.input_mismatch``)."""
    rng = np.random.default_rng(2)
    images = rng.integers(0, 256, size=(8, 6, 6), dtype=np.uint8)
    model = make_learner("scratch", variant="logreg").fit(images, np.array(["a", "b"] * 4))
    assert predict_rows(model, as_rows(images.tolist())) == predict_rows(model, images)
    with pytest.raises(AdvisorError) as caught:  # the levels as floats: 255 times too bright
        predict_rows(model, as_rows(images.astype(np.float64).tolist()))
    assert caught.value.code == "learners.input_mismatch"


def test_accuracy_needs_one_label_per_prediction(model) -> None:  # type: ignore[no-untyped-def]
    answer = predict_rows(model, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="1 labels for 2 predictions"):
        accuracy(answer, ["low"])


def test_images_are_read_at_the_models_size_and_colour(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A model trained on 10x12 images reads loose 20x24 PNGs straight to 10x12 (at the
    loader's default, 28x28, they would be resized twice: to 28x28, then by the learner)."""
    from PIL import Image

    from advisor.datasets.rows import load_rows
    from advisor.prediction import reading_options

    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(8, 10, 12), dtype=np.uint8)
    model = make_learner("scratch", variant="logreg").fit(images, np.array(["a", "b"] * 4))
    assert reading_options(model) == {"image_size": (10, 12), "color": "grayscale"}
    for number in range(3):
        pixels = rng.integers(0, 256, size=(20, 24), dtype=np.uint8)
        Image.fromarray(pixels).save(tmp_path / f"{number}.png")
    rows = load_rows(tmp_path, **reading_options(model))
    assert rows.X.shape == (3, 10, 12) and load_rows(tmp_path).X.shape == (3, 28, 28)
    assert len(predict_rows(model, rows.X).labels) == 3
    rgb = rng.integers(0, 256, size=(4, 6, 6, 3), dtype=np.uint8)
    coloured = make_learner("scratch", variant="logreg").fit(rgb, np.array(["a", "b"] * 2))
    assert reading_options(coloured) == {"image_size": (6, 6), "color": "rgb"}
    assert load_rows(tmp_path, **reading_options(coloured)).X.shape == (3, 6, 6, 3)


def test_vectors_need_no_reading_options(model) -> None:  # type: ignore[no-untyped-def]
    from advisor.prediction import reading_options

    assert reading_options(model) == {}


def test_classify_scores_labeled_rows_and_names_labels_it_never_saw(model) -> None:  # type: ignore[no-untyped-def]
    from advisor.prediction import classify

    rows = b"x0,x1,x2,y\n-2,-2,-2,low\n2,2,2,high\n2,2,2,High\n"
    classified = classify(model, rows, name="rows.csv", label="y")
    assert classified.predictions.labels == ["low", "high", "high"]
    assert classified.accuracy == pytest.approx(2 / 3)
    assert classified.rows.warnings[-1] == (
        "Labels the model was not trained on: 'High' (their rows count as wrong — in balanced "
        "accuracy, a class of its own, never recalled)."
    )
    answer = classified.answer()
    assert answer.ids == ["1", "2", "3"] and answer.accuracy == classified.accuracy
    with pytest.raises(AdvisorError) as caught:  # unnamed, the label column reads as text
        classify(model, rows, name="rows.csv")
    assert "name the label column" in caught.value.message
    unlabeled = classify(model, b"x0,x1,x2\n-2,-2,-2\n", name="rows.csv")
    assert unlabeled.accuracy is None and unlabeled.answer().accuracy is None
