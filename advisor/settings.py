"""The one settings object of the service, read from ``ADVISOR_*`` environment variables.

Every knob has a default that works on a laptop with nothing else installed (the *embedded*
mode); scale-out is the same code with other values. Examples::

    ADVISOR_HOME=/srv/advisor           # where caches, the database and artifacts live
    ADVISOR_MAX_CLASSES=5000            # refuse datasets with more classes than this
    ADVISOR_MAX_UPLOAD_BYTES=104857600  # 100 MiB

:func:`get_settings` returns the process-wide instance (cached); tests and embedding
applications call :func:`reset_settings` after changing the environment.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from advisor.errors import ConfigurationError

MiB = 1024 * 1024
GiB = 1024 * MiB


class _DataLimitFields(BaseModel):
    """The limit fields, shared by :class:`DataLimits` and :class:`Settings`."""

    max_upload_bytes: int = Field(512 * MiB, gt=0, description="Largest file accepted.")
    max_rows: int = Field(1_000_000, gt=0, description="Most examples in one dataset.")
    max_columns: int = Field(10_000, gt=0, description="Most feature columns (after encoding).")
    max_cells: int = Field(
        200_000_000, gt=0, description="Most feature values (rows x encoded columns)."
    )
    max_classes: int = Field(1_000, ge=2, description="Most distinct labels.")
    max_zip_entries: int = Field(200_000, gt=0, description="Most entries in a zip archive.")
    max_zip_total_bytes: int = Field(
        2 * GiB, gt=0, description="Most uncompressed bytes in a zip archive, all entries."
    )
    max_zip_ratio: float = Field(
        200.0, gt=1, description="Highest compression ratio of one zip entry (zip-bomb guard)."
    )
    max_image_pixels: int = Field(
        16_777_216, gt=0, description="Most pixels in one image (decompression-bomb guard)."
    )
    max_image_count: int = Field(500_000, gt=0, description="Most images in one dataset.")


class DataLimits(_DataLimitFields):
    """Limits the data layer enforces on what users bring (each refusal has its error code)."""

    model_config = ConfigDict(frozen=True)


class Settings(BaseSettings, _DataLimitFields):
    """Service-wide configuration; every field reads ``ADVISOR_<FIELD>`` from the environment."""

    model_config = SettingsConfigDict(env_prefix="ADVISOR_", extra="ignore", frozen=True)

    home: Path = Field(
        default_factory=lambda: Path.home() / ".automl-advisor",
        description="Home directory for caches, databases and artifacts.",
    )
    cache_builtin: bool = Field(
        True, description="Keep rendered built-in domains on disk under <home>/cache."
    )
    # -- the service (api/): embedded defaults, URLs for scale-out --------------------------
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the metadata database "
        "(default: SQLite file <home>/advisor.db; e.g. postgresql+psycopg://host/db).",
    )
    optuna_storage: str | None = Field(
        None, description="Optuna storage URL of the API's runs (default: the metadata database)."
    )
    queue_url: str | None = Field(
        None,
        description="Task queue: a redis://, rediss:// or unix:// URL of Redis, or the path of "
        "a SQLite file (default <home>/queue.db); any other URL is refused (config.invalid).",
    )
    queue_name: str = Field(
        "advisor",
        description="Name of the queue: services sharing one Redis each need their own; "
        "the API and its workers the same one.",
    )
    artifacts_url: str | None = Field(
        None,
        description="Where uploads, models and reports are kept: a folder or any fsspec URL "
        "(default <home>/artifacts).",
    )
    open_access: bool = Field(
        False,
        description="Serve without API keys, as one local tenant (refused on a non-loopback "
        "address).",
    )
    rate_limit: str = Field(
        "600/minute",
        description="Requests per API key, all routes together (limits' notation: '600/minute', "
        "'10/second;600/minute'); requests without a valid key count per client address.",
    )
    rate_limit_storage: str = Field(
        "memory://", description="flask-limiter storage URL (redis:// to share between hosts)."
    )

    @field_validator("rate_limit")
    @classmethod
    def _rate_limit_parses(cls, value: str) -> str:
        """The rate limit in limits' notation, each limit at least one request per window."""
        from limits import parse_many  # noqa: PLC0415 - only settings that set it need limits

        try:
            parsed = parse_many(value)
        except ValueError:
            parsed = []
        if not parsed or any(limit.amount < 1 for limit in parsed):
            raise ValueError(
                f"{value!r} is not a rate limit: write requests per period, e.g. '600/minute', "
                "'10 per second', or several separated by ';' ('10/second;600/minute')"
            )
        return value

    max_concurrent_runs: int = Field(4, gt=0, description="Queued or running runs per tenant.")
    max_trials: int = Field(500, gt=0, description="Largest trial budget of one run.")
    max_run_seconds: float = Field(6 * 3600, gt=0, description="Largest time budget of one run.")
    run_parallelism: int = Field(
        1,
        ge=1,
        le=256,
        description="Tasks each run is split into on its shared study (about the number of "
        "workers in distributed mode).",
    )
    trial_heartbeat_seconds: int = Field(
        10,
        ge=1,
        description="Optuna trial heartbeat, in whole seconds (Optuna takes an integer); a trial "
        "silent 3x this long is failed and its budget spent by the other workers.",
    )
    run_heartbeat_seconds: float = Field(
        60,
        gt=0,
        description="A running run whose workers are all silent this long is queued again "
        "(or failed once out of resumes).",
    )
    run_max_resumes: int = Field(
        2,
        ge=0,
        le=100,
        description="Times a run whose workers all stopped is queued again on its study before "
        "it is failed (run.worker_lost).",
    )

    @field_validator("trial_heartbeat_seconds", mode="before")
    @classmethod
    def _whole_seconds(cls, value: object) -> object:
        """A heartbeat of ``1.9`` is refused, not silently cut to 1 (Optuna takes whole seconds)."""
        try:
            number = float(value) if isinstance(value, str | int | float) else None
        except ValueError:
            number = None  # not a number at all: pydantic's own message says so
        if number is not None and not number.is_integer():
            raise ValueError(f"a whole number of seconds (at least 1) is needed, not {value}")
        return value

    @property
    def cache_dir(self) -> Path:
        """Directory of derived, re-computable files (safe to delete)."""
        return self.home / "cache"

    @property
    def database(self) -> str:
        """The metadata database's SQLAlchemy URL."""
        return self.database_url or f"sqlite:///{self.home / 'advisor.db'}"

    @property
    def study_storage(self) -> str:
        """The Optuna storage URL of the service's runs."""
        return self.optuna_storage or self.database

    @property
    def queue(self) -> str:
        """The task queue's URL or SQLite file."""
        return self.queue_url or str(self.home / "queue.db")

    @property
    def artifacts(self) -> str:
        """The artifact store's folder or fsspec URL."""
        return self.artifacts_url or str(self.home / "artifacts")

    def data_limits(self) -> DataLimits:
        """The data-layer limits, as one immutable object to pass around."""
        return DataLimits(**{name: getattr(self, name) for name in _DataLimitFields.model_fields})


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment.

    Raises:
        ConfigurationError: an ``ADVISOR_*`` variable holds an invalid value.
    """
    try:
        return Settings()
    except ValidationError as err:
        problems = "; ".join(
            f"ADVISOR_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in err.errors()
        )
        raise ConfigurationError(f"Invalid settings: {problems}") from None


def reset_settings() -> None:
    """Forget the cached settings so the next :func:`get_settings` re-reads the environment."""
    get_settings.cache_clear()
