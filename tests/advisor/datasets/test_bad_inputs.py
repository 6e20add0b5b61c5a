"""Bad inputs to :func:`advisor.datasets.load_dataset`: one table, one stable code per failure.

Every row of :data:`CASES` builds a broken input (bytes, a file object, or — through a callable
that takes ``tmp_path`` — a path on disk), loads it and expects a specific
:class:`~advisor.errors.AdvisorError` subclass, its ``code``, a phrase of its message and a
JSON-serialisable ``to_dict()``. :func:`test_every_dataset_code_has_a_row` keeps the table in
step with the codes declared in :mod:`advisor.errors`.
"""

from __future__ import annotations

import io
import json
import struct
import tempfile
import uuid
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from advisor.datasets import LoadOptions, TabularEncoder, load_dataset
from advisor.datasets.safezip import open_zip, read_entry
from advisor.errors import (
    AdvisorError,
    DatasetError,
    LimitExceededError,
    NotFoundError,
    known_codes,
)
from advisor.settings import DataLimits

MiB = 1024 * 1024

# -- builders of broken inputs ---------------------------------------------------------------

Builder = Callable[[], tuple[Any, dict[str, Any]]]
"""Returns ``(source, load_dataset keyword arguments)``; a callable source gets ``tmp_path``."""

GOOD_CSV = b"a,b,label\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n"
PEOPLE_CSV = b"age,city,label\n30,Paris,x\n40,Lyon,y\n50,Nice,x\n60,Paris,y\n"  # 1 + 3 columns


def good_encoder() -> TabularEncoder:
    """The encoder a model trained on ``GOOD_CSV`` carries."""
    encoder = load_dataset(GOOD_CSV, name="train.csv").encoder
    assert encoder is not None
    return encoder


def people_encoder() -> TabularEncoder:
    """The encoder a model trained on ``PEOPLE_CSV`` (a categorical column) carries."""
    encoder = load_dataset(PEOPLE_CSV, name="train.csv").encoder
    assert encoder is not None
    return encoder


def png(pixels: np.ndarray | None = None, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image = np.full((8, 8), 128, dtype=np.uint8) if pixels is None else pixels
    Image.fromarray(image).save(buffer, format=fmt)
    return buffer.getvalue()


def noise_png(size: int = 32) -> bytes:
    rng = np.random.default_rng(0)
    return png(rng.integers(0, 256, size=(size, size), dtype=np.uint8))


PNG = png()


def make_zip(
    entries: list[tuple[str | zipfile.ZipInfo, bytes]],
    compression: int = zipfile.ZIP_DEFLATED,
) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


def class_zip(*extra: tuple[str | zipfile.ZipInfo, bytes]) -> bytes:
    """Two good classes of two images each, plus ``extra`` entries first."""
    good = [("a/1.png", PNG), ("a/2.png", PNG), ("b/1.png", PNG), ("b/2.png", PNG)]
    return make_zip([*extra, *good])


def npz(*, compressed: bool = False, **arrays: Any) -> bytes:
    buffer = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buffer, **arrays)
    return buffer.getvalue()


def parquet(frame: pd.DataFrame | pa.Table) -> bytes:
    buffer = io.BytesIO()
    table = frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame)
    pq.write_table(table, buffer)
    return buffer.getvalue()


def corrupt_parquet_footer() -> bytes:
    """A Parquet file with 12 bytes of its footer metadata cut out (magic bytes intact)."""
    data = parquet(pd.DataFrame({"a": [1.0, 2.0], "label": ["x", "y"]}))
    return data[:-20] + data[-8:]


def symlink_entry() -> zipfile.ZipInfo:
    info = zipfile.ZipInfo("a/link.png")
    info.create_system = 3  # Unix, whose mode bits live in the high word of external_attr
    info.external_attr = 0o120777 << 16
    return info


def encrypted_zip() -> bytes:
    """A zip whose first entry claims to be encrypted (zipfile clears the flag on writing)."""
    data = bytearray(class_zip())
    local = data.find(b"PK\x03\x04")
    central = data.find(b"PK\x01\x02")
    for offset in (local + 6, central + 8):  # general-purpose bit flag, bit 0 = encrypted
        (flags,) = struct.unpack_from("<H", data, offset)
        struct.pack_into("<H", data, offset, flags | 0x1)
    return bytes(data)


