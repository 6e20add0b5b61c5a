"""Write the static malformed files of ``tests/bad_inputs/files/`` (each well under 50 KB).

Run once from the repository root (``.venv/bin/python tests/bad_inputs/make_files.py``); the
output is deterministic, so running it again rewrites the same bytes. ``cases.json`` names
each file with the request that sends it and the status and code the service must answer.
Inputs that are large once expanded (the zip bomb, bodies over the upload limits) are built
in memory by ``test_bad_inputs.py`` instead.
"""

from __future__ import annotations

import io
import stat
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

FILES = Path(__file__).resolve().parent / "files"
MAX_FILE_BYTES = 50 * 1024

GOOD_ROWS = "a,b,label\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n"


# -- builders ------------------------------------------------------------------------------


def png(pixels: np.ndarray | None = None) -> bytes:
    """A small grey PNG (8x8 unless ``pixels`` says otherwise)."""
    image = np.full((8, 8), 128, dtype=np.uint8) if pixels is None else pixels
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def noise_png(size: int = 32) -> bytes:
    """A PNG of random pixels (incompressible, so truncating it cuts real image data)."""
    rng = np.random.default_rng(0)
    return png(rng.integers(0, 256, size=(size, size), dtype=np.uint8))


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    """One PNG chunk: length, type, payload, CRC-32 of type and payload."""
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def huge_png(width: int = 100_000, height: int = 100_000) -> bytes:
    """A valid PNG header claiming ``width`` x ``height`` 8-bit grey pixels (a decompression
    bomb: 10^10 pixels declared, a few dozen bytes sent)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + png_chunk(b"IEND", b"")
    )


Entry = tuple[str | zipfile.ZipInfo, bytes]
GOOD_CLASSES: list[Entry] = [
    ("a/1.png", png()),
    ("a/2.png", png()),
    ("b/1.png", png()),
    ("b/2.png", png()),
]


def make_zip(entries: list[Entry], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip of ``entries`` (names or prepared ``ZipInfo`` objects) in that order."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


def class_zip(*extra: Entry) -> bytes:
    """Two good classes of two images each, ``extra`` entries first."""
    return make_zip([*extra, *GOOD_CLASSES])


def symlink_entry(name: str = "a/link.png") -> zipfile.ZipInfo:
    """A zip entry whose Unix mode says it is a symbolic link (to ``/etc/passwd``)."""
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # Unix: mode bits in the high word of external_attr
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def encrypted_zip() -> bytes:
    """A class zip whose first entry claims to be encrypted (zipfile never sets the flag)."""
    data = bytearray(class_zip())
    for offset in (data.find(b"PK\x03\x04") + 6, data.find(b"PK\x01\x02") + 8):
        (flags,) = struct.unpack_from("<H", data, offset)
        struct.pack_into("<H", data, offset, flags | 0x1)
    return bytes(data)


def npz(**arrays: Any) -> bytes:
    """An uncompressed NPZ of ``arrays`` (``allow_pickle`` is numpy's default when saving)."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def parquet(table: pa.Table) -> bytes:
    """A Parquet file of ``table``."""
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def many_classes_csv(n_classes: int = 1_200) -> bytes:
    """Two rows of each of ``n_classes`` distinct labels (far over the test's class limit)."""
    rows = [f"{i % 97},{i % 89},c{i // 2}" for i in range(2 * n_classes)]
    return ("a,b,label\n" + "\n".join(rows) + "\n").encode()


def regression_target_csv(n_rows: int = 60) -> bytes:
    """A house-price table: the label is a price with cents, a quantity rather than classes."""
    rows = [f"{50 + 3 * i % 41},{i % 5},{1000 + 37.25 * (i * 7 % 53):.2f}" for i in range(n_rows)]
    return ("area,rooms,price\n" + "\n".join(rows) + "\n").encode()


# -- the files -----------------------------------------------------------------------------

GOOD_X = np.arange(20, dtype=np.float64).reshape(10, 2)
GOOD_Y = np.array([0, 1] * 5)
NAN_IMAGES = np.full((4, 8, 8), 0.5, dtype=np.float32)
NAN_IMAGES[1, 2, 3] = np.nan

BUILDERS: dict[str, Callable[[], bytes]] = {
    # -- delimited text
    "empty.csv": lambda: b"",
    "whitespace.csv": lambda: b"   \n\t\n  \n",
    "header_only.csv": lambda: b"a,b,label\n",
    "one_class.csv": lambda: b"a,b,label\n1,2,x\n3,4,x\n5,6,x\n7,8,x\n",
    "one_row_per_class.csv": lambda: b"a,b,label\n1,2,x\n3,4,y\n5,6,z\n",
    "inf_values.csv": lambda: b"a,b,label\n1,inf,x\n3,4,y\n5,-inf,x\n7,8,y\n",
    "nan_values.csv": lambda: b"a,b,label\n1,NaN,x\n3,4,y\n5,,x\n7,8,y\n",
    "nan_labels.csv": lambda: b"a,b,label\n1,2,x\n3,4,\n5,6,x\n7,8,y\n9,10,y\n",
    "many_classes.csv": many_classes_csv,
    "regression_target.csv": regression_target_csv,
    "ragged.csv": lambda: b"a,b,label\n1,2,x\n3,4,y,extra,fields\n5,6,x\n7,8,y\n",
    "duplicate_header.csv": lambda: b"a,a,label\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n",
    "no_label_column.csv": lambda: b"a,b,species\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n",
    "other_text_columns.csv": lambda: b"name,colour\nann,red\nbob,blue\n",
    "text_in_numeric_column.csv": lambda: b"a,b\n1,two\n3,four\n",
    "label_only.csv": lambda: b"label\nx\ny\nx\ny\n",
    "numeric_header.csv": lambda: b"1,2,3\n4,5,6\n7,8,9\n",
    "nul_bytes.csv": lambda: GOOD_ROWS.replace("3,4", "3\x00\x00,4\x00").encode(),
    "utf16_no_bom.csv": lambda: GOOD_ROWS.encode("utf-16-le"),
    "binary_garbage.csv": lambda: np.random.default_rng(7).bytes(4096),
    "latin1_declared_ascii.csv": lambda: "a,b,label\n1,2,café\n3,4,thé\n5,6,café\n7,8,thé\n".encode(
        "latin-1"
    ),
    "unbalanced_quote.csv": lambda: b'a,b,label\n1,2,"x\n3,4,y\n5,6,x\n7,8,y\n',
    "csv_named.npz": GOOD_ROWS.encode,
    # -- parquet
    "wrong_magic.parquet": lambda: b"PAR2" + parquet(pa.table({"a": [1, 2], "label": ["x", "y"]})),
    "truncated.parquet": lambda: parquet(
        pa.table({"a": [1.0, 2.0, 3.0, 4.0], "label": ["x", "y", "x", "y"]})
    )[:-30],
    "nested.parquet": lambda: parquet(
        pa.table({"v": [[1, 2], [3], [4], [5]], "label": ["x", "y", "x", "y"]})
    ),
    # -- JSON
    "invalid.json": lambda: b'[{"a": 1, "label": "x"}, {"a": 2, "label": ',
    "not_records.json": lambda: b'{"a": [1, 2, 3, 4], "label": ["x", "y", "x", "y"]}',
    "scalars.json": lambda: b"[1, 2, 3, 4]",
    "empty_records.json": lambda: b"[]",
    "nested.json": lambda: b'[{"a": [1, 2], "label": "x"}, {"a": [3], "label": "y"}]',
    "bad_line.jsonl": lambda: b'{"a": 1, "label": "x"}\n{"a": 2, "label": "y"\n{"a": 3}\n',
    # -- NPZ
    "pickled.npz": lambda: npz(X=np.array([{"a": 1}, None] * 5, dtype=object), y=GOOD_Y),
    "object_labels.npz": lambda: npz(X=GOOD_X, y=np.array(["x", 1] * 5, dtype=object)),
    "three_arrays_no_y.npz": lambda: npz(X=GOOD_X, z=GOOD_Y, w=GOOD_Y),
    "shape_mismatch.npz": lambda: npz(X=GOOD_X, y=np.array([0, 1, 0])),
    "complex.npz": lambda: npz(X=GOOD_X.astype(np.complex128), y=GOOD_Y),
    "nan_images.npz": lambda: npz(X=NAN_IMAGES, y=np.array([0, 1, 0, 1])),
    "truncated.npz": lambda: npz(X=GOOD_X, y=GOOD_Y)[:-40],
    # -- image zips and images
    "zip_path_traversal.zip": lambda: class_zip(("a/../../evil.png", png())),
    "zip_absolute_path.zip": lambda: class_zip(("/etc/evil.png", png())),
    "zip_symlink.zip": lambda: class_zip((symlink_entry(), b"/etc/passwd")),
    "zip_encrypted.zip": encrypted_zip,
    "zip_truncated_png.zip": lambda: class_zip(("a/0.png", noise_png()[:-200])),
    "zip_empty_png.zip": lambda: class_zip(("a/0.png", b"")),
    "zip_non_image.zip": lambda: class_zip(("b/notes.txt", b"written by hand, not an image")),
    "zip_huge_png.zip": lambda: class_zip(("a/0.png", huge_png())),
    "zip_mixed_sizes.zip": lambda: make_zip(
        [
            ("a/1.png", png(np.zeros((8, 8), dtype=np.uint8))),
            ("a/2.png", png(np.zeros((8, 8), dtype=np.uint8))),
            ("b/1.png", png(np.zeros((12, 9), dtype=np.uint8))),
            ("b/2.png", png(np.zeros((12, 9), dtype=np.uint8))),
        ]
    ),
    "zip_nested_one_class.zip": lambda: make_zip(
        [
            ("data/cats/indoor/1.png", png()),
            ("data/cats/indoor/2.png", png()),
            ("data/cats/outdoor/1.png", png()),
        ]
    ),
    "zip_loose_image.zip": lambda: class_zip(("loose.png", png())),
    "zip_no_images.zip": lambda: make_zip([("README.txt", b"nothing here"), ("LICENSE", b"MIT")]),
    "zip_many_entries.zip": lambda: make_zip(
        [(f"a/{i}.png", b"") for i in range(10, 160)] + GOOD_CLASSES
    ),
    "zip_garbage.zip": lambda: b"PK\x03\x04" + np.random.default_rng(3).bytes(512),
    "lone_image.png": png,
    "truncated.png": lambda: noise_png()[:100],
    "huge.png": huge_png,
}


def main() -> None:
    """Write every file of :data:`BUILDERS` into :data:`FILES`."""
    FILES.mkdir(exist_ok=True)
    for name, build in BUILDERS.items():
        data = build()
        if len(data) >= MAX_FILE_BYTES:
            raise SystemExit(f"{name} has {len(data)} bytes; fixtures stay under 50 KB.")
        (FILES / name).write_bytes(data)
    print(f"wrote {len(BUILDERS)} files to {FILES}")


if __name__ == "__main__":
    main()
