"""Issue 7 §4, bad input: every malformed file or request gets its 4xx problem, and nothing else.

Each case of ``cases.json`` (a file of ``files/`` uploaded with form fields, a request, or one
built here because it is big once expanded) is sent to one shared service as tenant A. The
answer must be ``application/problem+json`` with the case's status and stable ``code``
(``docs/ERRORS.md``). Afterwards the service must be whole: ``/healthz`` answers 200, a normal
upload works, tenant A holds exactly what it held before (a refused upload stores nothing),
and tenant B's dataset and run answer the very same bodies, with the same list counts.

Three cases malform HTTP itself (a header line or request line over the server's limits, too
many headers): no WSGI app ever sees them, so they go through werkzeug's real server over a
socket and only the status is checked (``"code": null`` in the manifest); the app must still
be healthy after them.

``files/`` is written by ``make_files.py``.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import socket
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from flask.testing import FlaskClient
from werkzeug.serving import BaseWSGIServer
from werkzeug.test import TestResponse

if TYPE_CHECKING:  # conftest is no importable module under --import-mode=importlib
    from conftest import Service

HERE = Path(__file__).resolve().parent
FILES = HERE / "files"
CASES: list[dict[str, Any]] = json.loads((HERE / "cases.json").read_text(encoding="utf-8"))
ERRORS_PAGE = HERE.parents[1] / "docs" / "ERRORS.md"
PROBLEM_JSON = "application/problem+json"
MiB = 1024 * 1024
KiB = 1024

Spec = dict[str, Any]

# -- cases built in memory -----------------------------------------------------------------


def zip_bomb(service: Service) -> Spec:
    """50 MB of zeros deflated to ~50 KB (ratio ~1000, the limit is 200), beside good classes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("a/bomb.png", bytes(50 * MiB))
        for name in ("a/1.png", "a/2.png", "b/1.png", "b/2.png"):
            zf.writestr(name, (FILES / "lone_image.png").read_bytes())
    data = buffer.getvalue()
    limit = service.app.extensions["advisor"].settings.max_upload_bytes
    assert len(data) < limit, "the bomb must pass the size limit to reach the ratio check"
    return {"upload_bytes": data, "name": "bomb.zip"}


