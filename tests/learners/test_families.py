"""Every family and variant: learns an easy task, saves and loads, follows scikit-learn."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.base import clone

from learners import FAMILIES, Learner, Source, build_source, make_learner
from learners.errors import InvalidInputError, NotFoundError
from meta_features.errors import AdvisorError

from .synthetic import blob_classes, pattern_images

ALL = [(family, variant) for family, names in FAMILIES.items() for variant in names]


@pytest.fixture(scope="module")
def vector_source() -> Source:
    """A tiny source of 20 well-separated vector classes, built in a couple of seconds."""
    X, y = blob_classes(20, 30, 10, seed=0)
    return build_source(
        (X, y),
        name="blobs",
        pretrain_epochs=15,
        meta_episodes=40,
        meta_shots=3,
        meta_queries=3,
        seed=0,
    )


@pytest.fixture(scope="module")
def image_source() -> Source:
    """A tiny source of 12 noisy 12×12 pattern classes."""
    X, y = pattern_images(12, 20, seed=1)
    return build_source(
        (X, y),
        name="patterns",
        pretrain_epochs=6,
        meta_episodes=15,
        meta_shots=2,
        meta_queries=2,
        seed=0,
    )


def _split(X: np.ndarray, y: np.ndarray, shots: int):
    support = np.concatenate([np.flatnonzero(y == k)[:shots] for k in np.unique(y)])
    query = np.setdiff1d(np.arange(y.size), support)
    return X[support], y[support], X[query], y[query]


def _learner(family: str, variant: str, source: Source, **params) -> Learner:
    return make_learner(
        family, source=None if family == "scratch" else source, variant=variant, **params
    )


@pytest.mark.parametrize(("family", "variant"), ALL)
def test_every_variant_learns_an_easy_vector_task(family, variant, vector_source) -> None:
    """New classes from the source's own world: well-separated Gaussian classes."""
    X, y = blob_classes(5, 12, 10, seed=7)
    Xs, ys, Xq, yq = _split(X, y, shots=5)
    labels = np.array(["ant", "bee", "cat", "dog", "eel"])
    model = _learner(family, variant, vector_source).fit(Xs, labels[ys])
    probabilities = model.predict_proba(Xq)
    assert probabilities.shape == (yq.size, 5)
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    assert (model.classes_ == labels).all()
    accuracy = np.mean(model.predict(Xq) == labels[yq])
    assert accuracy >= 0.95, f"{family}/{variant}: {accuracy:.2f}"


@pytest.mark.parametrize(("family", "variant"), ALL)
def test_every_variant_learns_an_easy_image_task(family, variant, image_source) -> None:
    X, y = pattern_images(4, 10, seed=11)
    Xs, ys, Xq, yq = _split(X, y, shots=5)
    model = _learner(family, variant, image_source).fit(Xs, ys)
    accuracy = np.mean(model.predict(Xq) == yq)
    assert accuracy >= 0.95, f"{family}/{variant}: {accuracy:.2f}"


@pytest.mark.parametrize(("family", "variant"), ALL)
def test_save_then_load_gives_identical_predictions(
    family, variant, vector_source, tmp_path: Path
) -> None:
    X, y = blob_classes(3, 8, 10, seed=3)
    Xs, ys, Xq, _ = _split(X, y, shots=4)
    model = _learner(family, variant, vector_source).fit(Xs, ys)
    folder = model.save(tmp_path / "model")
    again = Learner.load(folder, source=vector_source)
    assert type(again) is type(model)
    assert again.get_params(deep=False).keys() == model.get_params(deep=False).keys()
    np.testing.assert_array_equal(again.predict(Xq), model.predict(Xq))
    np.testing.assert_allclose(again.predict_proba(Xq), model.predict_proba(Xq), atol=1e-6)


