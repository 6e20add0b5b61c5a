"""Reading warns about data that cannot back a result: constant features, duplicate rows, a
class folder without images."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from advisor.datasets import Dataset, load_dataset


def _csv(rows: Sequence[tuple[object, ...]]) -> bytes:
    lines = ["a,b,label"] + [",".join(str(v) for v in row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def _warnings_about(ds: Dataset, word: str) -> list[str]:
    return [w for w in ds.info.warnings if word in w]


def test_every_feature_constant_is_a_warning_naming_the_columns() -> None:
    rows = [(1, 3, "x" if i % 2 else "y") for i in range(40)]
    ds = load_dataset(_csv(rows), name="t.csv", label="label")
    constant = _warnings_about(ds, "constant")
    assert len(constant) == 1
    assert "Every feature column is constant" in constant[0]
    assert "'a'" in constant[0] and "'b'" in constant[0]


def test_a_constant_column_beside_an_informative_one_is_no_warning() -> None:
    rows = [(1, i / 4, "x" if i % 2 else "y") for i in range(40)]  # fractions: no identifier
    ds = load_dataset(_csv(rows), name="t.csv", label="label")
    assert _warnings_about(ds, "constant") == []
    assert _warnings_about(ds, "duplicate") == []


def test_duplicate_rows_are_counted_in_a_warning() -> None:
    rows = [(1, 3, "x"), (2, 5, "y")] * 20
    ds = load_dataset(_csv(rows), name="t.csv", label="label")
    duplicates = _warnings_about(ds, "duplicate")
    assert len(duplicates) == 1
    assert duplicates[0].startswith("38 rows are exact duplicates of another row (95 %)")
    assert _warnings_about(ds, "constant") == []


def test_a_few_duplicate_rows_are_no_warning() -> None:
    rows = [(i, i % 7, "x" if i % 2 else "y") for i in range(40)] + [(0, 0, "y")]
    ds = load_dataset(_csv(rows), name="t.csv", label="label")
    assert _warnings_about(ds, "duplicate") == []


def _png(value: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.full((8, 8), value, dtype=np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("wrapped", [False, True])
def test_an_empty_class_folder_is_named_in_a_warning(tmp_path: Path, wrapped: bool) -> None:
    root = tmp_path / "emptyclass"
    base = root / "data" if wrapped else root
    for name, value in (("a", 10), ("b", 200)):
        (base / name).mkdir(parents=True)
        for i in range(3):
            (base / name / f"{i}.png").write_bytes(_png(value + i))
    (base / "c").mkdir()
    ds = load_dataset(root)
    assert sorted(ds.classes) == ["a", "b"]
    assert [w for w in ds.info.warnings if "'c'" in w] == [
        "Folder 'c' holds no image; ignored (it is not a class)."
    ]


def test_an_empty_class_folder_in_a_zip_is_named_in_a_warning() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, value in (("a", 10), ("b", 200)):
            for i in range(3):
                archive.writestr(f"{name}/{i}.png", _png(value + i))
        archive.writestr("c/", b"")
        archive.writestr("d/.DS_Store", b"litter")
    ds = load_dataset(buffer.getvalue(), name="emptyclass.zip")
    assert sorted(ds.classes) == ["a", "b"]
    assert [w for w in ds.info.warnings if "holds no image" in w] == [
        "Folder 'c' holds no image; ignored (it is not a class).",
        "Folder 'd' holds no image; ignored (it is not a class).",
    ]


def test_full_class_folders_are_no_warning(tmp_path: Path) -> None:
    for name, value in (("a", 10), ("b", 200)):
        (tmp_path / name / "deeper").mkdir(parents=True)
        for i in range(3):
            (tmp_path / name / "deeper" / f"{i}.png").write_bytes(_png(value + i))
    ds = load_dataset(tmp_path)
    assert ds.info.warnings == []
