"""Rows to classify (``load_rows``): every format, labeled or not, read the training way."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from advisor.datasets import TabularEncoder, load_dataset
from advisor.datasets.rows import load_rows, table_rows
from advisor.errors import AdvisorError

TRAIN = pd.DataFrame(
    {
        "age": [30.0, 40.0, np.nan, 60.0, 35.0, 52.0],
        "city": ["Paris", "Lyon", "Nice", "Lyon", "Paris", "Lyon"],
        "label": ["a", "b", "a", "b", "a", "b"],
    }
)
NEW = pd.DataFrame(  # columns moved, a gap, an unseen city, the label kept, an extra column
    {
        "note": ["x", "y", "z"],
        "city": ["Lyon", "Rome", "Nice"],
        "label": ["b", "a", "a"],
        "age": [np.nan, 45.0, 33.0],
    }
)


@pytest.fixture
def encoder(tmp_path: Path) -> TabularEncoder:
    TRAIN.to_csv(tmp_path / "train.csv", index=False)
    fitted = load_dataset(tmp_path / "train.csv").encoder
    assert fitted is not None
    return fitted


def code_of(call) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(AdvisorError) as caught:
        call()
    return caught.value.code


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def png(value: int, size: tuple[int, int] = (6, 6)) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.full(size, value, dtype=np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


# -- tables ----------------------------------------------------------------------------------


def test_unlabeled_table_is_encoded_like_the_labeled_read(encoder: TabularEncoder) -> None:
    rows = load_rows(csv_bytes(NEW), name="new.csv", encoder=encoder)
    labeled = load_dataset(
        csv_bytes(NEW.drop(columns="note")), name="new.csv", encoder=encoder, purpose="score"
    )
    assert np.array_equal(rows.X, labeled.X)
    assert rows.y is None and rows.ids == ["1", "2", "3"]
    assert rows.X[0, 0] == 40.0  # the gap: the training median (30, 35, 40, 52, 60)
    city_columns = [i for i, n in enumerate(encoder.feature_names_out_) if n.startswith("city_")]
    assert rows.X[1, city_columns].sum() == 0  # Rome: no known city
    text = " ".join(rows.warnings)
    assert "'Rome'" in text and "1 missing feature values filled" in text
    assert "['note', 'label'] are not the model's inputs" in text


def test_a_named_label_keeps_the_labels(encoder: TabularEncoder) -> None:
    """Labels that only score may be one class, or one example of a class ('b' here)."""
    rows = load_rows(csv_bytes(NEW), name="new.csv", label="label", encoder=encoder)
    assert rows.y is not None and list(rows.y) == ["b", "a", "a"]
    assert rows.X.shape == (3, len(encoder.feature_names_out_))
    one_class = load_rows(csv_bytes(NEW.assign(label="a")), name="n.csv", label="label")
    assert one_class.y is not None and set(one_class.y) == {"a"}
    call = lambda: load_dataset(csv_bytes(NEW), name="n.csv", label="label")  # noqa: E731
    assert code_of(call) == "dataset.class_too_small"  # as training data it would not do


@pytest.mark.parametrize("fmt", ["parquet", "json", "jsonl", "tsv"])
def test_every_table_format_reads_unlabeled(
    encoder: TabularEncoder, fmt: str, tmp_path: Path
) -> None:
    path = tmp_path / f"new.{fmt}"
    frame = NEW.drop(columns="label")
    if fmt == "parquet":
        frame.to_parquet(path)
    elif fmt == "json":
        path.write_text(frame.to_json(orient="records"))
    elif fmt == "jsonl":
        path.write_text(frame.to_json(orient="records", lines=True))
    else:
        frame.to_csv(path, sep="\t", index=False)
    rows = load_rows(path, encoder=encoder)
    expected = load_rows(csv_bytes(frame), name="new.csv", encoder=encoder)
    assert np.array_equal(rows.X, expected.X)


def test_numbers_without_the_training_columns_are_taken_as_encoded(
    encoder: TabularEncoder,
) -> None:
    width = len(encoder.feature_names_out_)
    frame = pd.DataFrame(np.arange(2 * width, dtype=float).reshape(2, width)).add_prefix("f")
    rows = load_rows(csv_bytes(frame), name="encoded.csv", encoder=encoder)
    assert np.array_equal(rows.X, frame.to_numpy())
    no_encoder = load_rows(csv_bytes(frame), name="encoded.csv")
    assert np.array_equal(no_encoder.X, frame.to_numpy())


def test_rows_that_fit_neither_way_are_refused_with_the_columns_named(
    encoder: TabularEncoder,
) -> None:
    lacking = NEW.drop(columns=["city", "note", "label"])  # numeric, but one column short
    with pytest.raises(AdvisorError) as caught:
        load_rows(csv_bytes(lacking), name="lacking.csv", encoder=encoder)
    assert caught.value.code == "predict.bad_instances"
    assert "['city']" in caught.value.message
    text = pd.DataFrame({"a": ["x"], "b": ["y"]})
    assert code_of(lambda: load_rows(csv_bytes(text), name="t.csv")) == "predict.bad_instances"


def test_text_in_a_numeric_training_column_is_refused(encoder: TabularEncoder) -> None:
    wrong = NEW.assign(age=["old", "young", "30"])
    call = lambda: load_rows(csv_bytes(wrong), name="w.csv", encoder=encoder)  # noqa: E731
    assert code_of(call) == "dataset.encoding_mismatch"


def test_an_infinite_value_in_a_training_column_is_refused_not_a_crash(
    encoder: TabularEncoder,
) -> None:
    """Gaps are filled with the training values; an infinite value has no such answer."""
    rows = NEW.assign(age=[31.0, np.inf, 40.0])
    with pytest.raises(AdvisorError) as caught:
        load_rows(csv_bytes(rows), name="r.csv", encoder=encoder)
    assert caught.value.code == "dataset.non_finite"
    assert "columns ['age'], first rows [2], numbered from 1" in caught.value.message


def test_table_rows_from_records(encoder: TabularEncoder) -> None:
    rows = table_rows(pd.DataFrame.from_records([{"city": "Nice", "age": 31}]), encoder)
    assert rows.X.shape == (1, len(encoder.feature_names_out_)) and rows.warnings == []


def test_bad_files_keep_their_data_layer_codes() -> None:
    assert code_of(lambda: load_rows(b"", name="e.csv")) == "dataset.empty"
    assert code_of(lambda: load_rows(b"a,b\n", name="h.csv")) == "dataset.no_rows"
    assert code_of(lambda: load_rows(b"[1, 2", name="j.json")) == "dataset.malformed"
    assert code_of(lambda: load_rows(Path("/nonexistent/rows.csv"))) == "dataset.not_found"


# -- arrays ----------------------------------------------------------------------------------


def npz(**arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    return buffer.getvalue()


def test_npz_features_alone_are_unlabeled() -> None:
    X = np.arange(12, dtype=float).reshape(4, 3)
    rows = load_rows(npz(X=X), name="rows.npz")
    assert np.array_equal(rows.X, X) and rows.y is None and len(rows.ids) == 4
    images = np.zeros((3, 5, 5), dtype=np.uint8)
    assert load_rows(npz(images=images), name="i.npz").X.shape == (3, 5, 5)


def test_npz_with_labels_is_labeled_and_vectors_use_the_encoder() -> None:
    X = np.array([[1.0, np.nan], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]])
    train = load_dataset(npz(X=X, y=np.array(["p", "q", "p", "q"])), name="t.npz")
    assert train.encoder is not None
    labeled = load_rows(npz(X=X, y=np.array(["q", "q", "p", "p"])), name="l.npz")
    assert labeled.y is not None and list(labeled.y) == ["q", "q", "p", "p"]
    rows = load_rows(npz(X=X), name="u.npz", encoder=train.encoder)
    assert rows.X[0, 1] == 6.0  # the gap filled with the training median (4, 6, 8)


# -- images ----------------------------------------------------------------------------------


def test_loose_images_are_named_by_their_path(tmp_path: Path) -> None:
    folder = tmp_path / "new"
    folder.mkdir()
    for name, value in (("b.png", 200), ("a.png", 10)):
        (folder / name).write_bytes(png(value))
    (folder / "notes.txt").write_text("taken on Monday")
    (folder / ".DS_Store").write_bytes(b"\0")
    rows = load_rows(folder, image_size=None)
    assert rows.ids == ["a.png", "b.png"] and rows.y is None
    assert rows.X.shape == (2, 6, 6) and rows.X[0, 0, 0] == 10 and rows.X[1, 0, 0] == 200
    assert rows.warnings == ["File 'notes.txt' is not an image; ignored."]


def test_a_zip_of_one_folder_of_images_is_looked_through() -> None:
    data = zipped({"batch/x.png": png(1), "batch/y.png": png(2)})
    rows = load_rows(data, name="batch.zip")
    assert rows.ids == ["x.png", "y.png"] and rows.X.shape == (2, 28, 28)


def test_images_in_class_folders_are_labeled_and_named_by_their_path() -> None:
    data = zipped(
        {"set/dog/1.png": png(3), "set/cat/2.png": png(2), "set/cat/1.png": png(1), "set/r.md": b""}
    )
    rows = load_rows(data, name="scored.zip")
    assert rows.y is not None and list(rows.y) == ["cat", "cat", "dog"]
    assert rows.ids == ["cat/1.png", "cat/2.png", "dog/1.png"]  # the wrapper looked through
    assert [int(rows.X[i, 0, 0]) for i in range(3)] == [1, 2, 3]  # each name its own image
    assert rows.warnings == ["File 'r.md' is not in a class folder; ignored."]


def test_image_inputs_refused_clearly(encoder: TabularEncoder) -> None:
    assert code_of(lambda: load_rows(zipped({"n.txt": b"x"}), name="z.zip")) == (
        "dataset.bad_layout"
    )
    mixed = zipped({"a.png": png(1, (4, 4)), "b.png": png(1, (5, 5))})
    call = lambda: load_rows(mixed, name="m.zip", image_size=None)  # noqa: E731
    assert code_of(call) == "dataset.mixed_image_sizes"
    broken = zipped({"a.png": b"not an image"})
    assert code_of(lambda: load_rows(broken, name="b.zip")) == "dataset.bad_image"
    images = zipped({"a.png": png(1)})
    call = lambda: load_rows(images, name="i.zip", encoder=encoder)  # noqa: E731
    assert code_of(call) == "dataset.encoding_mismatch"
    loose_and_filed = zipped({"a.png": png(1), "cat/b.png": png(2), "dog/c.png": png(3)})
    assert code_of(lambda: load_rows(loose_and_filed, name="x.zip")) == "dataset.bad_layout"


def test_rows_json_round_trip_of_ids(tmp_path: Path) -> None:
    """Ids are plain strings, ready for a CSV or JSON answer."""
    rows = load_rows(csv_bytes(pd.DataFrame({"x": [1.0, 2.0]})), name="r.csv")
    assert json.loads(json.dumps(rows.ids)) == ["1", "2"]


def test_rows_are_named_by_the_training_tables_identifier(tmp_path: Path) -> None:
    """A column left out of training as a row identifier names the new rows (its values, as
    the file writes them), once the encoder is saved and read back too; without it, or with
    repeated values, rows are numbered."""
    train = pd.DataFrame({"customer_id": np.arange(101, 131, 3), "x": np.arange(10) / 4})
    train["label"] = ["a", "b"] * 5
    encoder = load_dataset(train.to_csv(index=False).encode(), name="t.csv").encoder
    assert encoder is not None and encoder.identifiers_ == ["customer_id"]
    encoder.save(tmp_path)
    again = TabularEncoder.load(tmp_path)
    assert again.identifiers_ == ["customer_id"]
    new = pd.DataFrame({"x": [1.0, 2.0, 3.0], "customer_id": [7.0, 9.0, 8.0], "note": "n"})
    rows = table_rows(new, again)
    assert rows.ids == ["7", "9", "8"] and rows.named_by == "customer_id"
    assert rows.warnings == ["Columns ['note'] are not the model's inputs; ignored (name a label "
                             "column to score the predictions against it)."]  # fmt: skip
    assert table_rows(new.drop(columns="customer_id"), again).ids == ["1", "2", "3"]
    repeated = table_rows(new.assign(customer_id=7), again)
    assert repeated.ids == ["1", "2", "3"] and repeated.named_by is None
    assert repeated.warnings[0] == (
        "Column 'customer_id', the training data's row identifier, has gaps or repeated values "
        "here; rows are numbered instead."
    )
    state = json.loads((tmp_path / "encoder.json").read_text())
    del state["identifiers"]  # an encoder saved before identifiers were kept
    (tmp_path / "encoder.json").write_text(json.dumps(state))
    assert table_rows(new, TabularEncoder.load(tmp_path)).ids == ["1", "2", "3"]


def test_labeled_rows_are_named_by_the_identifier_too() -> None:
    train = pd.DataFrame({"ref": [f"r{i}" for i in range(10)], "x": np.arange(10) / 4})
    train["label"] = ["a", "b"] * 5
    encoder = load_dataset(train.to_csv(index=False).encode(), name="t.csv").encoder
    new = train.iloc[[3, 0]].to_csv(index=False).encode()
    rows = load_rows(new, name="n.csv", label="label", encoder=encoder)
    assert rows.ids == ["r3", "r0"] and rows.named_by == "ref" and list(rows.y) == ["b", "a"]
    np.testing.assert_array_equal(rows.X, [[0.75], [0.0]])