def test_corrupt_saved_model_is_refused(vector_source, tmp_path: Path) -> None:
    X, y = blob_classes(3, 6, 10, seed=3)
    folder = make_learner("meta", source=vector_source).fit(X, y).save(tmp_path / "m")
    weights = folder / "model.safetensors"
    damaged = bytearray(weights.read_bytes())
    damaged[-1] ^= 0xFF
    weights.write_bytes(bytes(damaged))
    with pytest.raises(InvalidInputError) as caught:
        Learner.load(folder, source=vector_source)
    assert caught.value.code == "learners.corrupt_file"


def test_scikit_learn_conventions(vector_source) -> None:
    model = make_learner("transfer", source=vector_source, variant="finetune", steps=3)
    assert model.get_params()["steps"] == 3
    model.set_params(lr=0.01)
    assert model.lr == 0.01
    copy = clone(model)
    assert copy.get_params()["lr"] == 0.01 and not hasattr(copy, "classes_")


@pytest.mark.parametrize(("source_name", "frozen"), [("vector_source", 1), ("image_source", 2)])
def test_fine_tuning_freezes_the_input_side_half_by_default(
    source_name: str, frozen: int, request: pytest.FixtureRequest
) -> None:
    """An MLP's two blocks: one frozen (freezing both left a lone head, badly underfit)."""
    source = request.getfixturevalue(source_name)
    if source_name == "vector_source":
        X, y = blob_classes(3, 6, 10, seed=4)
    else:
        X, y = pattern_images(3, 6, seed=4)
    model = make_learner("transfer", source=source, variant="finetune", steps=5).fit(X, y)
    start = source.new_backbone("pretrained")
    moved = [
        any(
            not torch.equal(before, after)
            for before, after in zip(old.parameters(), new.parameters(), strict=True)
        )
        for old, new in zip(start.blocks, model.model_.backbone.blocks, strict=True)
    ]
    assert moved == [False] * frozen + [True] * (len(moved) - frozen)


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda s: make_learner("quantum", source=s), "learners.unknown_family"),
        (lambda s: make_learner("meta", source=s, variant="telepathy"), "learners.unknown_variant"),
        (
            lambda s: make_learner("meta").fit(np.zeros((4, 10)), [0, 0, 1, 1]),
            "learners.needs_source",
        ),
        (
            lambda s: make_learner("meta", source=s).fit(np.zeros((4, 3)), [0, 0, 1, 1]),
            "learners.input_mismatch",
        ),
        (
            lambda s: make_learner("meta", source=s).fit(np.zeros((4, 10)), [0, 0, 0, 0]),
            "learners.bad_training_data",
        ),
        (
            lambda s: make_learner("meta", source=s).predict(np.zeros((4, 10))),
            "learners.not_fitted",
        ),
        (
            lambda s: make_learner("transfer", source=s, frozen_blocks=9).fit(
                np.zeros((4, 10)), [0, 0, 1, 1]
            ),
            "learners.bad_parameter",
        ),
        (lambda s: make_learner("meta", source="no-such-source"), "learners.unknown_source"),
    ],
)
def test_errors_have_codes(call, code: str, vector_source) -> None:
    with pytest.raises(AdvisorError) as caught:
        call(vector_source)
    assert caught.value.code == code


def test_unknown_names_are_not_found_errors() -> None:
    with pytest.raises(NotFoundError):
        make_learner("nope")


