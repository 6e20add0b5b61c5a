"""Every loader of :func:`advisor.datasets.load_dataset` round-trips a sample of its format.

Each sample is built in the test (bytes, or files under ``tmp_path``), loaded, and checked
value by value: ``X``, the original labels in ``y``, ``y_encoded`` against ``classes``, the
modality and the :class:`~advisor.datasets.DatasetInfo` fields (format, rows, classes, shots,
hash, encoding, delimiter, label column, missing values, dtypes, warnings).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from advisor.datasets import Dataset, LoadOptions, load_dataset, make_dataset
from advisor.datasets.writers import (
    VECTOR_FORMATS,
    ExportFormat,
    class_folder_names,
    to_bytes,
)

# -- helpers ---------------------------------------------------------------------------------


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def assert_consistent(ds: Dataset) -> None:
    """Invariants every dataset keeps: codes index classes, info agrees with the arrays."""
    assert ds.y_encoded.dtype == np.int64
    assert np.array_equal(ds.classes[ds.y_encoded], ds.y)
    assert ds.classes.tolist() == sorted(set(ds.y.tolist()))
    counts = np.bincount(ds.y_encoded, minlength=len(ds.classes))
    assert ds.info.n_rows == len(ds) == len(ds.y) == ds.X.shape[0]
    assert ds.info.n_classes == ds.n_classes == len(ds.classes)
    assert ds.info.modality == ds.modality
    assert ds.info.input_shape == ds.X.shape[1:]
    assert ds.info.class_counts == {
        str(c): int(n) for c, n in zip(ds.classes.tolist(), counts, strict=True)
    }
    assert ds.info.shots.min == counts.min()
    assert ds.info.shots.max == counts.max()
    assert ds.info.shots.median == float(np.median(counts))


def png(pixels: np.ndarray, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format=fmt)
    return buffer.getvalue()


def gray(value: int, shape: tuple[int, int] = (8, 8)) -> np.ndarray:
    return np.full(shape, value, dtype=np.uint8)


def rgb(color: tuple[int, int, int], shape: tuple[int, int] = (8, 8)) -> np.ndarray:
    return np.tile(np.array(color, dtype=np.uint8), (*shape, 1))


def make_zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def delimited(rows: list[list[str]], delimiter: str = ",") -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


# A small table used by several tests: a numeric, a categorical and a binary string column.
PEOPLE_ROWS = [
    ["age", "city", "sex", "label"],
    ["30", "Paris", "M", "cat"],
    ["40", "Lyon", "F", "dog"],
    ["50", "Paris", "F", "cat"],
    ["60", "Nice", "M", "dog"],
    ["70", "Lyon", "M", "dog"],
]
PEOPLE_CSV = delimited(PEOPLE_ROWS).encode()
PEOPLE_NAMES = ("age", "city_Lyon", "city_Nice", "city_Paris", "sex_M")
PEOPLE_X = np.array(
    [
        [30, 0, 0, 1, 1],
        [40, 1, 0, 0, 0],
        [50, 0, 0, 1, 0],
        [60, 0, 1, 0, 1],
        [70, 1, 0, 0, 1],
    ],
    dtype=np.float64,
)
PEOPLE_Y = ["cat", "dog", "cat", "dog", "dog"]


def assert_people(ds: Dataset) -> None:
    assert ds.modality == "vector"
    assert ds.X.dtype == np.float64
    assert ds.feature_names == PEOPLE_NAMES
    assert np.array_equal(ds.X, PEOPLE_X)
    assert ds.y.tolist() == PEOPLE_Y
    assert ds.y_encoded.tolist() == [0, 1, 0, 1, 1]
    assert ds.classes.tolist() == ["cat", "dog"]
    assert ds.info.n_rows == 5
    assert ds.info.n_classes == 2
    assert (ds.info.shots.min, ds.info.shots.median, ds.info.shots.max) == (2, 2.5, 3)
    assert ds.info.label_column == "label"
    assert ds.info.n_missing == 0
    assert ds.info.warnings == []
    assert_consistent(ds)


# -- CSV and TSV -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "delimiter", [",", ";", "|", "\t"], ids=["comma", "semicolon", "pipe", "tab"]
)
def test_csv_delimiters_and_quoted_fields(delimiter: str) -> None:
    d = delimiter
    rows = [
        ["height", "place", "label"],
        ["1.5", f"Paris{d} FR", "cat"],
        ["2.5", f"Lyon{d} FR", "dog"],
        ["3.5", f"Paris{d} FR", "cat"],
        ["4.5", f"Nice{d} FR", "dog"],
        ["5.5", f"Lyon{d} FR", "cat"],
        ["6.5", f"Nice{d} FR", "dog"],
    ]
    data = delimited(rows, d).encode()
    assert f'"Paris{d} FR"'.encode() in data  # the delimiter really sits inside quotes
    ds = load_dataset(data, name="sample.csv")
    assert ds.info.delimiter == d
    assert ds.info.format == ("tsv" if d == "\t" else "csv")
    assert ds.info.text_encoding == "utf-8"
    assert ds.info.sha256 == sha256(data)
    assert ds.info.size_bytes == len(data)
    assert ds.info.name == "sample.csv"
    assert ds.feature_names == (
        "height",
        f"place_Lyon{d} FR",
        f"place_Nice{d} FR",
        f"place_Paris{d} FR",
    )
    expected = np.array(
        [
            [1.5, 0, 0, 1],
            [2.5, 1, 0, 0],
            [3.5, 0, 0, 1],
            [4.5, 0, 1, 0],
            [5.5, 1, 0, 0],
            [6.5, 0, 1, 0],
        ]
    )
    assert np.array_equal(ds.X, expected)
    assert ds.y.tolist() == ["cat", "dog", "cat", "dog", "cat", "dog"]
    assert ds.info.dtypes == {"height": "float64", "place": "str", "label": "str"}
    assert (ds.info.shots.min, ds.info.shots.median, ds.info.shots.max) == (3, 3.0, 3)
    assert_consistent(ds)


def test_tsv_by_name_and_by_option() -> None:
    data = delimited(PEOPLE_ROWS, "\t").encode()
    for ds in (
        load_dataset(data, name="people.tsv"),
        load_dataset(data, name="people.tab"),
        load_dataset(data, format="tsv"),
    ):
        assert ds.info.format == "tsv"
        assert ds.info.delimiter == "\t"
        assert ds.info.sha256 == sha256(data)
        assert_people(ds)
    # without a name or format the tab is still sniffed, and the format follows the delimiter
    unnamed = load_dataset(data)
    assert unnamed.info.format == "tsv"
    assert unnamed.info.delimiter == "\t"
    assert_people(unnamed)


def test_csv_dtypes_and_column_summary() -> None:
    ds = load_dataset(PEOPLE_CSV, name="people.csv")
    assert_people(ds)
    assert ds.info.dtypes == {"age": "int64", "city": "str", "sex": "str", "label": "str"}
    tabular = ds.info.tabular
    assert tabular is not None
    kinds = {c.name: (c.kind, c.role, c.n_unique) for c in tabular.columns}
    assert kinds == {
        "age": ("numeric", "feature", 5),
        "city": ("categorical", "feature", 3),
        "sex": ("binary", "feature", 2),
        "label": ("binary", "label", 2),
    }
    assert tabular.categorical_encoding == "onehot"
    assert tabular.missing_policy == "impute"


ACCENTED_ROWS = [
    ["ville", "note", "label"],
    ["Montréal", "1", "été"],
    ["Zürich", "2", "hiver"],
    ["Besançon", "3", "été"],
    ["Zürich", "4", "hiver"],
]


@pytest.mark.parametrize(
    ("encoding", "reported"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16")],
    ids=["utf8", "utf8-bom", "utf16-bom"],
)
def test_text_encodings(encoding: str, reported: str) -> None:
    data = delimited(ACCENTED_ROWS).encode(encoding)
    if encoding == "utf-16":
        assert data.startswith((b"\xff\xfe", b"\xfe\xff"))
    ds = load_dataset(data, name="villes.csv")
    assert ds.info.text_encoding == reported
    assert ds.info.sha256 == sha256(data)
    assert ds.info.delimiter == ","
    assert ds.feature_names == ("note", "ville_Besançon", "ville_Montréal", "ville_Zürich")
    assert ds.y.tolist() == ["été", "hiver", "été", "hiver"]
    assert ds.classes.tolist() == ["hiver", "été"]
    assert np.array_equal(ds.X, [[1, 0, 1, 0], [2, 0, 0, 1], [3, 1, 0, 0], [4, 0, 0, 1]])
    assert_consistent(ds)


FRENCH_ROWS = [
    ["mot", "longueur", "label"],
    ["très", "4", "adverbe"],
    ["crème", "5", "nom"],
    ["fenêtre", "7", "nom"],
    ["déjà", "4", "adverbe"],
    ["garçon", "6", "nom"],
    ["brûlée", "6", "adjectif"],
    ["naïve", "5", "adjectif"],
]


def test_a_text_cell_longer_than_the_csv_modules_default_limit_loads() -> None:
    """csv refuses fields over 131,072 characters unless told otherwise; a long note is data."""
    long_note = "word " * 40_000
    rows = [["note", "size", "label"]] + [
        [long_note if i == 0 else f"short {i % 2}", str(i * 1.5), "xy"[i % 2]] for i in range(6)
    ]
    ds = load_dataset(delimited(rows).encode(), name="notes.csv")
    assert len(ds.X) == 6
    assert ds.y.tolist() == ["x", "y", "x", "y", "x", "y"]


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1"])
def test_legacy_western_encoding_loads(encoding: str) -> None:
    data = delimited(FRENCH_ROWS).encode(encoding)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    ds = load_dataset(data, name="mots.csv")
    assert ds.info.text_encoding not in (None, "utf-8")
    assert ds.info.delimiter == ","
    assert ds.info.n_rows == 7
    assert ds.info.label_column == "label"
    assert sorted(ds.info.class_counts.values()) == [2, 2, 3]
    assert_consistent(ds)


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1"])
def test_legacy_western_encoding_decodes_accents(encoding: str) -> None:
    data = delimited(FRENCH_ROWS).encode(encoding)
    ds = load_dataset(data, name="mots.csv")
    mots = [row[0] for row in FRENCH_ROWS[1:]]
    assert ds.feature_names == ("longueur", *(f"mot_{m}" for m in sorted(mots)))
    assert ds.classes.tolist() == ["adjectif", "adverbe", "nom"]


# -- inputs: paths, bytes, file objects --------------------------------------------------------


InputBuilder = Callable[[Path], tuple[Any, dict[str, Any], str]]


def _as_str_path(tmp: Path) -> tuple[Any, dict[str, Any], str]:
    path = tmp / "people.csv"
    path.write_bytes(PEOPLE_CSV)
    return str(path), {}, "people.csv"


def _as_path(tmp: Path) -> tuple[Any, dict[str, Any], str]:
    path = tmp / "people.csv"
    path.write_bytes(PEOPLE_CSV)
    return path, {}, "people.csv"


def _as_named_bytes(tmp: Path) -> tuple[Any, dict[str, Any], str]:
    return PEOPLE_CSV, {"name": "people.csv"}, "people.csv"


def _as_unnamed_bytes(tmp: Path) -> tuple[Any, dict[str, Any], str]:
    return PEOPLE_CSV, {}, "upload"


def _as_bytearray(tmp: Path) -> tuple[Any, dict[str, Any], str]:
    return bytearray(PEOPLE_CSV), {}, "upload"


def _as_open_file(tmp: Path) -> tuple[Any, dict[str, Any], str]:
    path = tmp / "people.csv"
    path.write_bytes(PEOPLE_CSV)
    return path.open("rb"), {}, "people.csv"


def _as_bytesio(tmp: Path) -> tuple[Any, dict[str, Any], str]:
    return io.BytesIO(PEOPLE_CSV), {}, "upload"


def _as_named_bytesio(tmp: Path) -> tuple[Any, dict[str, Any], str]:
    return io.BytesIO(PEOPLE_CSV), {"name": "given.csv"}, "given.csv"


@pytest.mark.parametrize(
    "build",
    [
        _as_str_path,
        _as_path,
        _as_named_bytes,
        _as_unnamed_bytes,
        _as_bytearray,
        _as_open_file,
        _as_bytesio,
        _as_named_bytesio,
    ],
    ids=lambda f: f.__name__.removeprefix("_as_"),
)
def test_input_kinds(build: InputBuilder, tmp_path: Path) -> None:
    source, kwargs, name = build(tmp_path)
    try:
        ds = load_dataset(source, **kwargs)
    finally:
        if hasattr(source, "close"):
            source.close()
    assert ds.info.name == name
    assert ds.info.format == "csv"
    assert ds.info.sha256 == sha256(PEOPLE_CSV)
    assert ds.info.size_bytes == len(PEOPLE_CSV)
    assert_people(ds)


# -- Parquet ---------------------------------------------------------------------------------


def test_parquet_round_trip() -> None:
    frame = pd.DataFrame(
        {
            "width": [1.5, 2.5, 3.5, 4.5, 5.5, 6.5],
            "count": pd.array([1, None, 3, 4, 5, 6], dtype="Int64"),
            "flag": [True, False, True, False, True, True],
            "shade": ["red", "blue", "green", "red", "blue", "green"],
            "species": [10, 20, 10, 20, 30, 30],
        }
    )
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    data = buffer.getvalue()
    ds = load_dataset(data, label="species")  # no name: recognised by its magic bytes
    assert ds.info.format == "parquet"
    assert ds.info.sha256 == sha256(data)
    assert ds.info.text_encoding is None
    assert ds.info.delimiter is None
    assert ds.info.label_column == "species"
    assert ds.feature_names == (
        "width",
        "count",
        "flag_True",
        "shade_blue",
        "shade_green",
        "shade_red",
    )
    median_count = 4.0  # of 1, 3, 4, 5, 6
    expected = np.array(
        [
            [1.5, 1, 1, 0, 0, 1],
            [2.5, median_count, 0, 1, 0, 0],
            [3.5, 3, 1, 0, 1, 0],
            [4.5, 4, 0, 0, 0, 1],
            [5.5, 5, 1, 1, 0, 0],
            [6.5, 6, 1, 0, 1, 0],
        ]
    )
    assert np.array_equal(ds.X, expected)
    assert ds.y.dtype == np.int64
    assert ds.y.tolist() == [10, 20, 10, 20, 30, 30]
    assert ds.classes.tolist() == [10, 20, 30]
    assert ds.y_encoded.tolist() == [0, 1, 0, 1, 2, 2]
    assert ds.info.n_missing == 1
    assert ds.info.dtypes == {
        "width": "float64",
        "count": "float64",
        "flag": "bool",
        "shade": "str",
        "species": "int64",
    }
    assert any("1 missing feature values imputed" in w for w in ds.info.warnings)
    assert_consistent(ds)


# -- NPZ -------------------------------------------------------------------------------------


def npz(**arrays: Any) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def test_npz_vectors_with_feature_names_and_groups() -> None:
    X = np.arange(12, dtype=np.float64).reshape(6, 2) / 4
    y = np.array(["a", "b", "c", "a", "b", "c"])
    groups = np.array([1, 1, 2, 2, 3, 3])
    data = npz(X=X, y=y, feature_names=np.array(["left", "right"]), groups=groups)
    ds = load_dataset(data, name="vectors.npz")
    assert ds.info.format == "npz"
    assert ds.modality == "vector"
    assert ds.info.sha256 == sha256(data)
    assert ds.info.label_column == "y"
    assert ds.feature_names == ("left", "right")
    assert np.array_equal(ds.X, X)
    assert ds.y.tolist() == y.tolist()
    assert ds.groups is not None
    assert ds.groups.tolist() == groups.tolist()
    assert ds.info.dtypes["left"] == "float64"
    assert ds.info.dtypes["y"] == "str"
    assert_consistent(ds)


def test_npz_alternative_key_names_without_feature_names() -> None:
    X = np.array([[1, 2], [3, 4], [5, 6], [7, 8]], dtype=np.int32)
    data = npz(features=X, labels=np.array([1, 2, 1, 2]))
    ds = load_dataset(data)  # no name: a zip of .npy entries is NPZ
    assert ds.info.format == "npz"
    assert ds.info.label_column == "labels"
    assert ds.feature_names == ("x0", "x1")
    assert ds.X.dtype == np.float64
    assert np.array_equal(ds.X, X)
    assert ds.y.tolist() == [1, 2, 1, 2]
    assert ds.groups is None
    assert_consistent(ds)


def test_npz_label_option_names_the_array() -> None:
    X = np.eye(4)
    data = npz(X=X, species=np.array(["u", "v", "u", "v"]), y=np.array([0, 0, 0, 0]))
    ds = load_dataset(data, label="species")
    assert ds.info.label_column == "species"
    assert ds.y.tolist() == ["u", "v", "u", "v"]
    assert np.array_equal(ds.X, X)


def test_npz_images() -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(6, 5, 7), dtype=np.uint8)
    labels = np.array([3, 1, 3, 1, 2, 2])
    data = npz(X=images, y=labels)
    ds = load_dataset(data, name="images.npz")
    assert ds.modality == "image"
    assert ds.info.format == "npz"
    assert ds.X.dtype == np.uint8
    assert np.array_equal(ds.X, images)
    assert ds.info.input_shape == (5, 7)
    assert ds.info.n_features == 35
    assert ds.feature_names is None
    assert ds.y.tolist() == labels.tolist()
    assert ds.classes.tolist() == [1, 2, 3]
    assert ds.info.dtypes == {"X": "uint8", "y": "int64"}
    assert ds.info.sha256 == sha256(data)
    assert_consistent(ds)


def test_npz_float_images_in_unit_range() -> None:
    images = np.linspace(0, 1, 4 * 3 * 3, dtype=np.float32).reshape(4, 3, 3)
    ds = load_dataset(npz(images=images, target=np.array(["p", "q", "p", "q"])))
    assert ds.modality == "image"
    assert ds.X.dtype == np.float32
    assert np.array_equal(ds.X, images)
    assert ds.y.tolist() == ["p", "q", "p", "q"]


# -- JSON and JSON Lines ---------------------------------------------------------------------


RECORDS = [
    {"size": 1.5, "colour": "red", "Target": "p"},
    {"size": 2.0, "colour": "blue", "Target": "q"},
    {"size": 3.5, "colour": "green", "Target": "p"},
    {"size": 4.0, "colour": "red", "Target": "q"},
]
RECORDS_X = np.array([[1.5, 0, 0, 1], [2.0, 1, 0, 0], [3.5, 0, 1, 0], [4.0, 0, 0, 1]])


@pytest.mark.parametrize(
    ("payload", "name", "fmt"),
    [
        (json.dumps(RECORDS), "r.json", "json"),
        (json.dumps(RECORDS), None, "json"),
        (json.dumps({"records": RECORDS}), "r.json", "json"),
        (json.dumps({"records": RECORDS}, indent=2), None, "json"),
        ("\n".join(json.dumps(r) for r in RECORDS) + "\n", "r.jsonl", "jsonl"),
        ("\n".join(json.dumps(r) for r in RECORDS) + "\n\n", None, "jsonl"),
        ("\n\n".join(json.dumps(r) for r in RECORDS), "r.ndjson", "jsonl"),
    ],
    ids=[
        "list",
        "list-unnamed",
        "records-wrapper",
        "records-wrapper-unnamed",
        "jsonl",
        "jsonl-unnamed",
        "ndjson-blank-lines",
    ],
)
def test_json_records(payload: str, name: str | None, fmt: str) -> None:
    data = payload.encode()
    ds = load_dataset(data, name=name)
    assert ds.info.format == fmt
    assert ds.info.text_encoding == "utf-8"
    assert ds.info.sha256 == sha256(data)
    assert ds.info.label_column == "Target"
    assert ds.feature_names == ("size", "colour_blue", "colour_green", "colour_red")
    assert np.array_equal(ds.X, RECORDS_X)
    assert ds.y.tolist() == ["p", "q", "p", "q"]
    assert ds.info.dtypes == {"size": "float64", "colour": "str", "Target": "str"}
    assert_consistent(ds)


def test_json_null_feature_is_imputed_and_integer_labels_kept() -> None:
    records = [
        {"a": 1.0, "label": 7},
        {"a": None, "label": 8},
        {"a": 3.0, "label": 7},
        {"a": 8.0, "label": 8},
    ]
    ds = load_dataset(json.dumps(records).encode(), name="r.json")
    assert np.array_equal(ds.X[:, 0], [1.0, 3.0, 3.0, 8.0])
    assert ds.y.dtype == np.int64
    assert ds.y.tolist() == [7, 8, 7, 8]
    assert ds.info.n_missing == 1


# -- images: zip archives and folders --------------------------------------------------------


def class_zip(extra: dict[str, bytes] | None = None, prefix: str = "") -> bytes:
    entries = {
        f"{prefix}alpha/1.png": png(gray(10)),
        f"{prefix}alpha/2.png": png(gray(20)),
        f"{prefix}beta/1.jpg": png(gray(200), "JPEG"),
        f"{prefix}beta/2.jpeg": png(gray(240), "JPEG"),
        f"{prefix}beta/3.png": png(gray(250)),
    }
    entries.update(extra or {})
    return make_zip(entries)


EXPECTED_GRAYS = [10, 20, 200, 240, 250]  # in sorted path order


def assert_class_images(ds: Dataset, shape: tuple[int, int]) -> None:
    assert ds.modality == "image"
    assert ds.X.dtype == np.uint8
    assert ds.X.shape == (5, *shape)
    assert ds.info.input_shape == shape
    assert ds.y.tolist() == ["alpha", "alpha", "beta", "beta", "beta"]
    assert ds.classes.tolist() == ["alpha", "beta"]
    assert (ds.info.shots.min, ds.info.shots.median, ds.info.shots.max) == (2, 2.5, 3)
    for image, value in zip(ds.X, EXPECTED_GRAYS, strict=True):
        # PNG is exact; JPEG of a flat patch is within a level or two
        assert np.abs(image.astype(int) - value).max() <= 2
    assert ds.X[0].tolist() == gray(10, shape).tolist()
    assert_consistent(ds)


def test_image_zip_keeps_size_when_asked() -> None:
    data = class_zip()
    ds = load_dataset(data, name="letters.zip", image_size=None)
    assert ds.info.format == "image_zip"
    assert ds.info.sha256 == sha256(data)
    assert ds.info.size_bytes == len(data)
    assert ds.info.text_encoding is None
    assert ds.info.warnings == []
    assert_class_images(ds, (8, 8))


@pytest.mark.parametrize(
    ("option", "shape"),
    [(None, (28, 28)), ((4, 6), (4, 6)), (12, (12, 12)), ("5x3", (5, 3))],
    ids=["default-28", "tuple", "int", "string"],
)
def test_image_zip_resized(option: Any, shape: tuple[int, int]) -> None:
    kwargs = {} if option is None else {"image_size": option}
    ds = load_dataset(class_zip(), **kwargs)  # no name: a zip that is not NPZ holds images
    assert ds.info.format == "image_zip"
    assert_class_images(ds, shape)


def test_image_zip_rgb() -> None:
    data = make_zip(
        {
            "red/1.png": png(rgb((255, 0, 0))),
            "red/2.jpg": png(rgb((255, 0, 0)), "JPEG"),
            "green/1.png": png(rgb((0, 255, 0))),
            "green/2.png": png(rgb((0, 200, 0), (10, 6))),
        }
    )
    ds = load_dataset(data, color="rgb", image_size=(8, 8))
    assert ds.X.shape == (4, 8, 8, 3)
    assert ds.info.input_shape == (8, 8, 3)
    assert ds.y.tolist() == ["green", "green", "red", "red"]
    expected = [(0, 255, 0), (0, 200, 0), (255, 0, 0), (255, 0, 0)]
    for image, colour in zip(ds.X, expected, strict=True):
        assert np.abs(image.astype(int) - np.array(colour)).max() <= 3
    # the same archive in grayscale: luminance of pure red and green (ITU-R 601-2)
    grey = load_dataset(data, image_size=(8, 8))
    assert grey.X.shape == (4, 8, 8)
    assert abs(int(grey.X[2, 0, 0]) - 76) <= 1
    assert abs(int(grey.X[0, 0, 0]) - 150) <= 1


def test_image_zip_transparent_background_is_white() -> None:
    pixels = np.zeros((4, 4, 4), dtype=np.uint8)  # fully transparent black
    data = make_zip(
        {
            "a/1.png": png(pixels),
            "a/2.png": png(pixels),
            "b/1.png": png(gray(0, (4, 4))),
            "b/2.png": png(gray(0, (4, 4))),
        }
    )
    ds = load_dataset(data, image_size=None)
    assert ds.X[0].min() == 255
    assert ds.X[2].max() == 0


@pytest.mark.parametrize("color", ["grayscale", "rgb"])
def test_sixteen_bit_png_levels_are_scaled_not_clipped(color: str) -> None:
    """Pillow's convert("L") clips 16-bit levels above 255 to white; they are scaled by 257."""
    dark, light = np.full((4, 4), 10_000, np.uint16), np.full((4, 4), 60_000, np.uint16)
    ramp = (np.arange(16, dtype=np.uint16) * 4369).reshape(4, 4)  # 0 … 65535
    entries = {"a/1.png": dark, "a/2.png": dark, "b/1.png": light, "b/2.png": light}
    data = make_zip({name: png(pixels) for name, pixels in {**entries, "b/3.png": ramp}.items()})
    ds = load_dataset(data, image_size=None, color=color)
    levels = ds.X if color == "grayscale" else ds.X[..., 0]
    assert levels[0].min() == levels[0].max() == 39  # round(10000 / 257)
    assert levels[2].min() == levels[2].max() == 233  # round(60000 / 257)
    assert levels[4].min() == 0 and levels[4].max() == 255
    assert levels[4][0, 1] == 17  # 4369 / 257


