"""Real outages: the queue (Redis) and the database (PostgreSQL) go away and come back.

The service must say so on ``/readyz``, answer 503 problems meanwhile, and recover by itself.
Redis: a private ``redis-server`` on a free port, started late. PostgreSQL: the shared server
reached through a TCP proxy in this process that the test closes and reopens. Skipped, with
the reason, where these servers are not installed or not running.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

pytestmark = pytest.mark.slow  # starts servers and waits for reconnections (seconds)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait(condition: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("condition not reached in time")


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target; ``close()`` drops every connection, ``open()``
    listens again on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target, self.port = target, free_port()
        self.sockets: list[socket.socket] = []
        self.listener: socket.socket | None = None

    def open(self) -> None:
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(64)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def close(self) -> None:
        if self.listener is not None:
            with contextlib.suppress(OSError):  # wakes the thread blocked in accept()
                self.listener.shutdown(socket.SHUT_RDWR)
            self.listener.close()
            self.listener = None
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self.sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


def reachable(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def open_client(app: Any) -> FlaskClient:
    return app.test_client()


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")
def test_queue_outage_is_reported_and_the_service_recovers(
    make_app: Callable[..., Any], iris_csv: bytes, post_file: Callable[..., Any]
) -> None:
    pytest.importorskip("redis", reason="the 'dist' extra (redis client) is not installed")
    port = free_port()
    app = make_app(
        immediate=False,
        open_access=1,
        queue_url=f"redis://127.0.0.1:{port}/0",
        queue_name=f"outage-{uuid.uuid4().hex[:8]}",
    )
    client = open_client(app)
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json["checks"]["queue"].startswith("unavailable")
    assert ready.json["checks"]["database"] == "ok"
    dataset = post_file(client, iris_csv, "iris.csv", label="species").json["id"]
    refused = client.post("/v1/runs", json={"dataset_id": dataset, "family": "scratch"})
    assert refused.status_code == 503
    assert refused.json["code"] == "service.unavailable"
    assert refused.headers["Retry-After"] == "5"
    # nothing was done, and the client sends it again: no run is left behind, queued for
    # ever or failed once per retry
    assert client.get("/v1/runs").json["items"] == []
    source = {"name": "mine", "dataset_id": dataset, "pretrain_epochs": 1, "meta_episodes": 1}
    assert client.post("/v1/sources", json=source).status_code == 503
    assert client.get("/v1/sources/mine").status_code == 404  # never left "building"
    assert client.delete(f"/v1/datasets/{dataset}").status_code == 204  # nothing holds it
    dataset = post_file(client, iris_csv, "iris.csv", label="species").json["id"]
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
        stdout=subprocess.DEVNULL,
    )
    try:
        wait(lambda: reachable(port))
        wait(lambda: client.get("/readyz").status_code == 200)
        accepted = client.post("/v1/runs", json={"dataset_id": dataset, "family": "scratch"})
        assert accepted.status_code == 202
        assert accepted.json["state"] == "queued"
        source["dataset_id"] = dataset
        assert client.post("/v1/sources", json=source).status_code == 202  # the name is free
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def postgres_proxy() -> Iterator[TcpProxy]:
    if not reachable(5432):
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    pytest.importorskip("psycopg", reason="the 'dist' extra (psycopg) is not installed")
    proxy = TcpProxy(("127.0.0.1", 5432))
    proxy.open()
    yield proxy
    proxy.close()


def test_database_outage_is_reported_and_the_service_recovers(
    make_app: Callable[..., Any],
    postgres_proxy: TcpProxy,
    iris_csv: bytes,
    post_file: Callable[..., Any],
) -> None:
    import psycopg

    name = f"advisor_outage_{uuid.uuid4().hex[:8]}"
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    try:
        url = f"postgresql+psycopg://postgres@127.0.0.1:{postgres_proxy.port}/{name}"
        app = make_app(open_access=1, database_url=url)
        client = open_client(app)
        dataset = post_file(client, iris_csv, "iris.csv", label="species").json["id"]
        postgres_proxy.close()
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json["checks"]["database"].startswith("unavailable")
        down = client.get(f"/v1/datasets/{dataset}")
        assert down.status_code == 503
        assert down.json["code"] == "service.unavailable"
        postgres_proxy.open()
        wait(lambda: client.get("/readyz").status_code == 200)
        back = client.get(f"/v1/datasets/{dataset}")
        assert back.status_code == 200  # nothing stored was lost
        assert back.json["id"] == dataset
        app.extensions["advisor"].db.engine.dispose()
    finally:
        if postgres_proxy.listener is None:
            postgres_proxy.open()
        with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
