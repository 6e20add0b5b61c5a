"""``advisor serve``, ``advisor worker`` and ``advisor keys``: the service's commands.

They live in :mod:`api` (``advisor`` may not import it) and join the ``advisor`` command line
through the ``advisor.commands`` entry-point group declared in ``pyproject.toml``.
"""

# ruff: noqa: PLC0415 - the commands import the service lazily: every ``advisor`` command
# loads this module (entry point), and most never need Flask, SQLAlchemy or Huey.

from __future__ import annotations

import contextlib
import errno
import faulthandler
import functools
import ipaddress
import logging
import signal
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from advisor.errors import ConfigurationError, define_code
from advisor.settings import get_settings

if TYPE_CHECKING:
    from flask import Flask
    from werkzeug.serving import BaseWSGIServer

    from api.services import Services

F = TypeVar("F", bound=Callable[..., Any])

OPEN_ON_NETWORK = define_code(
    "config.open_access_on_network",
    "Open access (no API keys) is only allowed on a loopback address.",
)
CANNOT_LISTEN = define_code(
    "serve.cannot_listen",
    "advisor serve cannot listen on the address and port asked: the port is in use (another "
    "advisor serve, another program), the address is not this machine's, or the port needs "
    "privileges. Nothing was started.",
)


def reports_errors(command: F) -> F:
    """The command's errors as the rest of the command line prints them: ``error [code]: …``.

    :func:`advisor.cli.output.reports_errors`, imported when the command runs: this module is
    loaded while :mod:`advisor.cli` itself is being imported (entry points), so it cannot
    import that package at its top.
    """

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        from advisor.cli.output import reports_errors as reporting

        return reporting(command)(*args, **kwargs)

    return run  # type: ignore[return-value]


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or address) resolves to loopback addresses only."""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    return bool(addresses) and all(ipaddress.ip_address(a).is_loopback for a in addresses)


def _housekeeping_seconds(services: Services) -> float:
    """How often a process looks for runs whose workers all stopped: twice per heartbeat."""
    return max(1.0, services.settings.run_heartbeat_seconds / 2)


def listening(host: str, port: int, app: Flask) -> BaseWSGIServer:
    """Werkzeug's threaded server for ``app``, bound to ``host:port`` and listening.

    The socket is bound here, before anything else starts, so that a port in use stops
    ``advisor serve`` before its workers take a job from the queue.

    Raises:
        ConfigurationError: ``serve.cannot_listen``, naming the address and the reason.
    """
    from werkzeug.serving import ThreadedWSGIServer

    class Server(ThreadedWSGIServer):
        # Werkzeug's server binds in its constructor, and answers an OSError there by printing
        # it and exiting; an error of ours goes through (the socket closed) to be reported.
        def server_bind(self) -> None:
            try:
                super().server_bind()
            except OSError as error:
                raise cannot_listen(host, port, error) from None

        def server_activate(self) -> None:
            try:
                super().server_activate()
            except OSError as error:
                raise cannot_listen(host, port, error) from None

    return Server(host, port, app)


def cannot_listen(host: str, port: int, error: OSError) -> ConfigurationError:
    """The ``serve.cannot_listen`` error for ``host:port``, with the system's reason."""
    reason = error.strerror or str(error) or type(error).__name__
    hint = {
        errno.EADDRINUSE: " Another program holds it (another 'advisor serve'?): stop that "
        "program, or choose another port with --port.",
        errno.EADDRNOTAVAIL: " The address is not one of this machine's: choose one with --host.",
        errno.EACCES: " Ports below 1024 need privileges: choose a port above 1024 with --port.",
    }.get(error.errno or 0, "")
    return ConfigurationError(
        f"Cannot listen on {host}:{port}: {reason}.{hint}",
        code=CANNOT_LISTEN,
        host=host,
        port=port,
        reason=reason,
    )


