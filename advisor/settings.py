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

from pydantic import BaseModel, ConfigDict, Field, ValidationError
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

    @property
    def cache_dir(self) -> Path:
        """Directory of derived, re-computable files (safe to delete)."""
        return self.home / "cache"

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