def test_image_zip_wrapper_folder_and_os_litter() -> None:
    data = class_zip(
        prefix="letters/",
        extra={
            "__MACOSX/letters/alpha/._1.png": b"\x00\x05\x16\x07junk",
            "letters/.DS_Store": b"\x00\x00\x00\x01Bud1",
            "letters/beta/.DS_Store": b"\x00\x00\x00\x01Bud1",
            "letters/beta/Thumbs.db": b"junk",
        },
    )
    ds = load_dataset(data, name="letters.zip", image_size=None)
    assert ds.info.warnings == []
    assert_class_images(ds, (8, 8))


def test_image_zip_nested_wrappers_and_deeper_class_folders() -> None:
    data = make_zip(
        {
            "outer/inner/a/x/1.png": png(gray(1)),
            "outer/inner/a/2.png": png(gray(2)),
            "outer/inner/b/1.png": png(gray(3)),
            "outer/inner/b/y/z/2.png": png(gray(4)),
        }
    )
    ds = load_dataset(data, image_size=None)
    assert ds.y.tolist() == ["a", "a", "b", "b"]
    assert sorted(int(image[0, 0]) for image in ds.X[:2]) == [1, 2]


def test_image_zip_top_level_readme_ignored_with_warning() -> None:
    data = class_zip(extra={"README.txt": b"Letters, scanned in 2024."})
    ds = load_dataset(data, image_size=None)
    assert len(ds.info.warnings) == 1
    assert "README.txt" in ds.info.warnings[0]
    assert "ignored" in ds.info.warnings[0]
    assert_class_images(ds, (8, 8))


