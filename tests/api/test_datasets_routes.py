"""``/v1/datasets``: upload in every format, the data layer's refusals as problems, paging,
get, delete and meta-features."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from flask.testing import FlaskClient
from PIL import Image
from werkzeug.test import TestResponse

from api.db import DatasetRecord
from api.routes.datasets import upload_name

Send = Callable[..., TestResponse]
Problem = Callable[[TestResponse, int, str], dict[str, Any]]


def png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def make_zip(entries: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


def npz(**arrays: Any) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def iris_frame(iris_csv: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(iris_csv))


@pytest.fixture(scope="module")
def glyph_zip(glyph_task: tuple[np.ndarray, np.ndarray]) -> bytes:
    """The glyph task as a zip of class folders (``class_<i>/<n>.png``), 5 images a class."""
    X, y = glyph_task
    entries = []
    for i, label in enumerate(np.unique(y)):
        for n, image in enumerate(X[y == label][:5]):
            entries.append((f"glyphs/class_{i}/{n}.png", png(image)))
    return make_zip(entries)


# -- uploads that work --------------------------------------------------------------------


def test_upload_csv(upload: Send, iris_csv: bytes) -> None:
    answer = upload(iris_csv, "iris.csv", label="species")
    assert answer.status_code == 201, answer.json
    body = answer.json
    assert answer.headers["Location"] == f"/v1/datasets/{body['id']}"
    info = body["info"]
    assert info["format"] == "csv" and info["modality"] == "vector"
    assert (info["n_rows"], info["n_features"], info["n_classes"]) == (150, 4, 3)
    assert info["label_column"] == "species" and body["name"] == "iris.csv"


def test_upload_keeps_a_non_ascii_file_name(
    client: FlaskClient, upload: Send, iris_frame: pd.DataFrame
) -> None:
    """The name is metadata: any script stays (the suffix too, which names the format);
    the stored file is keyed by generated ids."""
    lines = iris_frame.to_json(orient="records", lines=True).encode()
    answer = upload(lines, "企鹅.jsonl", label="species")
    assert answer.status_code == 201, answer.json
    assert answer.json["name"] == "企鹅.jsonl" and answer.json["info"]["format"] == "jsonl"
    assert answer.json["info"]["name"] == "企鹅.jsonl"
    with client.application.extensions["advisor"].db.session() as session:
        record = session.get(DatasetRecord, answer.json["id"])
    assert record is not None and record.artifact == f"datasets/{record.tenant_id}/{record.id}/data"
    assert client.get(f"/v1/datasets/{record.id}").json["name"] == "企鹅.jsonl"
    table = iris_frame.to_csv(index=False).encode()
    sent = upload(table, "../données/\x1bé\tt \u202e.csv", label="species")
    assert sent.status_code == 201 and sent.json["name"] == "ét .csv", sent.json


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("企鹅.jsonl", "企鹅.jsonl"),
        ("Ünïcödé data.csv", "Ünïcödé data.csv"),
        ("e\u0301te\u0301.csv", "\u00e9t\u00e9.csv"),  # NFC
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\data.csv", "data.csv"),
        ("a\x00b\nc\r\td\x7f\x85.csv", "abcd.csv"),
        ("evil\u202egpj.exe", "evilgpj.exe"),
        ("bad\udcff.csv", "bad.csv"),
        ("  spaced.csv  ", "spaced.csv"),
        ("dir/", "upload"),
        ("..", "upload"),
        ("", "upload"),
        (None, "upload"),
        ("名" * 300 + ".parquet", "名" * 247 + ".parquet"),
        ("n" * 300, "n" * 255),
    ],
)
def test_upload_name(sent: str | None, kept: str) -> None:
    assert upload_name(sent) == kept


def test_upload_parquet(upload: Send, iris_frame: pd.DataFrame) -> None:
    buffer = io.BytesIO()
    iris_frame.to_parquet(buffer)
    answer = upload(buffer.getvalue(), "iris.parquet", label="species")
    assert answer.status_code == 201, answer.json
    assert answer.json["info"]["format"] == "parquet"
    assert answer.json["info"]["class_counts"] == {"setosa": 50, "versicolor": 50, "virginica": 50}


def test_upload_json_records(upload: Send, iris_frame: pd.DataFrame) -> None:
    records = iris_frame.iloc[::10].to_json(orient="records").encode()
    answer = upload(records, "iris.json", label="species")
    assert answer.status_code == 201, answer.json
    assert answer.json["info"]["format"] == "json" and answer.json["info"]["n_rows"] == 15


def test_upload_npz_images(upload: Send, glyph_npz: bytes) -> None:
    answer = upload(glyph_npz, "support.npz")
    assert answer.status_code == 201, answer.json
    info = answer.json["info"]
    assert info["format"] == "npz" and info["modality"] == "image"
    assert info["n_rows"] == 25 and info["n_classes"] == 5 and info["input_shape"][:2] == [28, 28]


def test_upload_npz_with_named_label_array(upload: Send) -> None:
    data = npz(X=np.arange(16.0).reshape(8, 2), kind=np.array([0, 1] * 4))
    answer = upload(data, "vectors.npz", label="kind")
    assert answer.status_code == 201, answer.json
    assert answer.json["info"]["n_classes"] == 2 and answer.json["info"]["modality"] == "vector"


def test_upload_zip_of_image_folders_with_options(upload: Send, glyph_zip: bytes) -> None:
    answer = upload(glyph_zip, "glyphs.zip", image_size="14x14", color="grayscale")
    assert answer.status_code == 201, answer.json
    info = answer.json["info"]
    assert info["modality"] == "image" and info["n_classes"] == 5 and info["n_rows"] == 25
    assert info["input_shape"][:2] == [14, 14]


# -- uploads refused ----------------------------------------------------------------------

GOOD_PNG = png(np.full((8, 8), 128, dtype=np.uint8))
FOLDERS = [
    ("a/1.png", GOOD_PNG),
    ("a/2.png", GOOD_PNG),
    ("b/1.png", GOOD_PNG),
    ("b/2.png", GOOD_PNG),
]

REFUSED = [
    ("empty-file", b"", "d.csv", {}, 422, "dataset.no_file"),
    ("whitespace-only", b" \n\t\n", "d.csv", {}, 422, "dataset.empty"),
    ("header-only", b"a,b,label\n", "d.csv", {}, 422, "dataset.no_rows"),
    ("single-class", b"a,label\n1,x\n2,x\n3,x\n", "d.csv", {}, 422, "dataset.single_class"),
    (
        "unknown-label",
        b"a,b,label\n1,2,x\n3,4,y\n",
        "d.csv",
        {"label": "species"},
        422,
        "dataset.no_label_column",
    ),
    (
        "ragged-csv",
        b"a,b,label\n1,2,x\n3,4,y,9\n5,6,x\n7,8,y\n",
        "d.csv",
        {},
        422,
        "dataset.malformed",
    ),
    ("bad-json", b'[{"a": 1, ', "d.json", {}, 422, "dataset.malformed"),
    ("not-parquet", b"a,label\n1,x\n", "t.parquet", {}, 422, "dataset.malformed"),
    ("lone-png", GOOD_PNG, "photo.png", {}, 422, "dataset.unsupported_format"),
    (
        "pickled-npz",
        npz(X=np.zeros((4, 2)), y=np.array(["x", "y", "x", "y"], dtype=object)),
        "d.npz",
        {},
        422,
        "dataset.pickle_refused",
    ),
    ("npz-without-labels", npz(X=np.zeros((4, 2))), "d.npz", {}, 422, "dataset.missing_array"),
    (
        "zip-path-traversal",
        make_zip([("a/../../evil.png", GOOD_PNG), *FOLDERS]),
        "i.zip",
        {},
        422,
        "dataset.unsafe_path",
    ),
    (
        "zip-absolute-path",
        make_zip([("/etc/evil.png", GOOD_PNG), *FOLDERS]),
        "i.zip",
        {},
        422,
        "dataset.unsafe_path",
    ),
    (
        "zip-bomb",
        make_zip([("a/bomb.png", b"\x00" * (2 * 1024 * 1024)), *FOLDERS]),
        "i.zip",
        {},
        413,
        "dataset.zip_bomb",
    ),
    (
        "zip-loose-file",
        make_zip([("loose.png", GOOD_PNG), *FOLDERS]),
        "i.zip",
        {},
        422,
        "dataset.bad_layout",
    ),
]


@pytest.mark.parametrize(
    ("data", "name", "form", "status", "code"),
    [pytest.param(*case[1:], id=case[0]) for case in REFUSED],
)
def test_bad_upload_is_a_problem(
    upload: Send,
    expect_problem: Problem,
    data: bytes,
    name: str,
    form: dict[str, str],
    status: int,
    code: str,
) -> None:
    body = expect_problem(upload(data, name, **form), status, code)
    assert body["instance"] == "/v1/datasets" and body["detail"]


def test_upload_over_the_size_limit(
    make_app: Callable[..., Any], client_of: Any, post_file: Send, expect_problem: Problem
) -> None:
    client = client_of(make_app(max_upload_bytes=100), "tenant-a")
    expect_problem(post_file(client, b"a,label\n" + b"1,x\n2,y\n" * 20), 413, "dataset.too_large")
    huge = post_file(client, b"0" * (1024 * 1024 + 200), "big.csv")
    expect_problem(huge, 413, "http.413")  # over MAX_CONTENT_LENGTH: refused by Flask


def test_too_many_classes(
    make_app: Callable[..., Any], client_of: Any, post_file: Send, expect_problem: Problem
) -> None:
    client = client_of(make_app(max_classes=2), "tenant-a")
    data = b"a,label\n1,x\n2,x\n3,y\n4,y\n5,z\n6,z\n"
    expect_problem(post_file(client, data), 413, "dataset.too_many_classes")


def test_upload_without_file_part_fails_validation(
    client: FlaskClient, expect_problem: Problem
) -> None:
    answer = client.post("/v1/datasets", data={"label": "x"}, content_type="multipart/form-data")
    body = expect_problem(answer, 422, "request.invalid")
    assert any("file" in error["loc"] for error in body["errors"])


def test_bad_form_option_fails_validation(
    upload: Send, iris_csv: bytes, expect_problem: Problem
) -> None:
    body = expect_problem(upload(iris_csv, image_size="big"), 422, "request.invalid")
    assert any("image_size" in error["loc"] for error in body["errors"])
    expect_problem(upload(iris_csv, modality="audio"), 422, "request.invalid")


# -- list, get, delete --------------------------------------------------------------------


def test_list_pages_newest_first(client: FlaskClient, upload: Send, iris_csv: bytes) -> None:
    ids = [upload(iris_csv, f"iris{i}.csv", label="species").json["id"] for i in range(3)]
    first = client.get("/v1/datasets?per_page=2").json
    assert (first["total"], first["page"], first["per_page"]) == (3, 1, 2)
    assert [d["id"] for d in first["items"]] == ids[::-1][:2]
    second = client.get("/v1/datasets", query_string={"page": 2, "per_page": 2}).json
    assert [d["id"] for d in second["items"]] == [ids[0]]
    assert client.get("/v1/datasets?page=3&per_page=2").json["items"] == []


@pytest.mark.parametrize("query", ["per_page=0", "per_page=101", "page=0", "page=x"])
def test_list_refuses_bad_paging(client: FlaskClient, expect_problem: Problem, query: str) -> None:
    expect_problem(client.get(f"/v1/datasets?{query}"), 422, "request.invalid")


def test_get_and_delete(client: FlaskClient, iris_id: str, expect_problem: Problem) -> None:
    got = client.get(f"/v1/datasets/{iris_id}")
    assert got.status_code == 200 and got.json["id"] == iris_id
    assert got.json["info"]["n_classes"] == 3
    deleted = client.delete(f"/v1/datasets/{iris_id}")
    assert deleted.status_code == 204 and deleted.data == b""
    expect_problem(client.get(f"/v1/datasets/{iris_id}"), 404, "dataset.unknown")
    expect_problem(client.delete(f"/v1/datasets/{iris_id}"), 404, "dataset.unknown")
    assert client.get("/v1/datasets").json["total"] == 0


def test_unknown_dataset(client: FlaskClient, expect_problem: Problem) -> None:
    expect_problem(client.get("/v1/datasets/0000000000000000"), 404, "dataset.unknown")
    expect_problem(client.get("/v1/datasets/" + "a" * 40), 422, "request.invalid")


def test_meta_features(client: FlaskClient, iris_id: str, expect_problem: Problem) -> None:
    answer = client.get(f"/v1/datasets/{iris_id}/meta-features")
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert body["dataset_id"] == iris_id and body["source"] == "glyphs"
    assert body["values"]["nr_class"] == 3 and body["values"]["nr_inst"] == 150
    assert body["values"]["num_to_cat"] is None  # undefined (no categorical column) → null
    json.dumps(body)  # no NaN or infinity leaks into the JSON
    unknown = client.get(f"/v1/datasets/{iris_id}/meta-features?source=nope")
    expect_problem(unknown, 404, "source.unknown")
    expect_problem(client.get("/v1/datasets/0000/meta-features"), 404, "dataset.unknown")


def test_meta_features_of_a_table_are_those_its_recommendation_uses(
    client: FlaskClient, upload: Send, iris_frame: pd.DataFrame
) -> None:
    """Categorical columns count as such, and the values are the recommendation's (once the
    route forgot the table's categorical columns and answered for all-numeric data)."""
    frame = iris_frame.copy()
    frame["soil"] = np.resize(["clay", "sand", "loam"], len(frame))
    frame[frame.columns[0]] *= 10  # millimetres: the units change nothing
    answer = upload(frame.to_csv(index=False).encode(), "soil.csv", label="species")
    assert answer.status_code == 201, answer.json
    dataset = answer.json["id"]
    values = client.get(f"/v1/datasets/{dataset}/meta-features").json["values"]
    assert values["nr_cat"] == 3 and values["nr_num"] == 4  # three one-hot columns
    advice = client.post("/v1/recommendations", json={"dataset_id": dataset})
    assert advice.status_code == 201, advice.json
    used = advice.json["recommendation"]["meta_features"]
    assert values.keys() == used.keys()
    for name, value in values.items():
        assert value == pytest.approx(used[name], nan_ok=True), name


