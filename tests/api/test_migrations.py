"""The Alembic migrations build the schema the ORM models describe, and upgrade old rows."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Float, create_engine, inspect, text
from sqlalchemy.exc import IntegrityError

from api.db import MIGRATIONS, Base, migrate


def _config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    config.attributes["configure_logger"] = False
    return config


def _same_storage(*args: Any) -> bool | None:
    """Floating point columns read back as FLOAT whatever the model's precision: the same."""
    inspected, modelled = args[-2], args[-1]
    if isinstance(inspected, Float) and isinstance(modelled, Float):
        return False
    return None  # Alembic's own comparison


def test_the_migrated_schema_is_the_models(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    migrate(url)
    engine = create_engine(url)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"version_table": "advisor_alembic_version", "compare_type": _same_storage},
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == []  # a model column without a migration (or the reverse) shows here
    assert "metric" in {column["name"] for column in inspect(engine).get_columns("runs")}


def _database_at(tmp_path: Path, revision: str, **run: str) -> tuple[str, Any]:
    """A database migrated to ``revision`` holding one succeeded run (``run``: more columns)."""
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    command.upgrade(_config(url), revision)
    engine = create_engine(url)
    columns = {"id": "'r'", "tenant_id": "'t'", "dataset_id": "'d'", "source": "'glyphs'"}
    columns |= {"seed": "0", "state": "'succeeded'", "cancel_requested": "0"}
    columns |= {"progress": "'{}'", "created": "'2026-11-01'"} | run
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO tenants (id, name, created) VALUES ('t', 't', '2026-11-01')")
        )
        connection.execute(
            text(f"INSERT INTO runs ({', '.join(columns)}) VALUES ({', '.join(columns.values())})")
        )
    return url, engine


def test_runs_from_before_metrics_maximised_accuracy(tmp_path: Path) -> None:
    url, engine = _database_at(tmp_path, "0002")
    migrate(url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT metric FROM runs")).scalar_one() == "accuracy"
    command.downgrade(_config(url), "0002")  # and back
    assert "metric" not in {column["name"] for column in inspect(engine).get_columns("runs")}


def test_runs_from_before_learning_curves_measured_none(tmp_path: Path) -> None:
    url, engine = _database_at(tmp_path, "0003", metric="'accuracy'")
    migrate(url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT learning_curve FROM runs")).scalar_one() == 0
    command.downgrade(_config(url), "0003")  # and back
    assert "learning_curve" not in {c["name"] for c in inspect(engine).get_columns("runs")}


def test_runs_from_before_recalibration_kept_their_probabilities(tmp_path: Path) -> None:
    url, engine = _database_at(tmp_path, "0004", metric="'accuracy'", learning_curve="0")
    migrate(url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT recalibrate FROM runs")).scalar_one() == 0
    command.downgrade(_config(url), "0004")  # and back
    assert "recalibrate" not in {c["name"] for c in inspect(engine).get_columns("runs")}


def _postgres_database() -> tuple[str, Any] | None:
    """A fresh PostgreSQL database's URL and its dropper, or None where none is reachable."""
    try:
        import psycopg  # the optional 'dist' extra

        admin = psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", connect_timeout=2)
    except Exception:
        return None
    name = f"advisor_migrate_{uuid.uuid4().hex[:10]}"
    admin.autocommit = True
    admin.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()

    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", drop


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database: SQLite, or PostgreSQL where it is reachable."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'db.sqlite3'}"
        return
    found = _postgres_database()
    if found is None:
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    url, drop = found
    try:
        yield url
    finally:
        drop()


def test_duplicate_source_names_are_renamed_before_names_are_made_unique(
    empty_database: str,
) -> None:
    """Simultaneous registrations once stored a name twice: the first keeps it, later ones
    are renamed ``<name>-dup<N>`` and failed; then the database refuses duplicates."""
    url = empty_database
    command.upgrade(_config(url), "0005")
    engine = create_engine(url)
    long = "x" * 40
    rows = [  # id, tenant, name, state, created
        ("s1", "t", "mine", "ready", "2026-11-01 10:00"),
        ("s2", "t", "mine", "ready", "2026-11-01 10:01"),
        ("s3", "t", "mine", "building", "2026-11-01 10:02"),
        ("s4", "t", "mine-dup1", "ready", "2026-11-01 09:00"),  # a name the rename must skip
        ("s5", "u", "mine", "ready", "2026-11-01 10:03"),  # another tenant's: untouched
        ("s6", "t", long, "ready", "2026-11-01 10:00"),
        ("s7", "t", long, "failed", "2026-11-01 10:05"),
    ]
    with engine.begin() as connection:
        for tenant in ("t", "u"):
            connection.execute(
                text("INSERT INTO tenants (id, name, created) VALUES (:t, :t, '2026-11-01')"),
                {"t": tenant},
            )
        for row in rows:
            connection.execute(
                text(
                    "INSERT INTO sources (id, tenant_id, name, dataset_id, state, settings, "
                    "created) VALUES (:id, :tenant, :name, 'd', :state, '{}', :created)"
                ),
                dict(zip(("id", "tenant", "name", "state", "created"), row, strict=True)),
            )
    migrate(url)
    with engine.connect() as connection:
        found = {
            row.id: (row.name, row.state, row.error)
            for row in connection.execute(text("SELECT id, name, state, error FROM sources"))
        }
    assert found["s1"] == ("mine", "ready", None)
    assert found["s4"] == ("mine-dup1", "ready", None)
    assert found["s5"] == ("mine", "ready", None)
    assert found["s6"] == (long, "ready", None)
    assert [found[i][:2] for i in ("s2", "s3", "s7")] == [
        ("mine-dup2", "failed"),
        ("mine-dup3", "failed"),
        ("x" * 35 + "-dup1", "failed"),
    ]
    assert found["s2"][2] is not None and "'mine'" in found["s2"][2]
    insert = text(
        "INSERT INTO sources (id, tenant_id, name, dataset_id, state, settings, created) "
        "VALUES ('s8', 't', 'mine', 'd', 'building', '{}', '2026-11-02')"
    )
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(insert)
    command.downgrade(_config(url), "0005")  # and back: duplicates may be stored again
    with engine.begin() as connection:
        connection.execute(insert)
    engine.dispose()