@pytest.mark.parametrize("readme", ["README.md", "letters/README.md"], ids=["beside", "inside"])
def test_image_zip_wrapper_folder_with_readme(readme: str) -> None:
    data = class_zip(prefix="letters/", extra={readme: b"# Letters\n"})
    ds = load_dataset(data, image_size=None)
    assert_class_images(ds, (8, 8))
    assert any("README.md" in w for w in ds.info.warnings)


def test_image_folder_on_disk(tmp_path: Path) -> None:
    root = tmp_path / "letters"
    (root / "alpha").mkdir(parents=True)
    (root / "beta" / "deeper").mkdir(parents=True)
    (root / "alpha" / "1.png").write_bytes(png(gray(10)))
    (root / "alpha" / "2.png").write_bytes(png(gray(20)))
    (root / "beta" / "1.jpg").write_bytes(png(gray(200), "JPEG"))
    (root / "beta" / "2.jpeg").write_bytes(png(gray(240), "JPEG"))
    (root / "beta" / "deeper" / "3.png").write_bytes(png(gray(250)))
    (root / ".DS_Store").write_bytes(b"junk")
    (root / "NOTES.txt").write_text("scanned letters")
    ds = load_dataset(root, image_size=None)
    assert ds.info.format == "image_folder"
    assert ds.info.name == "letters"
    assert ds.info.size_bytes == sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    assert ds.info.sha256 is not None
    assert len(ds.info.sha256) == 64
    assert any("NOTES.txt" in w for w in ds.info.warnings)
    assert_class_images(ds, (8, 8))
    # the folder digest is deterministic and follows the content
    assert load_dataset(str(root), image_size=None).info.sha256 == ds.info.sha256
    (root / "alpha" / "2.png").write_bytes(png(gray(21)))
    assert load_dataset(root, image_size=None).info.sha256 != ds.info.sha256