def build_app() -> Flask:
    """The service's app from the environment's settings (``create_app``).

    Raises:
        AdvisorError: a setting cannot be used (the message names it).
    """
    from limits.errors import ConfigurationError as LimitsConfigurationError

    from api import create_app

    settings = get_settings()
    try:
        return create_app(settings)
    except LimitsConfigurationError as error:  # flask-limiter's storage, made in create_app
        raise ConfigurationError(
            f"ADVISOR_RATE_LIMIT_STORAGE {settings.rate_limit_storage!r} cannot be used: "
            f"{error} (memory://, or redis://HOST:PORT/DB to share limits between processes).",
            setting="ADVISOR_RATE_LIMIT_STORAGE",
        ) from None


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--workers",
    "embedded_workers",
    default=1,
    show_default=True,
    type=click.IntRange(0, 64),
    help="Job threads inside this process (0: jobs wait for 'advisor worker').",
)
@reports_errors
def serve(*, host: str, port: int, embedded_workers: int) -> None:
    """Start the REST API with an embedded job worker (no other setup needed).

    For production, serve 'api:create_app()' with gunicorn and run 'advisor worker'
    processes (docs/API.md).
    """
    from api.queue import EmbeddedWorker
    from api.recovery import Housekeeper

    settings = get_settings()
    if settings.open_access and not is_loopback(host):
        raise ConfigurationError(
            f"ADVISOR_OPEN_ACCESS is on: refusing to listen on {host}; use API keys.",
            code=OPEN_ON_NETWORK,
        )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app = build_app()
    services = app.extensions["advisor"]
    server = listening(host, port, app)  # before any worker: a busy port starts nothing
    workers = [EmbeddedWorker(services.queue).start() for _ in range(embedded_workers)]
    housekeeper = Housekeeper(services, _housekeeping_seconds(services)).start()
    click.echo(
        f"AutoML Advisor API on http://{host}:{server.port} (docs: /docs), data in {settings.home}"
    )
    server.log_startup()  # Werkzeug's: a development server; every address when on 0.0.0.0
    try:
        server.serve_forever()  # until interrupted; closes the socket
    finally:
        housekeeper.stop(timeout=1)
        for worker in workers:
            worker.stop(timeout=1)


@click.command()
@click.option("--threads", default=1, show_default=True, type=click.IntRange(1, 64))
@reports_errors
def worker(*, threads: int) -> None:
    """Run queued jobs (tuned runs, source builds) until interrupted."""
    from api.recovery import Housekeeper
    from api.services import build_services

    settings = get_settings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    services = build_services(settings)
    with contextlib.suppress(OSError, ValueError):  # standard error is not a file (tests)
        faulthandler.register(signal.SIGUSR1)  # `kill -USR1 PID` prints every thread's stack
    housekeeper = Housekeeper(services, _housekeeping_seconds(services)).start()
    consumer = services.queue.create_consumer(workers=threads, worker_type="thread")
    try:
        consumer.run()
    finally:
        housekeeper.stop(timeout=1)


@click.group()
def keys() -> None:
    """Create and revoke API keys."""


@keys.command("create")
@click.option("--tenant", required=True, help="The tenant the key belongs to (created if new).")
@reports_errors
def create(*, tenant: str) -> None:
    """Create a key; it is printed once and stored only as a hash.

    Needs the database only (ADVISOR_DATABASE_URL), not the queue or the artifact store.
    """
    from api.auth import create_key
    from api.services import open_database

    made = create_key(open_database(), tenant)
    click.echo(made.key)
    click.echo(f"prefix {made.prefix}, tenant {made.tenant} (store the key now)", err=True)


@keys.command("revoke")
@click.argument("key_or_prefix")
@reports_errors
def revoke(*, key_or_prefix: str) -> None:
    """Revoke a key, given in full or by its prefix."""
    from api.auth import revoke_key
    from api.services import open_database

    count = revoke_key(open_database(), key_or_prefix)
    click.echo(f"revoked {count} key(s)")