def corrupt_entry_zip() -> bytes:
    """A stored (uncompressed) entry with one byte changed: its CRC no longer matches."""
    payload = noise_png()
    data = bytearray(
        make_zip(
            [("a/1.png", payload), ("a/2.png", PNG), ("b/1.png", PNG), ("b/2.png", PNG)],
            compression=zipfile.ZIP_STORED,
        )
    )
    start = data.find(payload)
    data[start + len(payload) // 2] ^= 0xFF
    return bytes(data)


def image_folder(tmp: Path, *, link: bool = False) -> Path:
    root = tmp / "images"
    for cls in ("a", "b"):
        (root / cls).mkdir(parents=True)
        for i in (1, 2):
            (root / cls / f"{i}.png").write_bytes(PNG)
    if link:
        (root / "a" / "3.png").symlink_to(root / "b" / "1.png")
    return root


def written(tmp: Path, data: bytes, name: str = "data.csv") -> Path:
    path = tmp / name
    path.write_bytes(data)
    return path


def missing_path() -> Path:
    return Path(tempfile.gettempdir()) / f"advisor-missing-{uuid.uuid4().hex}" / "data.csv"


# -- the table -------------------------------------------------------------------------------


def case(
    case_id: str,
    build: Builder,
    error: type[AdvisorError],
    code: str,
    message: str,
    *marks: pytest.MarkDecorator,
) -> Any:
    return pytest.param(build, error, code, message, id=case_id, marks=marks)


CASES = [
    # -- reading the source --------------------------------------------------------------
    case("empty-file", lambda: (b"", {"name": "d.csv"}), DatasetError, "dataset.empty", "empty"),
    case(
        "empty-file-object",
        lambda: (io.BytesIO(b""), {}),
        DatasetError,
        "dataset.empty",
        "empty",
    ),
    case(
        "empty-file-on-disk",
        lambda: (lambda tmp: written(tmp, b""), {}),
        DatasetError,
        "dataset.empty",
        "empty",
    ),
    case(
        "whitespace-only-csv",
        lambda: (b"  \n\t\r\n   \n", {"name": "d.csv"}),
        DatasetError,
        "dataset.empty",
        "only whitespace",
    ),
    case(
        "lone-carriage-return-in-a-field",  # the csv module raised on it (a crash, HTTP 500)
        lambda: (b"a,b,label\n1,2\r,x\n3,4,y\n5,6,x\n7,8,y\n", {"name": "d.csv"}),
        DatasetError,
        "dataset.missing_labels",
        "have no label",
    ),
    case(
        "nonexistent-path",
        lambda: (missing_path(), {}),
        NotFoundError,
        "dataset.not_found",
        "No such file or folder",
    ),
    case(
        "nonexistent-str-path",
        lambda: (str(missing_path()), {}),
        NotFoundError,
        "dataset.not_found",
        "advisor-missing-",
    ),
    case(
        "too-large-bytes",
        lambda: (GOOD_CSV, {"limits": DataLimits(max_upload_bytes=16)}),
        LimitExceededError,
        "dataset.too_large",
        "the limit is 16",
    ),
    case(
        "too-large-path",
        lambda: (lambda tmp: written(tmp, GOOD_CSV), {"limits": DataLimits(max_upload_bytes=16)}),
        LimitExceededError,
        "dataset.too_large",
        "ADVISOR_MAX_UPLOAD_BYTES",
    ),
    case(
        "too-large-file-object",
        lambda: (io.BytesIO(GOOD_CSV), {"limits": DataLimits(max_upload_bytes=16)}),
        LimitExceededError,
        "dataset.too_large",
        "the limit is 16",
    ),
    case(
        "too-large-image-folder",
        lambda: (image_folder, {"limits": DataLimits(max_upload_bytes=len(PNG) * 2)}),
        LimitExceededError,
        "dataset.too_large",
        "The folder holds more than",
    ),
    case(
        "text-mode-file-object",
        lambda: (io.StringIO(GOOD_CSV.decode()), {}),
        DatasetError,
        "dataset.bad_option",
        "binary mode",
    ),
    case(
        "codec-that-is-not-a-text-encoding",
        lambda: (GOOD_CSV, {"encoding": "rot13"}),
        DatasetError,
        "dataset.bad_option",
        "'rot13' is not a text encoding",
    ),
    case(
        "unsupported-source-type",
        lambda: (42, {}),
        DatasetError,
        "dataset.bad_option",
        "Cannot read a dataset from a int",
    ),
    # -- recognising the format ----------------------------------------------------------
    case(
        "lone-png",
        lambda: (PNG, {}),
        DatasetError,
        "dataset.unsupported_format",
        "single image",
    ),
    case(
        "lone-jpeg-named",
        lambda: (png(fmt="JPEG"), {"name": "photo.jpg"}),
        DatasetError,
        "dataset.unsupported_format",
        "'photo.jpg' is a single image",
    ),
    case(
        "npz-name-non-zip-bytes",
        lambda: (b"this is not a zip archive", {"name": "arrays.npz"}),
        DatasetError,
        "dataset.malformed",
        "named like a npz file",
    ),
    case(
        "parquet-name-non-parquet-bytes",
        lambda: (GOOD_CSV, {"name": "table.parquet"}),
        DatasetError,
        "dataset.malformed",
        "named like a parquet file",
    ),
    case(
        "zip-name-non-zip-bytes",
        lambda: (GOOD_CSV, {"name": "images.zip"}),
        DatasetError,
        "dataset.malformed",
        "named like a image_zip file",
    ),
    case(
        "undecodable-binary-garbage",
        lambda: (bytes(range(256)) * 8, {"name": "data.csv"}),
        DatasetError,
        "dataset.undecodable_text",
        "not text in any encoding",
    ),
    case(
        "control-characters",
        lambda: (b"a,label\n" + b"\x00\x01\x02,x\n" * 20, {"name": "data.csv"}),
        DatasetError,
        "dataset.undecodable_text",
        "looks binary",
    ),
    # -- delimited text ------------------------------------------------------------------
    case(
        "header-only-csv",
        lambda: (b"a,b,label\n", {}),
        DatasetError,
        "dataset.no_rows",
        "no data rows",
    ),
    case(
        "csv-without-header",
        lambda: (b"1,2,3\n4,5,6\n7,8,9\n", {}),
        DatasetError,
        "dataset.no_header",
        "looks like data",
    ),
    case(
        "csv-blank-first-line",
        lambda: (b"\na,label\n1,x\n2,y\n3,x\n4,y\n", {}),
        DatasetError,
        "dataset.no_header",
        "first line is empty",
    ),
    case(
        "csv-ragged-row",
        lambda: (b"a,b,label\n1,2,x\n3,4,y,9\n5,6,x\n7,8,y\n", {}),
        DatasetError,
        "dataset.malformed",
        "Expected 3 fields",
    ),
    case(
        "csv-extra-field-every-row",
        lambda: (b"a,b,label\n1,2,x,1\n3,4,y,1\n5,6,x,2\n7,8,y,2\n", {}),
        DatasetError,
        "dataset.malformed",
        "not well-formed CSV",
    ),
    case(
        "csv-unbalanced-quote",
        lambda: (b'a,b,label\n1,"2,x\n3,4,y\n5,6,x\n7,8,y\n', {}),
        DatasetError,
        "dataset.malformed",
        "not well-formed CSV",
    ),
    case(
        "tsv-ragged-row",
        lambda: (b"a\tb\tlabel\n1\t2\tx\n3\t4\ty\t9\n5\t6\tx\n7\t8\ty\n", {"name": "d.tsv"}),
        DatasetError,
        "dataset.malformed",
        "not well-formed TSV",
    ),
    case(
        "csv-duplicate-columns",
        lambda: (b"a,a,label\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n", {}),
        DatasetError,
        "dataset.malformed",
        "unique",
    ),
    case(
        "parquet-duplicate-columns",
        lambda: (
            parquet(
                pa.Table.from_arrays(
                    [pa.array([1, 2, 3, 4]), pa.array([5, 6, 7, 8]), pa.array(list("xyxy"))],
                    names=["a", "a", "label"],
                )
            ),
            {},
        ),
        DatasetError,
        "dataset.malformed",
        "Parquet",
    ),
    # -- labels --------------------------------------------------------------------------
    case(
        "no-label-column",
        lambda: (b"a,b,kind\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n", {}),
        DatasetError,
        "dataset.no_label_column",
        "Name the label column (no column is named",
    ),
    case(
        "ambiguous-label-column",
        lambda: (b"a,label,target\n1,2,x\n3,4,y\n5,2,x\n7,4,y\n", {}),
        DatasetError,
        "dataset.no_label_column",
        "several columns could be",
    ),
    case(
        "unknown-label-name",
        lambda: (GOOD_CSV, {"label": "species"}),
        DatasetError,
        "dataset.no_label_column",
        "'species' is not in the file",
    ),
    case(
        "label-position-out-of-range",
        lambda: (GOOD_CSV, {"label": 3}),
        DatasetError,
        "dataset.no_label_column",
        "no column at position 3",
    ),
    case(
        "label-negative-position-out-of-range",
        lambda: (GOOD_CSV, {"label": -4}),
        DatasetError,
        "dataset.no_label_column",
        "no column at position -4",
    ),
    case(
        "no-feature-column",
        lambda: (b"label\nx\ny\nx\ny\n", {}),
        DatasetError,
        "dataset.no_features",
        "no feature column",
    ),
    # -- a test or prediction file encoded with the training table's encoder ---------------
    case(
        "test-file-numeric-column-holds-text",
        lambda: (b"a,b,label\n1,?,x\n3,4,y\n", {"name": "t.csv", "encoder": good_encoder()}),
        DatasetError,
        "dataset.encoding_mismatch",
        "numeric in the training data but holds text",
    ),
    case(
        "test-file-images-for-a-table",
        lambda: (class_zip(), {"name": "t.zip", "encoder": good_encoder()}),
        DatasetError,
        "dataset.encoding_mismatch",
        "holds images",
    ),
    case(
        "test-file-lacks-a-categorical-training-column",
        lambda: (b"age,label\n30,x\n40,y\n", {"name": "t.csv", "encoder": people_encoder()}),
        DatasetError,
        "dataset.encoding_mismatch",
        "lack the columns ['city']",
    ),
    case(
        "test-file-lacks-a-training-column",
        lambda: (b"a,label\n1,x\n3,y\n", {"name": "t.csv", "encoder": good_encoder()}),
        DatasetError,
        "dataset.encoding_mismatch",
        "lack the columns ['b']",
    ),
    case(
        "single-class",
        lambda: (b"a,label\n1,x\n2,x\n3,x\n", {}),
        DatasetError,
        "dataset.single_class",
        "same label ('x')",
    ),
    case(
        "class-with-one-example",
        lambda: (b"a,label\n1,x\n2,x\n3,y\n4,y\n5,z\n", {}),
        DatasetError,
        "dataset.class_too_small",
        "single example ('z')",
    ),
    case(
        "regression-target",
        lambda: (
            ("x,price\n" + "".join(f"{i % 7},{9.99 + 1.25 * i:.2f}\n" for i in range(30))).encode(),
            {"label": "price"},
        ),
        DatasetError,
        "dataset.numeric_label",
        "quantity to predict (regression)",
    ),
    case(
        "missing-label-csv",
        lambda: (b"a,label\n1,x\n2,\n3,x\n4,y\n5,y\n", {}),
        DatasetError,
        "dataset.missing_labels",
        "no label",
    ),
    case(
        "missing-label-json-null",
        lambda: (
            json.dumps(
                [{"a": i, "label": v} for i, v in enumerate(["x", None, "x", "y", "y"])]
            ).encode(),
            {},
        ),
        DatasetError,
        "dataset.missing_labels",
        "(rows 2, numbered from 1)",  # the second record
    ),
    case(
        "too-many-classes",
        lambda: (b"a,label\n1,x\n2,x\n3,y\n4,y\n5,z\n6,z\n", {"limits": DataLimits(max_classes=2)}),
        LimitExceededError,
        "dataset.too_many_classes",
        "3 classes; the limit is 2",
    ),
    # -- feature values ------------------------------------------------------------------
    case(
        "inf-in-numeric-column",
        lambda: (b"a,b,label\n1,inf,x\n3,4,y\n5,6,x\n7,-inf,y\n", {}),
        DatasetError,
        "dataset.non_finite",
        "2 feature values are infinite (columns ['b'], first rows [1, 4], numbered from 1)",
    ),
    case(
        "nan-with-missing-error",
        lambda: (b"a,b,label\n1,,x\n3,4,y\n5,6,x\n7,8,y\n", {"missing": "error"}),
        DatasetError,
        "dataset.missing_values",
        "policy is 'error'",
    ),
    case(
        "npz-nan-with-missing-error",
        lambda: (
            npz(X=np.array([[1.0, np.nan], [2, 3], [3, np.nan], [4, 5]]), y=np.array([0, 1, 0, 1])),
            {"missing": "error"},
        ),
        DatasetError,
        "dataset.missing_values",
        "2 feature values are missing",
    ),
    case(
        "npz-inf-in-vectors",
        lambda: (npz(X=np.array([[1.0, np.inf]] * 4), y=np.array([0, 1, 0, 1])), {}),
        DatasetError,
        "dataset.non_finite",
        "infinite",
    ),
    case(
        "npz-nan-in-float-images",
        lambda: (npz(X=np.full((4, 2, 2), np.nan), y=np.array([0, 1, 0, 1])), {}),
        DatasetError,
        "dataset.non_finite",
        "NaN or infinite",
    ),
    # -- size limits ---------------------------------------------------------------------
    case(
        "too-many-rows",
        lambda: (GOOD_CSV, {"limits": DataLimits(max_rows=3)}),
        LimitExceededError,
        "dataset.too_many_rows",
        "4 rows; the limit is 3",
    ),
    case(
        "too-many-images",
        lambda: (class_zip(), {"limits": DataLimits(max_image_count=3)}),
        LimitExceededError,
        "dataset.too_many_rows",
        "More than 3 images",
    ),
    case(
        "onehot-beyond-max-columns",
        lambda: (PEOPLE_CSV, {"limits": DataLimits(max_columns=3)}),
        LimitExceededError,
        "dataset.too_many_columns",
        "Encoding gives 4 feature columns; the limit is 3",
    ),
    case(
        # Each row is one field of over 131,072 characters to the csv module when the
        # delimiter sniffer tries TAB: its default field limit must not turn this into a crash.
        "wide-csv-beyond-max-columns",
        lambda: (
            (",".join(f"c{i}" for i in range(2_000)) + ",label\n").encode()
            + b"".join(
                (",".join([f"{k}." + "1" * 70] * 2_000) + f",{k}\n").encode() for k in range(4)
            ),
            {"limits": DataLimits(max_columns=1_000)},
        ),
        LimitExceededError,
        "dataset.too_many_columns",
        "Encoding gives 2000 feature columns; the limit is 1000",
    ),
    case(
        "npz-beyond-max-columns",
        lambda: (
            npz(X=np.zeros((4, 5)), y=np.array([0, 1, 0, 1])),
            {"limits": DataLimits(max_columns=4)},
        ),
        LimitExceededError,
        "dataset.too_many_columns",
        "the limit is 4",
    ),
    case(
        "onehot-beyond-max-cells",
        lambda: (PEOPLE_CSV, {"limits": DataLimits(max_cells=15)}),
        LimitExceededError,
        "dataset.too_many_cells",
        "4 rows x 4 encoded columns exceed the limit of 15",
    ),
    # -- images --------------------------------------------------------------------------
    case(
        "mixed-image-sizes",
        lambda: (
            class_zip(("a/0.png", png(np.zeros((9, 7), dtype=np.uint8)))),
            {"image_size": None},
        ),
        DatasetError,
        "dataset.mixed_image_sizes",
        "differ in size",
    ),
    case(
        "truncated-png",
        lambda: (class_zip(("a/0.png", noise_png()[:-200])), {}),
        DatasetError,
        "dataset.bad_image",
        "'a/0.png' is truncated or corrupt",
    ),
    case(
        "png-cut-in-header",
        lambda: (class_zip(("a/0.png", PNG[:20])), {}),
        DatasetError,
        "dataset.bad_image",
        "'a/0.png'",
    ),
    case(
        "non-image-in-class-folder",
        lambda: (class_zip(("b/notes.txt", b"written by hand")), {}),
        DatasetError,
        "dataset.bad_image",
        "'b/notes.txt' is not a PNG or JPEG image",
    ),
    case(
        "image-too-large",
        lambda: (
            class_zip(("a/0.png", png(np.zeros((20, 20), dtype=np.uint8)))),
            {"limits": DataLimits(max_image_pixels=100)},
        ),
        LimitExceededError,
        "dataset.image_too_large",
        "(20x20) has more than 100 pixels",
    ),
    case(
        "npz-images-too-large",
        lambda: (
            npz(X=np.zeros((4, 20, 20), dtype=np.uint8), y=np.array([0, 1, 0, 1])),
            {"limits": DataLimits(max_image_pixels=100)},
        ),
        LimitExceededError,
        "dataset.image_too_large",
        "20x20 pixels",
    ),
    case(
        "image-at-top-level",
        lambda: (class_zip(("loose.png", PNG)), {}),
        DatasetError,
        "dataset.bad_layout",
        "'loose.png' lies at the top level",
    ),
    case(
        "zip-without-images",
        lambda: (make_zip([("README.txt", b"nothing here"), ("LICENSE", b"MIT")]), {}),
        DatasetError,
        "dataset.bad_layout",
        "No images found",
    ),
    case(
        "empty-zip",
        lambda: (make_zip([]), {"name": "empty.zip"}),
        DatasetError,
        "dataset.bad_layout",
        "No images found",
    ),
    case(
        "symlink-in-image-folder",
        lambda: (lambda tmp: image_folder(tmp, link=True), {}),
        DatasetError,
        "dataset.unsafe_path",
        "'a/3.png' is a symbolic link",
    ),
    # -- zip archives --------------------------------------------------------------------
    case(
        "zip-absolute-path",
        lambda: (class_zip(("/etc/evil.png", PNG)), {}),
        DatasetError,
        "dataset.unsafe_path",
        "'/etc/evil.png' points outside",
    ),
    case(
        "zip-dotdot-path",
        lambda: (class_zip(("a/../../evil.png", PNG)), {}),
        DatasetError,
        "dataset.unsafe_path",
        "points outside the archive",
    ),
    case(
        "zip-backslash-dotdot-path",
        lambda: (class_zip(("..\\evil.png", PNG)), {}),
        DatasetError,
        "dataset.unsafe_path",
        "points outside the archive",
    ),
    case(
        "zip-backslash-absolute-path",
        lambda: (class_zip(("\\windows\\evil.png", PNG)), {}),
        DatasetError,
        "dataset.unsafe_path",
        "points outside the archive",
    ),
    case(
        "zip-drive-letter-path",
        lambda: (class_zip(("C:/evil.png", PNG)), {}),
        DatasetError,
        "dataset.unsafe_path",
        "points outside the archive",
    ),
    case(
        "zip-symlink-entry",
        lambda: (class_zip((symlink_entry(), b"../../etc/passwd")), {}),
        DatasetError,
        "dataset.unsafe_path",
        "'a/link.png' is a symbolic link",
    ),
    case(
        "zip-encrypted-entry",
        lambda: (encrypted_zip(), {}),
        DatasetError,
        "dataset.malformed",
        "encrypted",
    ),
    case(
        "zip-corrupt-entry",
        lambda: (corrupt_entry_zip(), {}),
        DatasetError,
        "dataset.malformed",
        "'a/1.png' is corrupt",
    ),
    case(
        "zip-truncated-archive",
        lambda: (class_zip()[:200], {"name": "images.zip"}),
        DatasetError,
        "dataset.malformed",
        "Not a readable zip archive",
    ),
    case(
        "zip-bomb",
        lambda: (class_zip(("a/bomb.png", b"\x00" * (2 * MiB))), {}),
        LimitExceededError,
        "dataset.zip_bomb",
        "'a/bomb.png' expands",
    ),
    case(
        "zip-bomb-in-npz",
        lambda: (
            npz(X=np.zeros((1024, 300)), y=np.arange(1024) % 2, compressed=True),
            {},
        ),
        LimitExceededError,
        "dataset.zip_bomb",
        "'X.npy' expands",
    ),
    case(
        "zip-total-too-large",
        lambda: (class_zip(), {"limits": DataLimits(max_zip_total_bytes=len(PNG) * 3)}),
        LimitExceededError,
        "dataset.zip_too_large",
        "unpacks to",
    ),
    case(
        "zip-too-many-entries",
        lambda: (class_zip(), {"limits": DataLimits(max_zip_entries=3)}),
        LimitExceededError,
        "dataset.zip_too_large",
        "4 entries; the limit is 3",
    ),
    # -- NPZ -----------------------------------------------------------------------------
    case(
        "npz-object-array",
        lambda: (
            npz(X=np.zeros((4, 2)), y=np.array(["x", "y", "x", "y"], dtype=object)),
            {},
        ),
        DatasetError,
        "dataset.pickle_refused",
        "pickle is never loaded",
    ),
    case(
        "npz-missing-y",
        lambda: (npz(X=np.zeros((4, 2))), {}),
        DatasetError,
        "dataset.missing_array",
        "no labels array",
    ),
    case(
        "npz-missing-x",
        lambda: (npz(y=np.array([0, 1, 0, 1])), {}),
        DatasetError,
        "dataset.missing_array",
        "no features array",
    ),
    case(
        "npz-missing-named-label",
        lambda: (npz(X=np.zeros((4, 2)), y=np.array([0, 1, 0, 1])), {"label": "species"}),
        DatasetError,
        "dataset.missing_array",
        "named species",
    ),
    case(
        "npz-missing-groups",
        lambda: (npz(X=np.zeros((4, 2)), y=np.array([0, 1, 0, 1])), {"groups": "writer"}),
        DatasetError,
        "dataset.missing_array",
        "no groups array named writer",
    ),
    case(
        "npz-length-mismatch",
        lambda: (npz(X=np.zeros((4, 2)), y=np.array([0, 1, 0])), {}),
        DatasetError,
        "dataset.shape_mismatch",
        "4 feature rows but labels of shape (3,)",
    ),
    case(
        "npz-images-length-mismatch",
        lambda: (npz(X=np.zeros((4, 3, 3), dtype=np.uint8), y=np.array([0, 1, 0])), {}),
        DatasetError,
        "dataset.shape_mismatch",
        "4 feature rows but 3 labels",
    ),
    case(
        "npz-one-dimensional-features",
        lambda: (npz(X=np.zeros(4), y=np.array([0, 1, 0, 1])), {}),
        DatasetError,
        "dataset.shape_mismatch",
        "got shape (4,)",
    ),
    case(
        "npz-duplicate-feature-names",
        lambda: (
            npz(X=np.zeros((4, 2)), y=np.array([0, 1, 0, 1]), feature_names=np.array(["f", "f"])),
            {},
        ),
        DatasetError,
        "dataset.shape_mismatch",
        "one unique name per feature column",
    ),
    case(
        "npz-image-modality-for-vectors",
        lambda: (npz(X=np.zeros((4, 2)), y=np.array([0, 1, 0, 1])), {"modality": "image"}),
        DatasetError,
        "dataset.shape_mismatch",
        "modality='image' does not fit",
    ),
    case(
        "npz-float-images-above-one",
        lambda: (npz(X=np.full((4, 3, 3), 2.0), y=np.array([0, 1, 0, 1])), {}),
        DatasetError,
        "dataset.bad_dtype",
        "Float images must hold values in [0, 1]",
    ),
    case(
        "npz-float-images-below-zero",
        lambda: (npz(X=np.full((4, 3, 3), -0.5), y=np.array([0, 1, 0, 1])), {}),
        DatasetError,
        "dataset.bad_dtype",
        "[0, 1]",
    ),
    case(
        "npz-int-images-above-255",
        lambda: (npz(X=np.full((4, 3, 3), 300), y=np.array([0, 1, 0, 1])), {}),
        DatasetError,
        "dataset.bad_dtype",
        "[0, 255]",
    ),
    case(
        "npz-string-features",
        lambda: (npz(X=np.array([["a", "b"]] * 4), y=np.array([0, 1, 0, 1])), {}),
        DatasetError,
        "dataset.bad_dtype",
        "Features must be numeric",
    ),
    case(
        "npz-label-position",
        lambda: (npz(X=np.zeros((4, 2)), y=np.array([0, 1, 0, 1])), {"label": -1}),
        DatasetError,
        "dataset.bad_option",
        "not a column position",
    ),
    # -- Parquet -------------------------------------------------------------------------
    case(
        "parquet-truncated",
        lambda: (parquet(pd.DataFrame({"a": [1.0, 2.0], "label": ["x", "y"]}))[:60], {}),
        DatasetError,
        "dataset.malformed",
        "Not a readable Parquet file",
    ),
    case(
        "parquet-corrupt-footer",
        lambda: (
            corrupt_parquet_footer(),
            {},
        ),
        DatasetError,
        "dataset.malformed",
        "Not a readable Parquet file",
    ),
    case(
        "parquet-nested-column",
        lambda: (parquet(pa.table({"v": [[1, 2], [3], [4], [5]], "label": list("xyxy")})), {}),
        DatasetError,
        "dataset.bad_dtype",
        "['v'] hold lists, structs or maps",
    ),
    case(
        "parquet-no-rows",
        lambda: (
            parquet(pd.DataFrame({"a": pd.Series([], dtype=float), "label": pd.Series([])})),
            {},
        ),
        DatasetError,
        "dataset.no_rows",
        "no rows",
    ),
    # -- JSON ----------------------------------------------------------------------------
    case(
        "invalid-json",
        lambda: (b'[{"a": 1, "label": "x"},', {"name": "d.json"}),
        DatasetError,
        "dataset.malformed",
        "Invalid JSON",
    ),
    case(
        "invalid-json-lines",
        lambda: (b'{"a": 1, "label": "x"}\n{"a": 2, "label": \n', {"name": "d.jsonl"}),
        DatasetError,
        "dataset.malformed",
        "Line 2 is not valid JSON",
    ),
    case(
        "json-list-of-numbers",
        lambda: (b"[1, 2, 3]", {}),
        DatasetError,
        "dataset.malformed",
        "list of objects",
    ),
    case(
        "json-object-without-records",
        lambda: (b'{"a": 1, "label": "x"}', {"name": "d.json"}),
        DatasetError,
        "dataset.malformed",
        "list of objects",
    ),
    case(
        "json-scalar",
        lambda: (b'"hello"', {"name": "d.json"}),
        DatasetError,
        "dataset.malformed",
        "list of objects",
    ),
    case(
        "json-lines-not-objects",
        lambda: (b"[1, 2]\n[3, 4]\n", {"name": "d.jsonl"}),
        DatasetError,
        "dataset.malformed",
        "list of objects",
    ),
    case(
        "json-nested-values",
        lambda: (
            json.dumps([{"a": [1, 2], "b": {"c": 1}, "label": "x"}] * 4).encode(),
            {"name": "d.json"},
        ),
        DatasetError,
        "dataset.bad_dtype",
        "['a', 'b'] hold nested objects or lists",
    ),
    case(
        "json-empty-records",
        lambda: (b'{"records": []}', {"name": "d.json"}),
        DatasetError,
        "dataset.no_rows",
        "no records",
    ),
    # -- options -------------------------------------------------------------------------
    case(
        "bad-categorical-option",
        lambda: (GOOD_CSV, {"categorical": "bogus"}),
        DatasetError,
        "dataset.bad_option",
        "categorical",
    ),
    case(
        "unknown-option-name",
        lambda: (GOOD_CSV, {"bogus": 1}),
        DatasetError,
        "dataset.bad_option",
        "bogus",
    ),
    case(
        "bad-image-size-option",
        lambda: (class_zip(), {"image_size": 0}),
        DatasetError,
        "dataset.bad_option",
        "between 1 and 4096",
    ),
    case(
        "bad-max-onehot-option",
        lambda: (GOOD_CSV, {"max_onehot_categories": 1}),
        DatasetError,
        "dataset.bad_option",
        "max_onehot_categories",
    ),
    case(
        "image-modality-for-csv",
        lambda: (GOOD_CSV, {"modality": "image"}),
        DatasetError,
        "dataset.bad_option",
        "holds vector data",
    ),
    case(
        "csv-format-for-folder",
        lambda: (image_folder, {"format": "csv"}),
        DatasetError,
        "dataset.bad_option",
        "does not fit a folder",
    ),
    case(
        "folder-format-for-bytes",
        lambda: (GOOD_CSV, {"format": "image_folder"}),
        DatasetError,
        "dataset.bad_option",
        "does not fit a file",
    ),
    case(
        "options-and-keywords",
        lambda: (GOOD_CSV, {"options": LoadOptions(), "label": "label"}),
        DatasetError,
        "dataset.bad_option",
        "not both",
    ),
    case(
        "unknown-groups-column",
        lambda: (GOOD_CSV, {"groups": "writer"}),
        DatasetError,
        "dataset.bad_option",
        "groups column 'writer'",
    ),
]

# Codes declared under "dataset." that no row can trigger through load_dataset. Keep empty
# unless a code is truly unreachable, and say why next to it.
# Codes of the REST API about uploads and stored datasets, not of the data layer; their
# cases are in tests/bad_inputs/ and tests/api/ (they only exist when api/ is imported in
# this process): dataset.in_use is a stored dataset a queued or running run still needs.
EXEMPT_CODES: set[str] = {"dataset.no_file", "dataset.unknown", "dataset.in_use"}


@pytest.mark.parametrize(("build", "error", "code", "message"), CASES)
def test_bad_input(
    build: Builder,
    error: type[AdvisorError],
    code: str,
    message: str,
    tmp_path: Path,
) -> None:
    source, kwargs = build()
    if callable(source):
        source = source(tmp_path)
    with pytest.raises(AdvisorError) as caught:
        load_dataset(source, **kwargs)
    err = caught.value
    assert isinstance(err, AdvisorError)
    assert type(err) is error, f"{type(err).__name__}: {err}"
    assert err.code == code, str(err)
    assert message in err.message
    assert str(err).startswith(f"[{code}] ")
    assert code in known_codes()
    payload = json.loads(json.dumps(err.to_dict()))
    assert payload["code"] == code
    assert payload["message"] == err.message
    assert isinstance(payload["details"], dict)


def _row_codes(*, include_xfail: bool) -> set[str]:
    codes = set()
    for param in CASES:
        xfail = any(mark.name == "xfail" for mark in param.marks)
        if include_xfail or not xfail:
            codes.add(param.values[2])
    return codes


def test_every_dataset_code_has_a_row() -> None:
    declared = {code for code in known_codes() if code.startswith("dataset.")} | EXEMPT_CODES
    assert len(declared) >= 30
    missing = declared - EXEMPT_CODES - _row_codes(include_xfail=False)
    assert not missing, f"dataset codes without a passing bad-input row: {sorted(missing)}"
    assert not EXEMPT_CODES & _row_codes(include_xfail=True), "exempt codes that have a row"
    unknown = _row_codes(include_xfail=True) - declared
    assert not unknown, f"rows expect undeclared codes: {sorted(unknown)}"


def test_case_ids_are_unique() -> None:
    ids = [param.id for param in CASES]
    assert len(ids) == len(set(ids))


def test_limit_errors_map_to_413_and_not_found_to_404() -> None:
    for param in CASES:
        error = param.values[1]
        expected = {LimitExceededError: 413, NotFoundError: 404, DatasetError: 422}[error]
        assert error.status == expected


# -- safezip.read_entry: an entry that holds more than it declares -----------------------------


def _archive_with_lying_entry(
    compression: int, *, patch_crc: bool
) -> tuple[zipfile.ZipFile, zipfile.ZipInfo]:
    """An archive whose only entry holds 5000 bytes but claims (after opening) to hold 100.

    The size is patched on the :class:`zipfile.ZipInfo` after the archive was written and
    read back — the same object a forged central directory would produce.
    """
    data = make_zip([("a/x.bin", b"A" * 5000)], compression=compression)
    archive, entries = open_zip(data, DataLimits())
    (entry,) = entries
    entry.file_size = 100
    if patch_crc:
        entry.CRC = zlib.crc32(b"A" * 100)
    return archive, entry


@pytest.mark.parametrize(
    "compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED], ids=["stored", "deflated"]
)
def test_read_entry_refuses_content_beyond_declared_size(compression: int) -> None:
    # zipfile stops at the declared size, so the CRC of the truncated content cannot match
    # and the entry is refused as corrupt (never returned, never read past 100 bytes).
    archive, entry = _archive_with_lying_entry(compression, patch_crc=False)
    with archive, pytest.raises(DatasetError) as caught:
        read_entry(archive, entry)
    assert caught.value.code == "dataset.malformed"
    assert "'a/x.bin'" in caught.value.message
    assert caught.value.details == {"entry": "a/x.bin"}


@pytest.mark.parametrize(
    "compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED], ids=["stored", "deflated"]
)
def test_read_entry_never_returns_more_than_declared(compression: int) -> None:
    # with a forged CRC that matches the first 100 bytes, nothing beyond them comes out
    archive, entry = _archive_with_lying_entry(compression, patch_crc=True)
    with archive:
        assert read_entry(archive, entry) == b"A" * 100


def test_read_entry_guard_stops_a_stream_longer_than_declared(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the guard inside read_entry itself, for a decompressor that does not stop at the size
    archive, entry = _archive_with_lying_entry(zipfile.ZIP_STORED, patch_crc=False)
    monkeypatch.setattr(archive, "open", lambda *args, **kwargs: io.BytesIO(b"A" * 5000))
    with archive, pytest.raises(LimitExceededError) as caught:
        read_entry(archive, entry)
    assert caught.value.code == "dataset.zip_bomb"
    assert "more than the 100 bytes it declares" in caught.value.message