def test_image_zip_and_folder_agree(tmp_path: Path) -> None:
    data = class_zip()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        archive.extractall(tmp_path)
    from_zip = load_dataset(data, image_size=(6, 6))
    from_folder = load_dataset(tmp_path, image_size=(6, 6))
    assert np.array_equal(from_zip.X, from_folder.X)
    assert from_zip.y.tolist() == from_folder.y.tolist()


# -- label resolution ------------------------------------------------------------------------


LABEL_ROWS = [
    ["f1", "f2", "kind"],
    ["1", "10", "x"],
    ["2", "20", "y"],
    ["3", "30", "x"],
    ["4", "40", "y"],
]


def test_label_by_name() -> None:
    data = delimited(LABEL_ROWS).encode()
    for ds in (
        load_dataset(data, label="kind"),
        load_dataset(data, options=LoadOptions(label="kind")),
    ):
        assert ds.info.label_column == "kind"
        assert ds.y.tolist() == ["x", "y", "x", "y"]
        assert ds.feature_names == ("f1", "f2")
        assert np.array_equal(ds.X, [[1, 10], [2, 20], [3, 30], [4, 40]])


@pytest.mark.parametrize(("position", "column"), [(-1, "kind"), (2, "kind"), (-3, "f1")])
def test_label_by_position(position: int, column: str) -> None:
    rows = [row[:] for row in LABEL_ROWS]
    for i, row in enumerate(rows[1:]):
        row[0] = "ab"[i % 2]  # make f1 a usable label column too
    ds = load_dataset(delimited(rows).encode(), label=position)
    assert ds.info.label_column == column
    assert column not in (ds.feature_names or ())
    assert ds.y.tolist() == (["x", "y", "x", "y"] if column == "kind" else ["a", "b", "a", "b"])