def over_upload_limit(service: Service) -> Spec:
    """A valid CSV just over ``ADVISOR_MAX_UPLOAD_BYTES`` (the body itself is accepted)."""
    limit = service.app.extensions["advisor"].settings.max_upload_bytes
    rows = service.good_csv.split(b"\n", 1)[1]
    data = service.good_csv + rows * (limit // len(rows) + 1)
    assert limit < len(data) < limit + 100 * KiB
    return {"upload_bytes": data, "name": "big.csv"}


def over_body_limit(service: Service) -> Spec:
    """A body over Flask's ``MAX_CONTENT_LENGTH`` (upload limit + 1 MiB)."""
    limit = service.app.config["MAX_CONTENT_LENGTH"]
    return {"upload_bytes": service.good_csv + b"1,2,x\n" * (limit // 6 + 1), "name": "huge.csv"}


def label_too_long(service: Service) -> Spec:
    """A label option of 501 characters (the form allows 500)."""
    return {"upload_bytes": service.good_csv, "name": "good.csv", "form": {"label": "x" * 501}}


def huge_authorization(service: Service) -> Spec:
    """A 1 MB ``Authorization`` header (a test client has no header limit: the app's turn)."""
    del service
    header = "Bearer adv_" + "x" * MiB
    headers = {"Authorization": header}
    return {"method": "GET", "path": "/v1/datasets", "auth": "none", "headers": headers}


def raw_long_header(service: Service) -> bytes:
    """A valid request with one 100 KB header line (http.server allows 64 KiB)."""
    return _raw_request(service, "/v1/datasets", [("X-Padding", "x" * 100 * KiB)])


def raw_many_headers(service: Service) -> bytes:
    """A valid request with 200 headers (http.server allows 100)."""
    return _raw_request(service, "/v1/datasets", [(f"X-H{i}", "1") for i in range(200)])


def raw_long_uri(service: Service) -> bytes:
    """A request line of 100 KB (http.server allows 64 KiB)."""
    return _raw_request(service, "/v1/datasets/" + "a" * 100 * KiB, [])


def _raw_request(service: Service, path: str, headers: list[tuple[str, str]]) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: localhost"]
    lines.append(f"Authorization: {service.a.client.environ_base['HTTP_AUTHORIZATION']}")
    lines += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


DYNAMIC: dict[str, Callable[[Service], Spec]] = {
    "zip_bomb": zip_bomb,
    "over_upload_limit": over_upload_limit,
    "over_body_limit": over_body_limit,
    "label_too_long": label_too_long,
    "huge_authorization": huge_authorization,
}
RAW: dict[str, Callable[[Service], bytes]] = {
    "raw_long_header": raw_long_header,
    "raw_many_headers": raw_many_headers,
    "raw_long_uri": raw_long_uri,
}

# -- sending -------------------------------------------------------------------------------


def fill(value: Any, service: Service) -> Any:
    """Replace ``{dataset}``, ``{run}`` (tenant A's) and ``{other_dataset}``, ``{other_run}``
    (tenant B's) in the strings of ``value``."""
    if isinstance(value, str):
        for token, actual in (
            ("{other_dataset}", service.b.dataset_id),
            ("{other_run}", service.b.run_id),
            ("{dataset}", service.a.dataset_id),
            ("{run}", service.a.run_id),
        ):
            value = value.replace(token, actual)
        return value
    if isinstance(value, dict):
        return {k: fill(v, service) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, service) for v in value]
    return value


def send(service: Service, spec: Spec) -> TestResponse:
    """Send one case's request as tenant A (or with no key, ``"auth": "none"``)."""
    client: FlaskClient = service.anonymous if spec.get("auth") == "none" else service.a.client
    path = fill(spec.get("path", "/v1/datasets"), service)
    headers = spec.get("headers", {})
    form = fill(spec.get("form", {}), service)
    if "upload" in spec or "upload_bytes" in spec:
        data = spec.get("upload_bytes")
        if data is None:
            data = (FILES / spec["upload"]).read_bytes()
        name = spec.get("name", spec.get("upload"))
        fields = {spec.get("part", "file"): (io.BytesIO(data), name), **form}
        return client.post(path, data=fields, content_type="multipart/form-data", headers=headers)
    options: dict[str, Any] = {"headers": headers}
    if "json" in spec:
        options["json"] = fill(spec["json"], service)
    elif "body" in spec:
        options["data"] = fill(spec["body"], service).encode()
        options["content_type"] = spec["content_type"]
    elif form:
        options["data"] = form
        options["content_type"] = "multipart/form-data"
    return client.open(path, method=spec["method"], **options)


def send_raw(server: BaseWSGIServer, request: bytes) -> int:
    """Send raw bytes to the real server; the status of its answer.

    The server may answer and close before it has read the whole oversized request, which
    resets the connection; the answer is read while sending, and the exchange retried if a
    reset destroyed it.
    """
    for _attempt in range(3):
        answer = _exchange(server.server_port, request)
        if answer:
            break
    status_line = answer.split(b"\r\n", 1)[0].decode("latin-1")
    match = re.match(r"HTTP/1\.[01] (\d{3}) ", status_line)
    assert match, f"not an HTTP answer: {answer[:200]!r}"
    return int(match.group(1))


def _exchange(port: int, request: bytes) -> bytes:
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:

        def send() -> None:
            with contextlib.suppress(OSError):  # the server may close before reading it all
                connection.sendall(request)
                connection.shutdown(socket.SHUT_WR)

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        with contextlib.suppress(ConnectionResetError):
            while chunk := connection.recv(65536):
                answer += chunk
        sender.join(timeout=10)
    return answer


# -- checks --------------------------------------------------------------------------------


def expect_problem(answer: TestResponse, status: int, code: str) -> None:
    """The answer is a problem+json of ``status`` and ``code`` about the request's path."""
    text = answer.get_data(as_text=True)
    assert answer.status_code == status, text[:2000]
    assert answer.mimetype == PROBLEM_JSON, (answer.headers, text[:500])
    body = answer.get_json(force=True)
    assert body["status"] == status and body["code"] == code, body
    assert body["title"] and isinstance(body["detail"], str), body
    assert body["instance"] == answer.request.path, body
    assert "Traceback" not in text


def state_of(service: Service) -> dict[str, Any]:
    """What the cases must leave alone: both tenants' datasets, runs, list counts; stored files."""
    state: dict[str, Any] = {}
    for name, tenant in (("a", service.a), ("b", service.b)):
        for kind, item in (("datasets", tenant.dataset_id), ("runs", tenant.run_id)):
            one = tenant.client.get(f"/v1/{kind}/{item}")
            listed = tenant.client.get(f"/v1/{kind}?per_page=1")
            assert one.status_code == 200 and listed.status_code == 200, (one.json, listed.json)
            state[f"{name}.{kind}.{item}"] = one.get_data()
            state[f"{name}.{kind}.total"] = listed.json["total"]
    state["artifacts"] = sorted(
        str(p.relative_to(service.artifacts)) for p in service.artifacts.rglob("*") if p.is_file()
    )
    return state


def assert_intact(service: Service, before: dict[str, Any]) -> None:
    """Healthy, a normal upload works, and neither tenant's data changed."""
    health = service.anonymous.get("/healthz")
    assert health.status_code == 200 and health.json["status"] == "ok", health.data
    answer = service.upload(service.a.client, service.good_csv)
    try:
        assert answer.status_code == 201, answer.get_data(as_text=True)
        assert answer.json["info"]["n_classes"] == 2
    finally:
        if answer.status_code == 201:
            assert service.a.client.delete(f"/v1/datasets/{answer.json['id']}").status_code == 204
    assert state_of(service) == before


@pytest.fixture(scope="module")
def before(service: Service) -> dict[str, Any]:
    """The state every case must leave behind, taken once before the first case."""
    return state_of(service)


# -- tests ---------------------------------------------------------------------------------


@pytest.mark.parametrize("case", [pytest.param(c, id=c["id"]) for c in CASES])
def test_bad_input(
    case: dict[str, Any], service: Service, before: dict[str, Any], request: pytest.FixtureRequest
) -> None:
    if case.get("dynamic") in RAW:
        server: BaseWSGIServer = request.getfixturevalue("http_server")
        status = send_raw(server, RAW[case["dynamic"]](service))
        assert status == case["status"]
    else:
        spec = DYNAMIC[case["dynamic"]](service) if "dynamic" in case else case
        expect_problem(send(service, spec), case["status"], case["code"])
    assert_intact(service, before)


def test_manifest_is_complete() -> None:
    ids = [case["id"] for case in CASES]
    assert len(ids) >= 30 and len(set(ids)) == len(ids)
    documented = set(re.findall(r"^\| `([a-z_]+\.[a-z0-9_]+)` \|", ERRORS_PAGE.read_text(), re.M))
    for case in CASES:
        assert 400 <= case["status"] < 500, case
        assert case["code"] is None if case.get("dynamic") in RAW else case["code"] in documented
        assert case.get("dynamic") is None or case["dynamic"] in DYNAMIC | RAW, case
    used = {case["upload"] for case in CASES if "upload" in case}
    present = {path.name for path in FILES.iterdir()}
    assert used <= present, f"missing files {used - present}: run tests/bad_inputs/make_files.py"
    assert present <= used, f"files no case sends: {present - used}"
    assert all((FILES / name).stat().st_size < 50 * KiB for name in present)
