"""The Alembic migrations build the schema the ORM models describe, and upgrade old rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Float, create_engine, inspect, text

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