@pytest.mark.parametrize(
    "header", ["label", "Label", "TARGET", "target", "Class", "class", "labels", "y"]
)
def test_label_auto_detected(header: str) -> None:
    rows = [row[:] for row in LABEL_ROWS]
    rows[0][2] = header
    ds = load_dataset(delimited(rows).encode())
    assert ds.info.label_column == header
    assert ds.y.tolist() == ["x", "y", "x", "y"]
    assert ds.feature_names == ("f1", "f2")


def test_label_column_first_and_groups_column() -> None:
    rows = [
        ["Label", "writer", "v"],
        ["a", "w1", "1"],
        ["b", "w1", "2"],
        ["a", "w2", "3"],
        ["b", "w2", "4"],
    ]
    ds = load_dataset(delimited(rows).encode(), groups="writer")
    assert ds.info.label_column == "Label"
    assert ds.feature_names == ("v",)
    assert ds.groups is not None
    assert ds.groups.tolist() == ["w1", "w1", "w2", "w2"]
    tabular = ds.info.tabular
    assert tabular is not None
    assert {c.name: c.role for c in tabular.columns} == {
        "Label": "label",
        "writer": "group",
        "v": "feature",
    }


@pytest.mark.parametrize(
    ("values", "dtype", "expected"),
    [
        (["1", "2", "1", "2"], np.int64, [1, 2, 1, 2]),
        (["1.5", "2.5", "1.5", "2.5"], np.float64, [1.5, 2.5, 1.5, 2.5]),
        (["True", "False", "True", "False"], np.bool_, [True, False, True, False]),
        (["b", "a", "b", "a"], np.str_, ["b", "a", "b", "a"]),
    ],
    ids=["int", "float", "bool", "str"],
)
def test_original_label_values_kept(values: list[str], dtype: type, expected: list[Any]) -> None:
    rows = [["f", "label"], *([str(i), v] for i, v in enumerate(values))]
    ds = load_dataset(delimited(rows).encode())
    assert ds.y.dtype.type is dtype
    assert ds.y.tolist() == expected
    assert ds.classes.tolist() == sorted(set(expected))
    assert_consistent(ds)


# -- tabular encoding ------------------------------------------------------------------------


