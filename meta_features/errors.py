"""The project's one exception hierarchy, with stable machine-readable codes.

Every exception the project raises on bad input derives from :class:`AdvisorError` and carries
a ``code`` — a short dotted string such as ``"dataset.single_class"`` that never changes between
releases, so that programs (the REST API's problem+json bodies, the Python client, scripts) can
branch on it while the human-readable ``message`` stays free to improve.

The hierarchy lives here, at the bottom of the import graph (``api → advisor → learners →
meta_features``), so that every package can raise it without importing upwards. Users import it
from :mod:`advisor.errors`, which re-exports these classes next to the data layer's codes.

Codes are declared once with :func:`define_code`, which records a one-line meaning for each; the
catalogue (:func:`known_codes`) is what ``docs/ERRORS.md`` documents and what the tests check.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

_CODES: dict[str, str] = {}


def define_code(code: str, meaning: str) -> str:
    """Declare a stable error code with its one-line meaning and return the code.

    Declaring the same code twice with a different meaning is a programming error.
    """
    if not code or code.strip() != code or " " in code:
        raise ValueError(f"error codes are non-empty dotted identifiers, got {code!r}")
    previous = _CODES.get(code)
    if previous is not None and previous != meaning:
        raise ValueError(f"error code {code!r} declared twice with different meanings")
    _CODES[code] = meaning
    return code


def known_codes() -> Mapping[str, str]:
    """All declared codes with their meanings (a read-only view)."""
    return dict(sorted(_CODES.items()))


INVALID_INPUT = define_code("input.invalid", "The input is malformed or inconsistent.")
LIMIT_EXCEEDED = define_code("input.limit_exceeded", "The input is larger than a configured limit.")
NOT_FOUND = define_code("not_found", "The named resource does not exist.")
CONFIGURATION = define_code("config.invalid", "A setting or option has an invalid value.")
UNWRITABLE = define_code(
    "io.unwritable",
    "A file or folder the advisor was asked to write (an output file, a report, ADVISOR_HOME) "
    "cannot be written; the message names the path and the operating system's reason.",
)


class AdvisorError(Exception):
    """Base of every error the project raises on bad input or configuration.

    Attributes:
        code: stable machine-readable code (see :func:`known_codes`).
        message: human-readable explanation of what is wrong and how to fix it.
        details: JSON-serialisable facts about the failure (offending column, limit, count…).
        status: the HTTP status the API answers with for this kind of error.
    """

    default_code: ClassVar[str] = INVALID_INPUT
    status: ClassVar[int] = 400

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.details: dict[str, Any] = details

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"

    def to_dict(self) -> dict[str, Any]:
        """The error as a JSON-ready mapping: ``{"code", "message", "details"}``."""
        return {"code": self.code, "message": self.message, "details": dict(self.details)}


class InvalidInputError(AdvisorError, ValueError):
    """The caller's data or arguments are malformed (HTTP 422)."""

    default_code = INVALID_INPUT
    status = 422


class LimitExceededError(InvalidInputError):
    """The input exceeds a configured limit: size, rows, classes, entries… (HTTP 413)."""

    default_code = LIMIT_EXCEEDED
    status = 413


class NotFoundError(AdvisorError, LookupError):
    """A named dataset, domain, source or resource does not exist (HTTP 404)."""

    default_code = NOT_FOUND
    status = 404


class ConfigurationError(AdvisorError, ValueError):
    """A setting or option has an invalid value (HTTP 400)."""

    default_code = CONFIGURATION
    status = 400


# -- codes of the meta-feature functions -----------------------------------------------------
BAD_SHAPE = define_code(
    "meta_features.bad_shape",
    "Arrays passed to a meta-feature function have the wrong shape or inconsistent lengths.",
)
NON_FINITE = define_code(
    "meta_features.non_finite", "Arrays passed to a meta-feature function hold NaN or infinity."
)
TOO_FEW_EXAMPLES = define_code(
    "meta_features.too_few_examples",
    "Too few examples or classes for the requested meta-feature function.",
)
BAD_OPTION = define_code(
    "meta_features.bad_option", "An option of a meta-feature function or the extractor is invalid."
)
