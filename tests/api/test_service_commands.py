"""``advisor serve``, ``advisor worker`` and ``advisor keys``: how they start, and how they refuse.

A setting that cannot be used is one line ``error [code]: …`` naming it and exit status 1, as
everywhere on the command line; ``serve`` binds its port before its embedded workers start.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from huey import RedisHuey, SqliteHuey
from sqlalchemy import select
from werkzeug.serving import BaseWSGIServer, ThreadedWSGIServer

from advisor.cli import cli
from advisor.errors import AdvisorError, ConfigurationError
from advisor.settings import Settings, get_settings, reset_settings
from api import cli as service_cli
from api.auth import authenticate, create_key
from api.db import Database, Tenant
from api.queue import make_queue

AppFactory = Callable[..., Any]
API_DOC = Path(__file__).resolve().parents[2] / "docs" / "API.md"


@pytest.fixture
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Path]]:
    """``environment(NAME=value, …)``: set ``ADVISOR_*`` variables on a fresh home; its path.

    Every other ``ADVISOR_*`` variable is removed, so the commands see these alone.
    """
    home = tmp_path / "home"

    def set_up(**settings: str) -> Path:
        for name in [n for n in os.environ if n.startswith("ADVISOR_")]:
            monkeypatch.delenv(name)
        monkeypatch.setenv("ADVISOR_HOME", str(home))
        for name, value in settings.items():
            monkeypatch.setenv(f"ADVISOR_{name.upper()}", value)
        reset_settings()
        return home

    yield set_up
    reset_settings()


def refused(result: Result, code: str, *words: str) -> str:
    """The command failed with one line ``error [code]: …`` holding ``words``; that line."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # not a crash
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error [")]
    assert len(lines) == 1 and lines[0].startswith(f"error [{code}]: "), result.output
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def database() -> Database:
    """The settings' metadata database (already migrated by the command that ran)."""
    return Database(get_settings().database)


def not_a_folder(tmp_path: Path) -> Path:
    """A path under a regular file: no folder can be made there, on any system."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    return blocker / "below"


# -- bug 1: serve binds its port first ----------------------------------------------------


def test_serve_on_a_busy_port_takes_no_job_and_says_so_in_one_line(
    make_app: AppFactory, client_of: Any, post_file: Any, start_run: Any, iris_csv: bytes
) -> None:
    app = make_app(immediate=False)
    client = client_of(app, "t")
    dataset = post_file(client, iris_csv, "iris.csv", label="species")
    run = start_run(client, dataset.json["id"])
    assert run.status_code == 202 and run.json["state"] == "queued", run.json
    queue = app.extensions["advisor"].queue
    assert queue.pending_count() == 1
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(cli, ["serve", "--port", str(port)])
        time.sleep(0.5)  # what a worker started meanwhile would have had time to take
    refused(result, "serve.cannot_listen", f"127.0.0.1:{port}", "--port")
    assert "API on" not in result.output  # the banner comes once the port is ours
    assert queue.pending_count() == 1  # no embedded worker took the run's task
    state = client.get(f"/v1/runs/{run.json['id']}").json["state"]
    assert state == "queued"


def test_serve_listens_before_its_workers_and_housekeeper_start(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_app(immediate=False)
    seen: dict[str, list[str]] = {}
    before = set(threading.enumerate())

    def started() -> list[str]:
        """The service's threads started since the command began (workers, housekeeper)."""
        names = ("advisor-worker", "run-housekeeper")
        new = set(threading.enumerate()) - before
        return sorted(t.name for t in new if t.name in names and t.is_alive())

    bind = service_cli.listening

    def listening(host: str, port: int, app: Any) -> BaseWSGIServer:
        server = bind(host, port, app)
        seen["at bind"] = started()
        return server

    def serve_forever(server: BaseWSGIServer, poll_interval: float = 0.5) -> None:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5):
            pass  # the socket listens
        seen["serving"] = started()
        server.server_close()

    monkeypatch.setattr(service_cli, "listening", listening)
    monkeypatch.setattr(ThreadedWSGIServer, "serve_forever", serve_forever)
    result = CliRunner().invoke(cli, ["serve", "--port", "0", "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert seen["at bind"] == []  # nothing runs until the port is ours
    assert seen["serving"] == ["advisor-worker", "advisor-worker", "run-housekeeper"]
    port = re.search(r"API on http://127\.0\.0\.1:(\d+) ", result.output)
    assert port is not None and port.group(1) != "0", result.output  # the port it got


# -- bug 2: bad configuration is one coded line, never a traceback ------------------------

SERVE, WORKER, KEYS = ["serve", "--port", "0"], ["worker"], ["keys", "create", "--tenant", "t"]


@pytest.mark.parametrize("command", [SERVE, WORKER, KEYS], ids=["serve", "worker", "keys"])
def test_an_invalid_setting_stops_every_service_command_in_one_line(
    environment: Callable[..., Path], command: list[str]
) -> None:
    environment(max_concurrent_runs="0")
    result = CliRunner().invoke(cli, command)
    refused(result, "config.invalid", "ADVISOR_MAX_CONCURRENT_RUNS")


@pytest.mark.parametrize("command", [SERVE, WORKER, KEYS], ids=["serve", "worker", "keys"])
def test_a_home_that_cannot_be_written_is_io_unwritable(
    environment: Callable[..., Path], tmp_path: Path, command: list[str]
) -> None:
    environment(home=str(not_a_folder(tmp_path)))
    result = CliRunner().invoke(cli, command)
    refused(result, "io.unwritable", "ADVISOR_HOME", str(tmp_path / "a-file"))


@pytest.mark.parametrize(
    ("command", "settings", "code", "words"),
    [
        (
            KEYS,
            {"database_url": "postgres://admin:s3cret@127.0.0.1:1/advisor"},
            "config.invalid",
            ["ADVISOR_DATABASE_URL", "postgresql+psycopg://"],
        ),
        (WORKER, {"database_url": "nonsense"}, "config.invalid", ["ADVISOR_DATABASE_URL"]),
        (WORKER, {"optuna_storage": "not a url"}, "config.invalid", ["ADVISOR_OPTUNA_STORAGE"]),
        (
            SERVE,
            {"rate_limit_storage": "bogus://"},
            "config.invalid",
            ["ADVISOR_RATE_LIMIT_STORAGE", "bogus://"],
        ),
        (
            WORKER,
            {"queue_url": "redis:/127.0.0.1:6379/0"},
            "config.invalid",
            ["ADVISOR_QUEUE_URL", "redis:/127.0.0.1:6379/0"],
        ),
        (WORKER, {"artifacts_url": "bogus://x"}, "config.invalid", ["ADVISOR_ARTIFACTS_URL"]),
        (WORKER, {"trial_heartbeat_seconds": "1.9"}, "config.invalid", ["HEARTBEAT", "1.9"]),
    ],
    ids=["postgres-scheme", "not-a-url", "optuna", "rate-limit", "queue-typo", "artifacts", "beat"],
)
def test_a_url_of_nothing_this_installation_speaks_is_config_invalid(
    environment: Callable[..., Path],
    command: list[str],
    settings: dict[str, str],
    code: str,
    words: list[str],
) -> None:
    environment(**settings)
    line = refused(CliRunner().invoke(cli, command), code, *words)
    assert "s3cret" not in line  # a password in the URL is never shown


def test_an_artifact_folder_that_cannot_be_made_is_io_unwritable(
    environment: Callable[..., Path], tmp_path: Path
) -> None:
    environment(artifacts_url=str(not_a_folder(tmp_path)))
    refused(CliRunner().invoke(cli, WORKER), "io.unwritable", "ADVISOR_ARTIFACTS_URL")


def test_a_database_server_that_does_not_answer_is_service_unavailable(
    environment: Callable[..., Path],
) -> None:
    pytest.importorskip("psycopg")  # the 'dist' extra
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment(database_url=f"postgresql+psycopg://admin:s3cret@127.0.0.1:{port}/advisor")
    line = refused(CliRunner().invoke(cli, KEYS), "service.unavailable", "ADVISOR_DATABASE_URL")
    assert "s3cret" not in line


# -- bug 3: a queue URL of no known scheme is refused -------------------------------------


@pytest.mark.parametrize(
    "url", ["redis:/127.0.0.1:6379/0", "http://queue:6379/0", "amqp://queue", "sqlite://"]
)
def test_a_queue_url_of_an_unknown_scheme_is_refused_naming_the_setting(url: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        make_queue(url)
    assert caught.value.code == "config.invalid"
    assert "ADVISOR_QUEUE_URL" in caught.value.message and url in caught.value.message


def test_queue_urls_of_redis_and_sqlite_files_are_accepted(tmp_path: Path) -> None:
    plain = make_queue(str(tmp_path / "plain.db"))
    assert isinstance(plain, SqliteHuey) and plain.storage.filename == str(tmp_path / "plain.db")
    written = make_queue(f"sqlite:///{tmp_path / 'url.db'}")  # SQLAlchemy's form: sqlite:////abs
    assert isinstance(written, SqliteHuey)
    assert written.storage.filename == str(tmp_path / "url.db")
    assert (tmp_path / "url.db").is_file()
    for url in ("redis://127.0.0.1:6379/0", "rediss://queue:6380/1", "unix:///run/redis.sock"):
        assert isinstance(make_queue(url), RedisHuey)  # no connection is made yet


def test_a_queue_file_that_cannot_be_opened_is_io_unwritable(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        make_queue(str(not_a_folder(tmp_path) / "queue.db"))
    assert caught.value.code == "io.unwritable" and "ADVISOR_QUEUE_URL" in caught.value.message


# -- bug 4: blank tenant names ------------------------------------------------------------


@pytest.mark.parametrize("blank", ["", "   ", "\t"])
def test_keys_create_refuses_a_blank_tenant(environment: Callable[..., Path], blank: str) -> None:
    environment()
    result = CliRunner().invoke(cli, ["keys", "create", "--tenant", blank])
    refused(result, "input.invalid", "tenant", "blank")
    assert result.stdout == ""  # no key printed
    with database().session() as session:
        assert session.scalars(select(Tenant)).all() == []


def test_a_tenant_name_is_kept_without_surrounding_spaces(make_app: AppFactory) -> None:
    db = make_app().extensions["advisor"].db
    made = create_key(db, "  my-team ")
    assert made.tenant == "my-team"
    again = create_key(db, "my-team")
    assert authenticate(db, made.key, open_access=False) == authenticate(
        db, again.key, open_access=False
    )
    with db.session() as session:
        assert session.scalars(select(Tenant.name)).all() == ["my-team"]


# -- bug 5: keys need the database only ---------------------------------------------------


def test_keys_need_neither_the_artifact_store_nor_the_queue(
    environment: Callable[..., Path], tmp_path: Path
) -> None:
    home = environment(artifacts_url=str(not_a_folder(tmp_path)), queue_url="bogus://not-a-queue")
    runner = CliRunner()
    created = runner.invoke(cli, ["keys", "create", "--tenant", "admins"])
    assert created.exit_code == 0, created.output
    key = created.stdout.strip()
    db = database()
    assert authenticate(db, key, open_access=False)
    revoked = runner.invoke(cli, ["keys", "revoke", key.split("_")[1]])
    assert revoked.exit_code == 0 and "revoked 1 key" in revoked.output, revoked.output
    with pytest.raises(AdvisorError):
        authenticate(db, key, open_access=False)
    made = {p.name for p in home.iterdir()}
    assert "advisor.db" in made and not made & {"artifacts", "queue.db"}, made


# -- bug 6: the trial heartbeat is whole seconds, as Optuna takes it ----------------------


@pytest.mark.parametrize("value", ["1.9", "2.5"])
def test_a_trial_heartbeat_that_is_not_whole_seconds_is_refused(
    environment: Callable[..., Path], value: str
) -> None:
    environment(trial_heartbeat_seconds=value)
    with pytest.raises(ConfigurationError) as caught:
        get_settings()
    assert "ADVISOR_TRIAL_HEARTBEAT_SECONDS" in caught.value.message and value in str(caught.value)


def test_the_trial_heartbeat_reaches_optuna_as_given(make_app: AppFactory) -> None:
    app = make_app(trial_heartbeat_seconds="3")
    storage = app.extensions["advisor"].study_storage()
    assert storage.heartbeat_interval == 3 and isinstance(storage.heartbeat_interval, int)
    assert storage.grace_period == 9
    assert get_settings().trial_heartbeat_seconds == 3


# -- bug 7: every setting is documented, with its default ---------------------------------


def documented_settings() -> dict[str, str | None]:
    """API.md's settings table: each variable and its documented default (None: prose)."""
    text = API_DOC.read_text(encoding="utf-8")
    section = text.split("## Settings (environment variables)", 1)[1].split("\n## ", 1)[0]
    table: dict[str, str | None] = {}
    for line in section.splitlines():
        if not line.startswith("| `ADVISOR_"):
            continue
        variables, defaults = (cell.strip() for cell in line.strip("|").split("|")[:2])
        names = re.findall(r"`(ADVISOR_[A-Z_]+)`", variables)
        values = re.findall(r"`([^`]*)`", defaults)
        for index, name in enumerate(names):
            table[name] = values[index] if len(values) == len(names) else None
    return table


def same_default(documented: str, default: object) -> bool:
    if isinstance(default, bool):
        return documented.lower() in ({"1", "true"} if default else {"0", "false"})
    if isinstance(default, int | float):
        try:
            return float(documented) == float(default)
        except ValueError:
            return False
    return documented == default


def test_every_setting_is_in_the_api_settings_table_with_its_default() -> None:
    table = documented_settings()
    variables = {f"ADVISOR_{name.upper()}": field for name, field in Settings.model_fields.items()}
    assert sorted(set(variables) - set(table)) == [], "settings missing from docs/API.md"
    assert sorted(set(table) - set(variables)) == [], "docs/API.md lists unknown settings"
    wrong = {
        name: (table[name], field.default)
        for name, field in variables.items()
        if field.default_factory is None
        and field.default is not None
        and (table[name] is None or not same_default(str(table[name]), field.default))
    }
    assert wrong == {}, "documented defaults that are not the real ones"