def test_binary_string_column_is_one_column() -> None:
    ds = load_dataset(PEOPLE_CSV)
    sex = ds.feature_names.index("sex_M") if ds.feature_names else -1
    assert [n for n in ds.feature_names or () if n.startswith("sex")] == ["sex_M"]
    assert ds.X[:, sex].tolist() == [1, 0, 0, 1, 1]


def test_ordinal_option() -> None:
    ds = load_dataset(PEOPLE_CSV, categorical="ordinal")
    assert ds.feature_names == ("age", "city", "sex")
    # categories in sorted order: Lyon=0, Nice=1, Paris=2; F=0, M=1
    assert np.array_equal(ds.X, [[30, 2, 1], [40, 0, 0], [50, 2, 0], [60, 1, 1], [70, 0, 1]])
    assert ds.info.tabular is not None
    assert ds.info.tabular.categorical_encoding == "ordinal"
    assert ds.info.warnings == []


def test_high_cardinality_column_ordinal_with_warning() -> None:
    rows = [["code", "city", "label"]]
    rows += [[f"c{i:02d}", ["Paris", "Lyon"][i % 2], "ab"[i % 2]] for i in range(6)]
    ds = load_dataset(delimited(rows).encode(), max_onehot_categories=5)
    assert ds.feature_names == ("city_Paris", "code")
    assert ds.X[:, 1].tolist() == [0, 1, 2, 3, 4, 5]
    assert len(ds.info.warnings) == 1
    assert "'code'" in ds.info.warnings[0]
    assert "ordinal" in ds.info.warnings[0]
    # at the limit it stays one-hot
    wide = load_dataset(delimited(rows).encode(), max_onehot_categories=6)
    assert wide.feature_names == (
        "code_c00",
        "code_c01",
        "code_c02",
        "code_c03",
        "code_c04",
        "code_c05",
        "city_Paris",
    )
    assert wide.info.warnings == []


MISSING_ROWS = [
    ["a", "b", "colour", "label"],
    ["1", "", "red", "x"],
    ["2", "4", "", "y"],
    ["3", "6", "red", "x"],
    ["4", "11", "blue", "y"],
]


@pytest.mark.parametrize(
    ("strategy", "fill"),
    [(None, 6.0), ("median", 6.0), ("mean", 7.0), ("zero", 0.0)],
    ids=["default", "median", "mean", "zero"],
)
def test_missing_values_imputed(strategy: str | None, fill: float) -> None:
    kwargs: dict[str, Any] = {} if strategy is None else {"numeric_impute": strategy}
    ds = load_dataset(delimited(MISSING_ROWS).encode(), **kwargs)
    assert ds.feature_names == ("a", "b", "colour_red")
    assert ds.X[:, 1].tolist() == [fill, 4, 6, 11]
    assert ds.X[:, 2].tolist() == [1, 1, 1, 0]  # missing colour -> most frequent (red)
    assert ds.info.n_missing == 2
    tabular = ds.info.tabular
    assert tabular is not None
    assert tabular.n_missing == 2
    assert {c.name: c.n_missing for c in tabular.columns} == {
        "a": 0,
        "b": 1,
        "colour": 1,
        "label": 0,
    }
    assert len(ds.info.warnings) == 1
    assert "2 missing feature values imputed" in ds.info.warnings[0]
    assert f"numeric: {strategy or 'median'}" in ds.info.warnings[0]
    assert np.isfinite(ds.X).all()


def test_empty_column_dropped_with_warning() -> None:
    rows = [["a", "empty", "label"], ["1", "", "x"], ["2", "", "y"], ["3", "", "x"], ["4", "", "y"]]
    ds = load_dataset(delimited(rows).encode())
    assert ds.feature_names == ("a",)
    assert ds.X[:, 0].tolist() == [1, 2, 3, 4]
    assert any("'empty'" in w and "dropped" in w for w in ds.info.warnings)
    tabular = ds.info.tabular
    assert tabular is not None
    roles = {c.name: (c.kind, c.role) for c in tabular.columns}
    assert roles["empty"] == ("empty", "dropped")


def test_rows_shorter_than_the_header_are_read_with_a_warning() -> None:
    """pandas pads a short row with gaps; the user is told which rows (blank lines skipped)."""
    data = b"label,a,b\nx,1,2\ny,3\n\nx,5,6\ny,7\nx,1,1\ny,2,2\n"
    ds = load_dataset(data, name="short.csv")
    assert len(ds.X) == 6
    assert ds.info.warnings[0] == (
        "2 rows have fewer fields than the header's 3 (rows 2, 4, numbered from 1); their "
        "last fields were read as missing."
    )


def test_a_numeric_column_with_stray_text_is_named_in_a_warning() -> None:
    """One 'banana' among numbers makes the column categorical; the user is told why."""
    rows = [["size", "colour", "label"]]
    rows += [[str(i % 7 + 0.5), ["red", "blue"][i % 2], "xy"[i % 2]] for i in range(20)]
    rows[5][0], rows[9][0] = "banana", "?"
    ds = load_dataset(delimited(rows).encode(), name="g.csv")
    [note] = [w for w in ds.info.warnings if "holds numbers" in w]
    assert note.startswith("Column 'size' holds numbers but for 2 values ('banana', '?')")
    assert not any("'colour'" in w for w in ds.info.warnings)  # words: no such warning


def test_trailing_delimiter_column_dropped() -> None:
    data = b"a,b,label,\n1,2,x,\n3,4,y,\n5,6,x,\n7,8,y,\n"
    ds = load_dataset(data)
    assert ds.feature_names == ("a", "b")
    assert np.array_equal(ds.X, [[1, 2], [3, 4], [5, 6], [7, 8]])
    assert any("dropped" in w for w in ds.info.warnings)


def test_dropped_empty_column_is_not_reported_as_imputed() -> None:
    rows = [["a", "empty", "label"], ["1", "", "x"], ["2", "", "y"], ["3", "", "x"], ["4", "", "y"]]
    ds = load_dataset(delimited(rows).encode())
    assert not any("imputed" in w for w in ds.info.warnings)


@pytest.mark.filterwarnings("ignore:Found unknown categories:UserWarning")
def test_encoder_reproduces_x_and_encodes_unseen_rows() -> None:
    data = delimited(MISSING_ROWS).encode()
    ds = load_dataset(data)
    assert ds.encoder is not None
    frame = pd.read_csv(io.BytesIO(data))
    assert np.array_equal(ds.encoder.transform(frame), ds.X)  # label column is ignored
    assert ds.encoder.feature_names_out_ == list(ds.feature_names or ())
    new = pd.DataFrame(
        {"colour": ["green", None, "blue"], "a": [10.0, np.nan, 0.0], "b": [1.0, 2.0, np.nan]}
    )
    encoded = ds.encoder.transform(new)
    assert encoded.shape == (3, 3)
    assert encoded.dtype == np.float64
    # unseen 'green' -> all-zero one-hot; missing values -> the statistics fitted on the file
    assert encoded.tolist() == [[10, 1, 0], [2.5, 2, 1], [0, 6, 0]]