def test_unknown_route_and_method_are_problems(
    client: FlaskClient, expect_problem: Problem
) -> None:
    expect_problem(client.get("/v1/nothing-here"), 404, "http.404")
    expect_problem(client.put("/v1/datasets"), 405, "http.405")


def test_upload_leaves_out_columns_and_reads_older_uploads_as_they_were(
    app: Any, upload: Send, expect_problem: Problem
) -> None:
    """`drop` (commas or a JSON list) and found row identifiers are left out and said so;
    a dataset stored before identifiers were looked for is read again with its columns."""
    from api.db import DatasetRecord

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"number": np.arange(1, 13), "x": rng.normal(size=12)})
    frame["leak"] = np.repeat([0.0, 1.0], 6)
    frame["label"] = np.repeat(["a", "b"], 6)
    data = frame.to_csv(index=False).encode()
    answer = upload(data, "t.csv", drop="leak")
    assert answer.status_code == 201, answer.json
    info = answer.json["info"]
    roles = {c["name"]: c["role"] for c in info["tabular"]["columns"]}
    assert roles == {"number": "identifier", "x": "feature", "leak": "dropped", "label": "label"}
    found = "Column 'number' looks like a row identifier"
    assert any(warning.startswith(found) for warning in info["warnings"])
    expect_problem(upload(data, "t.csv", drop='["leak", "x"]'), 422, "dataset.no_features")
    services = app.extensions["advisor"]
    with services.db.session() as session:
        record = session.get(DatasetRecord, answer.json["id"])
        assert record.options == {"drop": ["leak"], "identifiers": "drop"}
        assert services.load(record).feature_names == ("x",)
        record.options = {"drop": ["leak"]}  # as an upload of an earlier version stored it
        owner = record.tenant_id
    older = services.dataset_record(owner, answer.json["id"])
    assert services.load(older).feature_names == ("number", "x")
