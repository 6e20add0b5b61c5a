"""The training table's encoder: saved as JSON, read back, and applied to test files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from advisor.datasets import TabularEncoder, load_dataset
from advisor.datasets.encoder import ENCODER_FILE, EncoderState
from advisor.errors import DatasetError

TRAIN = pd.DataFrame(
    {
        "age": [30.0, 40.0, np.nan, 60.0, 35.0, 52.0],
        "city": ["Paris", "Lyon", "Nice", None, "Paris", "Lyon"],
        "member": ["yes", "no", "no", "yes", None, "no"],
        "code": ["1", "2", "x", "2", "1", "x"],
        "label": ["a", "b", "a", "b", "a", "b"],
    }
)
NEW = pd.DataFrame(
    {
        "code": ["x", "1", "3", None],  # a value the training data did not have, columns moved
        "city": ["Lyon", None, "Rome", "Nice"],
        "age": [np.nan, 45.0, 33.0, 70.0],
        "member": ["no", "yes", None, "yes"],
        "extra": [1, 2, 3, 4],
    }
)


def as_csv(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("categorical", ["onehot", "ordinal"])
@pytest.mark.parametrize("numeric_impute", ["median", "mean", "zero"])
def test_state_round_trip_encodes_new_rows_identically(
    categorical: str, numeric_impute: str, tmp_path: Path
) -> None:
    encoder = TabularEncoder(categorical=categorical, numeric_impute=numeric_impute)  # type: ignore[arg-type]
    encoder.fit(TRAIN.drop(columns="label"))
    path = encoder.save(tmp_path)
    assert path.name == ENCODER_FILE
    back = TabularEncoder.load(tmp_path)
    assert back.feature_names_out_ == encoder.feature_names_out_
    assert back.columns_ == encoder.columns_
    assert np.array_equal(back.categorical_mask_, encoder.categorical_mask_)
    for frame in (TRAIN, NEW):
        assert np.array_equal(back.transform(frame), encoder.transform(frame))
    assert back.state() == encoder.state()


def test_state_is_plain_json_with_the_training_statistics(tmp_path: Path) -> None:
    encoder = TabularEncoder().fit(TRAIN.drop(columns="label"))
    document = json.loads(encoder.save(tmp_path / "e.json").read_text())
    numeric = {c["name"]: c["fill"] for c in document["numeric"]}
    assert numeric == {"age": 40.0}  # median of 30, 40, 60, 35, 52
    cities = next(c for c in document["onehot"] if c["name"] == "city")
    assert cities["categories"] == ["Lyon", "Nice", "Paris"]
    assert cities["fill"] in {"Lyon", "Paris"}  # the most frequent (a tie)


def test_a_test_file_is_encoded_the_training_way(tmp_path: Path) -> None:
    """The bug this guards against: a test file missing a category, encoded on its own,
    gives the one-hot columns other meanings (or another width)."""
    train = load_dataset(as_csv(TRAIN, tmp_path / "train.csv"))
    test_frame = NEW.assign(label=["a", "b", "a", "b"])
    alone = load_dataset(as_csv(test_frame, tmp_path / "test.csv"))
    assert alone.feature_names != train.feature_names  # what went wrong before
    test = load_dataset(tmp_path / "test.csv", encoder=train.encoder)
    assert test.feature_names == train.feature_names
    names = list(train.feature_names or ())
    row = dict(zip(names, test.X[0], strict=True))
    assert row["age"] == 40.0  # the training median, not the test file's (45)
    assert row["city_Lyon"] == 1.0 and row["city_Paris"] == 0.0 and row["city_Nice"] == 0.0
    assert row["member_yes"] == 0.0  # binary: one column
    rome = dict(zip(names, test.X[2], strict=True))
    assert (rome["city_Lyon"], rome["city_Nice"], rome["city_Paris"]) == (0.0, 0.0, 0.0)
    warnings = " ".join(test.info.warnings)
    assert "'city' holds values the training data did not: 'Rome'" in warnings
    assert "'code' holds values the training data did not: '3'" in warnings


def test_category_digits_parsed_as_numbers_still_match(tmp_path: Path) -> None:
    train = load_dataset(as_csv(TRAIN, tmp_path / "train.csv"))
    # only digits (and a gap) in the test file's column: pandas reads it as floats
    digits = pd.DataFrame({"age": [31.0, 41.0, 51.0, 61.0], "city": ["Nice", "Lyon"] * 2})
    digits = digits.assign(
        member=["no", "yes"] * 2, code=[1.0, np.nan, 2.0, 1.0], label=["a", "b", "a", "b"]
    )
    test = load_dataset(as_csv(digits, tmp_path / "digits.csv"), encoder=train.encoder)
    names = list(train.feature_names or ())
    first = dict(zip(names, test.X[0], strict=True))
    assert first["code_1"] == 1.0 and first["code_2"] == 0.0 and first["code_x"] == 0.0
    assert not any("'code'" in w for w in test.info.warnings)


def test_a_numeric_column_holding_text_is_refused(tmp_path: Path) -> None:
    train = load_dataset(as_csv(TRAIN, tmp_path / "train.csv"))
    text = TRAIN.assign(age=["31", "?", "n/a", "40", "", "50"])
    with pytest.raises(DatasetError) as caught:
        load_dataset(as_csv(text, tmp_path / "text.csv"), encoder=train.encoder)
    assert caught.value.code == "dataset.encoding_mismatch"
    assert "'age'" in caught.value.message and "'?'" in caught.value.message


def test_reading_a_bad_encoder_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError) as missing:
        TabularEncoder.load(tmp_path)
    assert missing.value.code == "dataset.not_found"
    (tmp_path / ENCODER_FILE).write_text("{not json")
    with pytest.raises(DatasetError) as broken:
        TabularEncoder.load(tmp_path)
    assert broken.value.code == "dataset.malformed"
    state = TabularEncoder().fit(TRAIN.drop(columns="label")).state()
    unknown_fill = state.model_dump()
    unknown_fill["onehot"][0]["fill"] = "Atlantis"
    (tmp_path / ENCODER_FILE).write_text(json.dumps(unknown_fill))
    with pytest.raises(DatasetError, match="not a category"):
        TabularEncoder.load(tmp_path)
    tampered = state.model_copy(update={"features_out": [*state.features_out, "ghost"]})
    with pytest.raises(DatasetError) as inconsistent:
        TabularEncoder.from_state(EncoderState.model_validate(tampered.model_dump()))
    assert "does not reproduce" in inconsistent.value.message
