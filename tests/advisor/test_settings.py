from __future__ import annotations

from pathlib import Path

import pytest

from advisor.errors import ConfigurationError
from advisor.settings import DataLimits, get_settings, reset_settings


@pytest.fixture
def fresh_settings():
    reset_settings()
    yield
    reset_settings()


def test_environment_variables_configure_home_and_limits(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fresh_settings: None
) -> None:
    monkeypatch.setenv("ADVISOR_HOME", str(tmp_path))
    monkeypatch.setenv("ADVISOR_MAX_CLASSES", "7")
    settings = get_settings()
    assert settings.home == tmp_path
    assert settings.cache_dir == tmp_path / "cache"
    limits = settings.data_limits()
    assert isinstance(limits, DataLimits)
    assert limits.max_classes == 7
    assert limits.max_rows == DataLimits().max_rows


def test_invalid_environment_value_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, fresh_settings: None
) -> None:
    monkeypatch.setenv("ADVISOR_MAX_ROWS", "-3")
    with pytest.raises(ConfigurationError) as caught:
        get_settings()
    assert caught.value.code == "config.invalid"
    assert "ADVISOR_MAX_ROWS" in caught.value.message


def test_settings_are_cached_until_reset(
    monkeypatch: pytest.MonkeyPatch, fresh_settings: None
) -> None:
    first = get_settings()
    monkeypatch.setenv("ADVISOR_MAX_CLASSES", "3")
    assert get_settings() is first
    reset_settings()
    assert get_settings().max_classes == 3


def test_limits_are_immutable() -> None:
    limits = DataLimits()
    with pytest.raises(ValueError):
        limits.max_rows = 5  # type: ignore[misc]
