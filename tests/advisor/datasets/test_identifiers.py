"""Columns left out of a table's features: row identifiers found, and ``drop=`` named."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from advisor.datasets import load_dataset
from advisor.datasets.identifiers import find_identifiers, identifier_reason, looks_like_id_name
from advisor.errors import DatasetError


@pytest.mark.parametrize(
    "name",
    ["id", "ID", "Id", "customer_id", "customer id", "CustomerID", "orderId", "Unnamed: 0",
     "index", "row_no", "uuid", "#"],
)  # fmt: skip
def test_identifier_names(name: str) -> None:
    assert looks_like_id_name(name)


@pytest.mark.parametrize("name", ["paid", "valid", "kid", "width", "monkey", "idea", "ideal"])
def test_names_that_only_contain_id(name: str) -> None:
    assert not looks_like_id_name(name)


def shuffled(values: np.ndarray) -> np.ndarray:
    return np.random.default_rng(0).permutation(values)


@pytest.mark.parametrize(
    ("name", "values", "found"),
    [
        ("name", [f"row{i}" for i in range(12)], True),  # a text per row
        ("name", [f"row{i}" for i in range(9)], False),  # too few rows to tell
        ("city", ["Paris", "Lyon"] * 6, False),  # repeated values
        ("seq", shuffled(np.arange(100, 112)), True),  # a running number, in any order
        ("seq", np.arange(0, 24, 2), False),  # all different but skipping: a measurement
        ("customer_id", np.arange(0, 24, 2), True),  # ... unless its name says identifier
        ("customer_id", np.arange(12) + 0.5, False),  # fractions are never identifiers
        ("seq", np.r_[np.arange(11.0), np.nan], False),  # a gap
        ("flag", np.array([True, False] * 6), False),
    ],
)
def test_identifier_rules(name: str, values: object, found: bool) -> None:
    assert (identifier_reason(name, pd.Series(values)) is not None) is found


def sorted_table(rows_per_class: int = 6) -> pd.DataFrame:
    """A file sorted by class with a running row number: the number gives the class away."""
    rng = np.random.default_rng(1)
    n = 3 * rows_per_class
    return pd.DataFrame(
        {
            "number": np.arange(1, n + 1),
            "x": rng.normal(size=n),
            "note": [f"seen on day {i}" for i in range(n)],
            "label": np.repeat(["a", "b", "c"], rows_per_class),
        }
    )


def test_identifiers_are_left_out_and_named() -> None:
    table = sorted_table()
    assert find_identifiers(table.drop(columns="label")) == {
        "number": "a running number, 1 to 18",
        "note": "18 different texts, one per row",
    }
    ds = load_dataset(table.to_csv(index=False).encode(), name="t.csv")
    assert ds.feature_names == ("x",)
    roles = {c.name: c.role for c in ds.info.tabular.columns}
    assert roles == {"number": "identifier", "x": "feature", "note": "identifier", "label": "label"}
    assert [w.split(" looks")[0] for w in ds.info.warnings] == ["Column 'number'", "Column 'note'"]
    kept = load_dataset(table.to_csv(index=False).encode(), name="t.csv", identifiers="keep")
    assert kept.feature_names[:2] == ("number", "x") and kept.X.shape[1] == 2 + len(table)


def test_pandas_saved_index_is_an_identifier() -> None:
    """`DataFrame.to_csv()` with its index writes a nameless first column: 'Unnamed: 0'."""
    data = sorted_table().drop(columns=["number", "note"]).to_csv().encode()
    ds = load_dataset(data, name="t.csv")
    assert ds.feature_names == ("x",)
    assert ds.info.tabular.columns[0].role == "identifier"


def test_drop_names_columns_and_a_test_file_follows_the_encoder() -> None:
    table = sorted_table().assign(y2=lambda t: t["x"] * 2)
    data = table.to_csv(index=False).encode()
    ds = load_dataset(data, name="t.csv", drop=["y2"], identifiers="keep")
    assert ds.feature_names[0] == "number" and "y2" not in ds.feature_names
    assert {c.name: c.role for c in ds.info.tabular.columns}["y2"] == "dropped"
    assert load_dataset(data, name="t.csv", drop="y2, note").X.shape[1] == 1  # text: a,b
    train = load_dataset(data, name="t.csv", drop="y2")
    test = table.drop(columns=["number", "note", "y2"]).iloc[::2]  # only what the encoder reads
    scored = load_dataset(
        test.to_csv(index=False).encode(), name="s.csv", encoder=train.encoder, purpose="score"
    )
    np.testing.assert_array_equal(scored.X, train.X[::2])
    with_extra = load_dataset(data, name="s.csv", encoder=train.encoder, drop="nope")
    assert {c.name: c.role for c in with_extra.info.tabular.columns}["y2"] == "dropped"
    np.testing.assert_array_equal(with_extra.X, train.X)


@pytest.mark.parametrize(
    ("drop", "code", "words"),
    [
        (["nope"], "dataset.bad_option", "Cannot drop 'nope': not a column"),
        (["label"], "dataset.bad_option", "the label and groups columns are not features"),
        (["x"], "dataset.no_features", "(left out: 'x', 'number', 'note')"),
    ],
)
def test_bad_drops_are_refused(drop: list[str], code: str, words: str) -> None:
    data = sorted_table().to_csv(index=False).encode()
    with pytest.raises(DatasetError) as caught:
        load_dataset(data, name="t.csv", drop=drop)
    assert caught.value.code == code and words in caught.value.message


def test_images_have_no_columns_to_drop(tmp_path) -> None:
    from PIL import Image

    for cls in ("a", "b"):
        (tmp_path / cls).mkdir()
        for i in range(2):
            Image.new("L", (8, 8), 40 * i).save(tmp_path / cls / f"{i}.png")
    assert load_dataset(tmp_path).X.shape == (4, 28, 28)
    with pytest.raises(DatasetError) as caught:
        load_dataset(tmp_path, drop="x")
    assert caught.value.code == "dataset.bad_option" and "holds images" in caught.value.message