@pytest.mark.parametrize(("family", "variant"), ALL)
def test_a_calibration_temperature_tempers_every_variant_and_is_saved(
    family, variant, vector_source, tmp_path: Path
) -> None:
    X, y = blob_classes(3, 8, 10, seed=3)
    Xs, ys, Xq, _ = _split(X, y, shots=4)
    model = _learner(family, variant, vector_source).fit(Xs, ys)
    plain = model.predict_log_proba(Xq)
    np.testing.assert_allclose(np.exp(plain), model.predict_proba(Xq), atol=1e-9)
    model.calibration_temperature = 3.0
    tempered = model.predict_log_proba(Xq)
    expected = plain / 3.0 - np.log(np.exp(plain / 3.0).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(tempered, expected, atol=1e-9)
    np.testing.assert_allclose(np.exp(tempered), model.predict_proba(Xq), atol=1e-12)
    np.testing.assert_array_equal(model.predict(Xq), np.asarray(model.classes_)[plain.argmax(1)])
    again = Learner.load(model.save(tmp_path / "m"), source=vector_source)
    assert again.calibration_temperature == 3.0
    np.testing.assert_allclose(again.predict_proba(Xq), model.predict_proba(Xq), atol=1e-6)


def test_protonet_keeps_its_own_temperature_apart_from_the_calibration(vector_source) -> None:
    """Its ``temperature`` divides the distances once; the calibration's is another setting (it
    was once the same attribute, and a ProtoNet of temperature 5 was tempered twice)."""
    X, y = blob_classes(3, 8, 10, seed=3)
    Xs, ys, Xq, _ = _split(X, y, shots=4)
    plain = make_learner("meta", source=vector_source).fit(Xs, ys)
    warm = make_learner("meta", source=vector_source, temperature=5.0).fit(Xs, ys)
    assert warm.calibration_temperature == 1.0
    np.testing.assert_allclose(
        warm.predict_log_proba(Xq),
        plain.predict_log_proba(Xq) / 5.0
        - np.log(np.exp(plain.predict_log_proba(Xq) / 5.0).sum(axis=1, keepdims=True)),
        atol=1e-9,
    )


def test_protonet_log_probabilities_are_exact_where_its_probabilities_underflow(
    vector_source,
) -> None:
    X, y = blob_classes(3, 8, 10, seed=3)
    Xs, ys, Xq, _ = _split(X, y, shots=4)
    model = make_learner("meta", source=vector_source, temperature=1e-3).fit(Xs, ys)
    probabilities = model.predict_proba(Xq)
    logs = model.predict_log_proba(Xq)
    assert (probabilities == 0.0).any()  # distances / 0.001: exp underflows
    assert np.isfinite(logs).all() and (logs < -800).any()
    model.calibration_temperature = 1000.0  # tempering the exact logs softens them
    softened = model.predict_proba(Xq)
    assert (softened > 0).all() and (softened.argmax(1) == probabilities.argmax(1)).all()


def test_a_model_saved_when_the_calibration_shared_protonets_name_loads_right(
    vector_source, tmp_path: Path
) -> None:
    """Models saved on 2026-11-28 wrote the calibration temperature as ``temperature``."""
    X, y = blob_classes(3, 8, 10, seed=3)
    cases = [("meta", "protonet", 4.0, 1.0), ("scratch", "logreg", 2.0, 2.0)]
    for family, variant, saved, loaded_as in cases:
        params = {"temperature": saved} if variant == "protonet" else {}
        model = _learner(family, variant, vector_source, **params).fit(X, y)
        folder = model.save(tmp_path / variant)
        document = json.loads((folder / "model.json").read_text())
        del document["calibration_temperature"]
        document["temperature"] = saved  # ProtoNet's was its hyper-parameter's, the same value
        (folder / "model.json").write_text(json.dumps(document))
        again = Learner.load(folder, source=vector_source)
        assert again.calibration_temperature == loaded_as
        assert getattr(again, "temperature", saved) == saved  # ProtoNet's own is its own


@pytest.mark.parametrize("pixels", [np.full((2, 12, 12), 255.0), np.full((2, 12, 12), -0.5)])
def test_float_images_outside_zero_to_one_are_refused(pixels: np.ndarray, image_source) -> None:
    """0–255 pixels given as floats would reach the network 255 times too bright."""
    X, y = pattern_images(2, 4, seed=2)
    model = make_learner("meta", source=image_source).fit(X, y)
    with pytest.raises(InvalidInputError) as caught:
        model.predict(pixels.astype(np.float32))
    assert caught.value.code == "learners.input_mismatch"
    assert "divide 0-255 pixels by 255" in str(caught.value)
    as_bytes = (X * 255).round().astype(np.uint8)  # the same pixels as uint8 are fine
    np.testing.assert_array_equal(model.predict(as_bytes), model.predict(X))
