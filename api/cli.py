"""``advisor serve``, ``advisor worker`` and ``advisor keys``: the service's commands.

They live in :mod:`api` (``advisor`` may not import it) and join the ``advisor`` command line
through the ``advisor.commands`` entry-point group declared in ``pyproject.toml``.
"""

# ruff: noqa: PLC0415 - the commands import the service lazily: every ``advisor`` command
# loads this module (entry point), and most never need Flask, SQLAlchemy or Huey.

from __future__ import annotations

import faulthandler
import ipaddress
import logging
import signal
import socket
from typing import TYPE_CHECKING

import click

from advisor.errors import ConfigurationError, define_code
from advisor.settings import get_settings

if TYPE_CHECKING:
    from api.services import Services

OPEN_ON_NETWORK = define_code(
    "config.open_access_on_network",
    "Open access (no API keys) is only allowed on a loopback address.",
)


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
def serve(*, host: str, port: int, embedded_workers: int) -> None:
    """Start the REST API with an embedded job worker (no other setup needed).

    For production, serve 'api:create_app()' with gunicorn and run 'advisor worker'
    processes (docs/API.md).
    """
    from werkzeug.serving import run_simple

    from api import create_app
    from api.queue import EmbeddedWorker
    from api.recovery import Housekeeper

    settings = get_settings()
    if settings.open_access and not is_loopback(host):
        raise click.ClickException(
            str(
                ConfigurationError(
                    f"ADVISOR_OPEN_ACCESS is on: refusing to listen on {host}; use API keys.",
                    code=OPEN_ON_NETWORK,
                )
            )
        )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app = create_app(settings)
    services = app.extensions["advisor"]
    workers = [EmbeddedWorker(services.queue).start() for _ in range(embedded_workers)]
    housekeeper = Housekeeper(services, _housekeeping_seconds(services)).start()
    click.echo(f"AutoML Advisor API on http://{host}:{port} (docs: /docs), data in {settings.home}")
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False)
    finally:
        housekeeper.stop(timeout=1)
        for worker in workers:
            worker.stop(timeout=1)


@click.command()
@click.option("--threads", default=1, show_default=True, type=click.IntRange(1, 64))
def worker(*, threads: int) -> None:
    """Run queued jobs (tuned runs, source builds) until interrupted."""
    from api.recovery import Housekeeper
    from api.services import build_services

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 PID` prints every thread's stack
    services = build_services()
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
def create(*, tenant: str) -> None:
    """Create a key; it is printed once and stored only as a hash."""
    from api.auth import create_key
    from api.services import build_services

    made = create_key(build_services().db, tenant)
    click.echo(made.key)
    click.echo(f"prefix {made.prefix}, tenant {made.tenant} (store the key now)", err=True)


@keys.command("revoke")
@click.argument("key_or_prefix")
def revoke(*, key_or_prefix: str) -> None:
    """Revoke a key, given in full or by its prefix."""
    from advisor.errors import AdvisorError
    from api.auth import revoke_key
    from api.services import build_services

    try:
        count = revoke_key(build_services().db, key_or_prefix)
    except AdvisorError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"revoked {count} key(s)")