def test_encoder_ordinal_unseen_category() -> None:
    ds = load_dataset(PEOPLE_CSV, categorical="ordinal")
    assert ds.encoder is not None
    new = pd.DataFrame({"age": [1.0], "city": ["Berlin"], "sex": ["M"]})
    assert ds.encoder.transform(new).tolist() == [[1, -1, 1]]


@pytest.mark.filterwarnings("ignore:Found unknown categories:UserWarning")
def test_onehot_encoder_unseen_multicategory() -> None:
    ds = load_dataset(PEOPLE_CSV)
    assert ds.encoder is not None
    new = pd.DataFrame({"age": [1.0, 2.0], "city": ["Berlin", "Nice"], "sex": ["M", "F"]})
    assert ds.encoder.transform(new).tolist() == [[1, 0, 0, 0, 1], [2, 0, 1, 0, 0]]


# -- writers round trip ----------------------------------------------------------------------


def _vector_dataset() -> Dataset:
    rng = np.random.default_rng(7)
    X = rng.normal(size=(9, 3))
    y = np.array(["ant", "bee", "cat"] * 3)
    return make_dataset(X, y, feature_names=["width", "height", "depth"])


@pytest.mark.parametrize("fmt", VECTOR_FORMATS)
def test_writer_vector_round_trip_exact(fmt: ExportFormat) -> None:
    ds = _vector_dataset()
    back = load_dataset(to_bytes(ds, fmt), name=f"data.{fmt}")
    assert np.array_equal(back.X, ds.X)


@pytest.mark.parametrize("fmt", VECTOR_FORMATS)
def test_writer_vector_round_trip(fmt: ExportFormat) -> None:
    ds = _vector_dataset()
    data = to_bytes(ds, fmt)
    back = load_dataset(data, name=f"data.{fmt}")
    assert back.info.format == fmt
    assert back.info.sha256 == sha256(data)
    assert back.feature_names == ds.feature_names
    np.testing.assert_allclose(back.X, ds.X, rtol=1e-9, atol=1e-9)
    assert back.y.tolist() == ds.y.tolist()
    assert back.classes.tolist() == ds.classes.tolist()
    assert back.y_encoded.tolist() == ds.y_encoded.tolist()
    # and recognised without a name
    assert load_dataset(data).y.tolist() == ds.y.tolist()


@pytest.mark.parametrize("fmt", VECTOR_FORMATS)
def test_writer_integer_labels_round_trip(fmt: ExportFormat) -> None:
    ds = make_dataset(np.arange(8.0).reshape(4, 2), np.array([5, 3, 5, 3]))
    back = load_dataset(to_bytes(ds, fmt), name=f"data.{fmt}")
    assert back.y.dtype == np.int64
    assert back.y.tolist() == [5, 3, 5, 3]
    assert np.array_equal(back.X, ds.X)


@pytest.mark.parametrize("fmt", VECTOR_FORMATS)
def test_writer_feature_named_label_writes_target(fmt: ExportFormat) -> None:
    # a feature called 'label' pushes the labels into a 'target' column; both names are
    # label candidates, so reading back needs label="target" (without it: no_label_column)
    ds = make_dataset(
        np.arange(8.0).reshape(4, 2), np.array(["a", "b", "a", "b"]), feature_names=["label", "x"]
    )
    back = load_dataset(
        to_bytes(ds, fmt), name=f"d.{fmt}", label="target" if fmt != "npz" else None
    )
    assert back.feature_names == ("label", "x")
    assert np.array_equal(back.X, ds.X)
    assert back.y.tolist() == ["a", "b", "a", "b"]


def test_writer_npz_keeps_groups() -> None:
    ds = make_dataset(
        np.arange(8.0).reshape(4, 2), np.array(["a", "b", "a", "b"]), groups=np.array([1, 1, 2, 2])
    )
    back = load_dataset(to_bytes(ds, "npz"), name="d.npz")
    assert back.groups is not None
    assert back.groups.tolist() == [1, 1, 2, 2]


def _pixels_by_class(X: np.ndarray, labels: list[str]) -> dict[str, list[bytes]]:
    result: dict[str, list[bytes]] = {}
    for image, label in zip(X, labels, strict=True):
        result.setdefault(label, []).append(image.tobytes())
    return {k: sorted(v) for k, v in result.items()}


def test_writer_image_zip_round_trip() -> None:
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, size=(7, 5, 4), dtype=np.uint8)
    labels = np.array(["Σ", "σ", "x", "Σ", "σ", "x", "x"])
    ds = make_dataset(images, labels)
    data = to_bytes(ds, "zip")
    folders = class_folder_names(ds.classes)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        tops = {name.split("/")[0] for name in archive.namelist()}
    assert tops == set(folders.values())
    back = load_dataset(data, name="images.zip", image_size=None)
    assert back.info.format == "image_zip"
    assert back.X.shape == images.shape
    assert back.X.dtype == np.uint8
    expected = _pixels_by_class(images, [folders[v] for v in labels.tolist()])
    assert _pixels_by_class(back.X, back.y.tolist()) == expected


def test_writer_image_zip_rgb_and_float_images() -> None:
    rng = np.random.default_rng(4)
    colour = rng.integers(0, 256, size=(4, 3, 3, 3), dtype=np.uint8)
    ds = make_dataset(colour, np.array([0, 1, 0, 1]))
    back = load_dataset(to_bytes(ds, "zip"), image_size=None, color="rgb")
    assert back.y.tolist() == ["0", "0", "1", "1"]  # folder names are text
    assert _pixels_by_class(back.X, back.y.tolist()) == _pixels_by_class(
        colour, [str(v) for v in ds.y.tolist()]
    )
    floats = rng.random((4, 3, 5)).astype(np.float32)
    fds = make_dataset(floats, np.array(["a", "b", "a", "b"]))
    fback = load_dataset(to_bytes(fds, "zip"), image_size=None)
    quantised = np.rint(floats * 255).astype(np.uint8)
    assert _pixels_by_class(fback.X, fback.y.tolist()) == _pixels_by_class(
        quantised, fds.y.tolist()
    )


