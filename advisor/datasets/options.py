"""The options of :func:`~advisor.datasets.load_dataset`, validated in one pydantic model.

The same model is what the REST API accepts next to an upload, so a file loads the same way
from Python, the command line and HTTP.
"""

from __future__ import annotations

import codecs
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from advisor.datasets.dataset import Modality
from advisor.datasets.images import ColorMode

FileFormat = Literal["csv", "tsv", "parquet", "npz", "json", "jsonl", "image_zip", "image_folder"]
CategoricalEncoding = Literal["onehot", "ordinal"]
MissingPolicy = Literal["impute", "error"]
NumericImpute = Literal["median", "mean", "zero"]
Purpose = Literal["train", "score"]
IdentifierPolicy = Literal["drop", "keep"]


class LoadOptions(BaseModel):
    """How to read a dataset file (every field has a default that suits most files)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: FileFormat | None = Field(
        None, description="File format; detected from the name and the bytes when omitted."
    )
    encoding: str | None = Field(
        None,
        description="Text encoding of CSV/TSV/JSON files; detected when omitted (see docs).",
    )
    label: str | int | None = Field(
        None,
        description=(
            "Label column (name, or position; -1 is the last) or NPZ array name. When omitted, "
            "a column named label/labels/target/class/y (any case) is used if there is one."
        ),
    )
    groups: str | None = Field(
        None, description="Column or NPZ array of group ids (writer, patient…), optional."
    )
    drop: tuple[str, ...] = Field(
        (),
        description=(
            "Columns of a table to leave out of the features: a row's name or number, a "
            "column that gives the answer away, free text. Each must be a column of the file."
        ),
    )
    identifiers: IdentifierPolicy = Field(
        "drop",
        description=(
            "Columns that look like row identifiers (every value different: texts, or whole "
            "numbers under an id's name or in a running sequence; see "
            "advisor.datasets.identifiers): 'drop' leaves them out, with a warning; 'keep' "
            "keeps them as features."
        ),
    )
    modality: Modality | None = Field(
        None, description="'image' or 'vector'; inferred from the data when omitted."
    )
    categorical: CategoricalEncoding = Field(
        "onehot", description="Encoding of categorical columns: 'onehot' or 'ordinal'."
    )
    max_onehot_categories: int = Field(
        64,
        ge=2,
        description="A categorical column with more categories is ordinal-encoded (warned).",
    )
    missing: MissingPolicy = Field(
        "impute",
        description=(
            "Missing feature values: 'impute' (numeric by numeric_impute, categorical by the "
            "most frequent value; counted in the info) or 'error'. Rows are never dropped."
        ),
    )
    numeric_impute: NumericImpute = Field(
        "median", description="Statistic that fills missing numeric values."
    )
    image_size: tuple[int, int] | None = Field(
        (28, 28),
        description="(height, width) images are resized to; None keeps sizes (must agree).",
    )
    color: ColorMode = Field("grayscale", description="Images as 'grayscale' or 'rgb'.")
    purpose: Purpose = Field(
        "train",
        description=(
            "'train': the labels teach a classifier (at least 2 classes, 2 examples each). "
            "'score': they only score a model's predictions (a test file), so one class, or "
            "one example of a class, is fine."
        ),
    )

    @field_validator("drop", mode="before")
    @classmethod
    def _column_names(cls, value: Any) -> Any:
        if isinstance(value, str):  # one name, or "id,name" from a form or a command line
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                codecs.lookup(value)
            except LookupError:
                raise ValueError(f"unknown text encoding {value!r}") from None
            try:  # rot13, base64, zlib… are codecs, but not between bytes and text
                b"a".decode(value)
            except UnicodeDecodeError:
                pass  # a text encoding (utf-16 needs two bytes)
            except LookupError:
                raise ValueError(f"{value!r} is not a text encoding") from None
        return value

    @field_validator("image_size", mode="before")
    @classmethod
    def _parse_size(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return (value, value)
        if isinstance(value, str):
            text = value.strip().lower()
            if text in ("", "none", "keep", "original"):
                return None
            height, _, width = text.partition("x")
            return (int(height), int(width or height))
        return value

    @field_validator("image_size")
    @classmethod
    def _positive_size(cls, value: tuple[int, int] | None) -> tuple[int, int] | None:
        if value is not None and (min(value) < 1 or max(value) > 4096):
            raise ValueError("image sizes must lie between 1 and 4096 pixels")
        return value
