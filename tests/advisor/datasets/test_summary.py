"""A run's training data, described for its report: the summary and the sample images."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from advisor.datasets import load_dataset
from advisor.datasets.summary import DataSummary, save_samples, summarize


def test_images_are_summarised_and_pictured_first_classes_first(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    X = rng.random((40, 6, 5))
    y = np.repeat([f"c{i:02d}" for i in range(12)], [3] * 8 + [4] * 4)
    summary = summarize(X, y)
    assert summary.modality == "image" and summary.example_shape == [6, 5]
    assert summary.shots == (3, 3.0, 4) and list(summary.class_counts)[:2] == ["c00", "c01"]
    assert summary.sentence() == (
        "40 images (6×5, grayscale) of 12 classes, 3–4 (median 3) per class."
    )
    path = save_samples(X, y, tmp_path)
    assert path is not None
    with Image.open(path) as picture:  # 10 classes of 12 (rows), at most 8 examples (columns)
        width, height = picture.size
    assert (width, height) == (4 * (5 * 2 + 2) + 2, 10 * (6 * 2 + 2) + 2)
    colour = summarize(rng.random((4, 3, 3, 3)), [0, 0, 1, 1])
    assert "(3×3, colour)" in colour.sentence()


def test_a_table_names_its_file_its_columns_and_the_gaps_filled() -> None:
    table = pd.DataFrame(
        {
            "size": [1.0, 2.0, None, 4.0, 5.0, 6.0],
            "city": ["a", "b", "a", "b", "a", "c"],
            "label": ["x", "x", "x", "y", "y", "y"],
        }
    )
    data = load_dataset(io.BytesIO(table.to_csv(index=False).encode()), name="t.csv")
    summary = summarize(data.X, data.y, data.info)
    assert summary.modality == "vector" and summary.missing_filled == 1
    assert summary.sentence() == (
        f"6 rows of {data.X.shape[1]} features (from 1 numeric and 1 categorical columns) of "
        "2 classes, 3 per class, read from t.csv (csv)."
    )
    assert save_samples(data.X, data.y, Path("unused")) is None
    assert DataSummary.model_validate(summary.model_dump(mode="json")) == summary


def test_a_table_names_the_columns_left_out() -> None:
    table = pd.DataFrame({"ref": [f"r{i}" for i in range(12)], "size": np.arange(12) / 3})
    table["leak"] = 1.0
    table["label"] = ["x", "y"] * 6
    data = load_dataset(table.to_csv(index=False).encode(), name="t.csv", drop=["leak"])
    summary = summarize(data.X, data.y, data.info)
    assert summary.left_out == {"ref": "identifier", "leak": "dropped"}
    assert summary.sentence().endswith(
        "read from t.csv (csv). Left out of the features: ref (a row identifier), leak (dropped)."
    )
    assert DataSummary.model_validate(summary.model_dump(mode="json")) == summary