def test_writer_image_npz_round_trip() -> None:
    rng = np.random.default_rng(5)
    images = rng.integers(0, 256, size=(6, 4, 4), dtype=np.uint8)
    ds = make_dataset(images, np.array(["Σ", "σ", "x"] * 2), groups=np.arange(6) // 2)
    back = load_dataset(to_bytes(ds, "npz"), name="images.npz")
    assert back.modality == "image"
    assert np.array_equal(back.X, images)
    assert back.y.tolist() == ds.y.tolist()
    assert back.groups is not None
    assert back.groups.tolist() == [0, 0, 1, 1, 2, 2]


def test_class_folder_names_are_case_insensitively_unique_and_safe() -> None:
    classes = np.array(
        sorted(["A", "a", "B", "b", "Σ", "σ", "ς", "ß", "SS", "x/y", ".hidden", "a:b", "tab\tname"])
    )
    names = class_folder_names(classes)
    assert set(names) == set(classes.tolist())
    folded = [n.casefold() for n in names.values()]
    assert len(set(folded)) == len(folded)
    for folder in names.values():
        assert folder.strip()
        assert not folder.startswith(".")
        assert not any(ch in folder for ch in "/\\:")
        assert all(ord(ch) >= 32 for ch in folder)
    # the first of a clash in sorted order keeps its name; safe names are kept as they are
    assert names["A"] == "A"
    assert names["a"] == "a_U+0061"
    assert names["Σ"] == "Σ"
    assert names["x/y"] == "U+0078_U+002F_U+0079"


@pytest.mark.parametrize(
    "labels", [["U+005C", "\\"], ["U+0061_U+002F_U+0062", "a/b"]], ids=["backslash", "slash"]
)
def test_class_folder_names_unsafe_label_does_not_collide(labels: list[str]) -> None:
    names = class_folder_names(np.array(sorted(labels)))
    assert len({n.casefold() for n in names.values()}) == 2


# -- conventions of real-world delimited files ---------------------------------------------


def test_decimal_commas_with_semicolons_are_numbers() -> None:
    data = b"weight;size;label\n1,5;3;a\n2,25;4;a\n-0,5;5;b\n3;6;b\n"
    ds = load_dataset(data, name="eu.csv")
    assert ds.X[:, 0].tolist() == [1.5, 2.25, -0.5, 3.0]
    assert any("decimal commas" in w for w in ds.info.warnings)
    # with a comma delimiter a quoted "1,5" stays text
    text = load_dataset(b'w,label\n"1,5",a\n"2,5",a\nx,b\ny,b\n', name="t.csv")
    assert text.info.tabular is not None
    assert text.info.tabular.columns[0].kind == "categorical"


def test_blanks_around_text_values_are_stripped() -> None:
    ds = load_dataset(b"x,label\n1,cat \n2, cat\n3,dog\n4,dog  \n", name="t.csv")
    assert ds.classes.tolist() == ["cat", "dog"]


def test_explicit_and_guessed_encodings() -> None:
    polish = "nazwa,label\nżółw,a\nłódź,a\nświat,b\ngęś,b\n"
    ds = load_dataset(polish.encode("cp1250"), name="pl.csv", encoding="cp1250")
    assert ds.info.text_encoding == "cp1250" and not ds.info.warnings
    guessed = load_dataset(
        "name,label\ncafé,a\nthé,a\ncrème,b\nbrûlée,b\n".encode("cp1252"), name="fr.csv"
    )
    assert guessed.info.text_encoding == "cp1252"
    assert any("a guess" in w for w in guessed.info.warnings)
    assert guessed.encoder is not None
    assert "name_crème" in guessed.feature_names
    russian = "имя,label\nкот,а\nпёс,а\nдом,б\nмир,б\n"
    assert load_dataset(russian.encode("cp1251"), name="ru.csv").classes.tolist() == ["а", "б"]


def test_table_export_keeps_groups() -> None:
    ds = make_dataset(np.arange(8.0).reshape(4, 2), ["a", "a", "b", "b"], groups=[1, 2, 1, 2])
    back = load_dataset(to_bytes(ds, "csv"), name="g.csv", groups="group")
    assert back.groups is not None and back.groups.tolist() == [1, 2, 1, 2]


def test_categorical_mask_marks_encoded_categorical_columns() -> None:
    data = (
        b"size,colour,shape,label\n1,red,round,a\n2,blue,square,a\n3,red,oval,b\n4,green,round,b\n"
    )
    ds = load_dataset(data, name="t.csv")
    mask = dict(zip(ds.feature_names, ds.categorical_mask.tolist(), strict=True))
    assert mask["size"] is False
    assert mask["colour_red"] is True and mask["shape_oval"] is True
    ordinal = load_dataset(data, name="t.csv", categorical="ordinal")
    assert ordinal.categorical_mask.tolist() == [False, True, True]


def _unflagged_zip(names: dict[str, bytes]) -> bytes:
    """A zip whose entry names are the given raw bytes with the UTF-8 flag unset, as
    Info-ZIP's ``zip`` writes them (each name is written as ASCII placeholders of its length,
    then patched in both headers)."""
    placeholders = {f"{'n' * (len(raw) - 6)}{i:02d}.png": raw for i, raw in enumerate(names)}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for placeholder, raw in placeholders.items():
            archive.writestr(placeholder, names[raw])
    data = buffer.getvalue()
    for placeholder, raw in placeholders.items():
        data = data.replace(placeholder.encode("ascii"), raw)
    return data


def test_image_zip_names_in_utf8_without_the_flag_keep_their_letters() -> None:
    """Class folders 'α' and 'β' zipped by a tool that writes UTF-8 names without flagging
    them: read as code page 437 (the format's default), the labels would be '╬▒' and '╬▓'."""
    data = _unflagged_zip(
        {
            f"{c}/{i}.png".encode(): png(gray(v, (4, 4)))
            for c, v in (("α", 10), ("β", 200))
            for i in range(2)
        }
    )
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert all(info.flag_bits & 0x800 == 0 for info in archive.infolist())
        assert "╬▒/0.png" in archive.namelist()  # what the default decoding reads
    ds = load_dataset(data, name="greek.zip", image_size=None)
    assert ds.classes.tolist() == ["α", "β"]


def test_image_zip_names_in_code_page_437_still_read() -> None:
    """A name that is not UTF-8 (0x82 is 'é' in code page 437) is read the legacy way."""
    data = _unflagged_zip(
        {
            b"caf\x82/1.png": png(gray(10, (4, 4))),
            b"caf\x82/2.png": png(gray(20, (4, 4))),
            b"tea/1.png": png(gray(30, (4, 4))),
            b"tea/2.png": png(gray(40, (4, 4))),
        }
    )
    ds = load_dataset(data, name="drinks.zip", image_size=None)
    assert ds.classes.tolist() == ["café", "tea"]


def test_a_table_with_old_mac_line_endings_reads_as_rows() -> None:
    # lines ended by a lone \r: the header and the delimiter are found as pandas splits rows
    dataset = load_dataset(b"a;b;label\r1;2;x\r3;4;y\r5;6;x\r7;8;y\r", name="mac.csv")
    assert dataset.X.shape == (4, 2) and list(dataset.y) == ["x", "y", "x", "y"]
