from __future__ import annotations

import json

import pytest

from meta_features.errors import (
    AdvisorError,
    ConfigurationError,
    InvalidInputError,
    LimitExceededError,
    NotFoundError,
    define_code,
    known_codes,
)


def test_error_carries_code_message_details_and_status() -> None:
    error = LimitExceededError("too big", code="input.limit_exceeded", size=10, limit=5)
    assert isinstance(error, InvalidInputError) and isinstance(error, ValueError)
    assert error.code == "input.limit_exceeded"
    assert error.status == 413
    assert str(error) == "[input.limit_exceeded] too big"
    assert json.loads(json.dumps(error.to_dict())) == {
        "code": "input.limit_exceeded",
        "message": "too big",
        "details": {"size": 10, "limit": 5},
    }


@pytest.mark.parametrize(
    ("cls", "status", "base"),
    [
        (InvalidInputError, 422, ValueError),
        (LimitExceededError, 413, ValueError),
        (NotFoundError, 404, LookupError),
        (ConfigurationError, 400, ValueError),
    ],
)
def test_each_class_has_a_default_code_and_status(cls: type, status: int, base: type) -> None:
    error = cls("x")
    assert isinstance(error, AdvisorError) and isinstance(error, base)
    assert error.status == status
    assert error.code in known_codes()


def test_define_code_is_idempotent_but_refuses_conflicting_meanings() -> None:
    assert define_code("test.sample", "A sample.") == "test.sample"
    assert define_code("test.sample", "A sample.") == "test.sample"
    with pytest.raises(ValueError, match="twice"):
        define_code("test.sample", "Another meaning.")
    with pytest.raises(ValueError):
        define_code("has space", "x")
