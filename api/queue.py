"""The task queue: Huey, SQLite-backed by default, Redis by URL.

Huey was chosen because it is a maintained, small task queue with an embedded SQLite backend
(no broker to install for one machine) and a Redis backend for several, with the same task
code: exactly the embedded-by-default, distributed-by-URL split the service needs.

Messages are JSON (:class:`JsonSerializer`), not Huey's default pickle: a queue in a shared
Redis must not be a way to run code in the workers. Tasks carry ids only; their state lives
in the database, so Huey's result store is off.
"""

from __future__ import annotations

import datetime
import json
import logging
import re
import sqlite3
import threading
from typing import Any

from huey import Huey, RedisHuey, SqliteHuey
from huey.exceptions import ConfigurationError as HueyConfigurationError
from huey.registry import Message
from huey.serializer import Serializer

from advisor.errors import UNWRITABLE, ConfigurationError

log = logging.getLogger("advisor.queue")

REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
"""Queue URLs that name a Redis server (TCP, TLS, or its Unix socket)."""
SQLITE_PREFIX = "sqlite:///"
"""``sqlite:///queue.db``, ``sqlite:////srv/queue.db``: a SQLite file, as SQLAlchemy writes it."""
_LOOKS_LIKE_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:/")


def _encode(value: Any) -> Any:
    if isinstance(value, Message):
        return {"__message__": {k: _encode(v) for k, v in value._asdict().items()}}
    if isinstance(value, datetime.datetime):
        return {"__datetime__": value.isoformat()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"Cannot queue a {type(value).__name__}; tasks take ids and plain values.")


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if "__message__" in value:
            fields = {k: _decode(v) for k, v in value["__message__"].items()}
            fields["args"] = tuple(fields.get("args") or ())
            return Message(**fields)
        if "__datetime__" in value:
            return datetime.datetime.fromisoformat(value["__datetime__"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


class JsonSerializer(Serializer):  # type: ignore[misc]
    """Huey messages as JSON: ids, numbers, strings and timestamps only — never pickle."""

    def _serialize(self, data: Any) -> bytes:
        return json.dumps(_encode(data)).encode("utf-8")

    def _deserialize(self, data: bytes) -> Any:
        return _decode(json.loads(data.decode("utf-8")))


def make_queue(url: str, *, name: str = "advisor", immediate: bool = False) -> Huey:
    """A Huey instance for ``ADVISOR_QUEUE_URL``: Redis or a SQLite file.

    ``redis://…``, ``rediss://…`` and ``unix://…`` name a Redis server; a path (or
    ``sqlite:///path``) names a SQLite file. Anything else with a scheme (``redis:/host``, a
    typo; ``amqp://…``) is refused rather than taken for a file name.

    Raises:
        ConfigurationError: ``config.invalid`` for a URL of no queue the service speaks (or a
            Redis URL the client cannot use); ``io.unwritable`` for a SQLite file that cannot
            be opened.
    """
    options: dict[str, Any] = {
        "results": False,
        "utc": True,
        "immediate": immediate,
        "serializer": JsonSerializer(),
    }
    if url.startswith(REDIS_SCHEMES):
        try:
            return RedisHuey(name, url=url, **options)
        except (HueyConfigurationError, ValueError) as error:  # no redis package, bad URL
            raise ConfigurationError(
                f"ADVISOR_QUEUE_URL {url!r} cannot be used: {error}.", setting="ADVISOR_QUEUE_URL"
            ) from None
    filename = url.removeprefix(SQLITE_PREFIX)
    if not filename or _LOOKS_LIKE_URL.match(filename):
        raise ConfigurationError(
            f"ADVISOR_QUEUE_URL {url!r} is not a queue the service knows: use redis://HOST:PORT/DB "
            "(rediss:// for TLS, unix:///PATH for a socket) for Redis, or the path of a SQLite "
            "file.",
            setting="ADVISOR_QUEUE_URL",
        )
    try:
        return SqliteHuey(name, filename=filename, **options)
    except sqlite3.Error as error:
        raise ConfigurationError(
            f"Cannot open the queue's SQLite file {filename} (ADVISOR_QUEUE_URL): {error}.",
            code=UNWRITABLE,
            path=filename,
            reason=str(error),
        ) from None


class EmbeddedWorker:
    """Executes queued tasks in a background thread of the current process.

    ``advisor serve`` runs one so the service works with no other process; ``advisor worker``
    runs Huey's own consumer instead. Stops after the running task on :meth:`stop`.
    """

    def __init__(self, queue: Huey, *, poll_seconds: float = 0.2) -> None:
        self.queue = queue
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="advisor-worker", daemon=True)

    def start(self) -> EmbeddedWorker:
        """Start the thread."""
        self._thread.start()
        return self

    def stop(self, timeout: float | None = None) -> None:
        """Ask the thread to stop and wait for it."""
        self._stop.set()
        self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                task = self.queue.dequeue()
            except Exception:
                log.exception("cannot read the queue; retrying")
                self._stop.wait(5)
                continue
            if task is None:
                self._stop.wait(self.poll_seconds)
                continue
            try:
                self.queue.execute(task)
            except Exception:
                log.exception("task %s failed", task)
