"""Errors as ``application/problem+json`` (RFC 9457), with the project's stable codes.

Every :class:`~advisor.errors.AdvisorError` becomes a problem whose status is the error's
``status`` and whose ``code`` is its code; a request that fails validation becomes 422
``request.invalid`` with the field errors (a JSON body that does not parse too: flask-openapi3
reads it as a missing body); Werkzeug's HTTP errors (404 route, 405, 413 body, 429 rate limit)
keep their status with a ``http.<status>`` code; a dependency that cannot be reached is a 503
``service.unavailable`` naming it (:func:`blame`); anything unexpected is a 500
``server.error`` without internals (they go to the log).
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from flask import Flask, Response, g, json, request
from pydantic import ValidationError
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from advisor.errors import AdvisorError, define_code
from advisor.wire import Problem, plain_facts

PROBLEM_JSON = "application/problem+json"
REQUEST_INVALID = define_code(
    "request.invalid",
    "The request's body, query or form fails validation (a JSON body that does not parse "
    "included).",
)
SERVER_ERROR = define_code("server.error", "An unexpected error in the service (see its log).")
UNAVAILABLE = define_code(
    "service.unavailable",
    "The database, the queue or the rate-limit storage cannot be reached (the detail says "
    "which); retry later.",
)
for _status, _meaning in {
    400: "The request is malformed below what validation sees (Werkzeug cannot parse it).",
    404: "No such route.",
    405: "The route does not accept this method.",
    413: "The request body is larger than the upload limit.",
    415: "The content type is not accepted by this route.",
    429: "Too many requests for this API key (or, without a valid key, from this client "
    "address); slow down.",
}.items():
    define_code(f"http.{_status}", _meaning)

log = logging.getLogger("advisor.api")


def _unavailable_errors() -> tuple[type[BaseException], ...]:
    """Exceptions meaning a dependency (database, queue) is down, not that we are broken."""
    found: list[type[BaseException]] = [
        OperationalError,
        InterfaceError,
        ConnectionError,
        TimeoutError,
        sqlite3.OperationalError,
    ]
    try:
        from redis import exceptions as redis_errors  # noqa: PLC0415 - the optional 'dist' extra

        found += [redis_errors.ConnectionError, redis_errors.TimeoutError]
    except ImportError:  # pragma: no cover - redis is installed with the 'dist' extra
        pass
    return tuple(found)


UNAVAILABLE_ERRORS = _unavailable_errors()
RETRY_AFTER_SECONDS = "5"
DATABASE_OR_QUEUE = "database or queue"
RATE_LIMIT_STORAGE = "rate-limit storage"
"""What a 503 can blame (:func:`blame`): the default, or the limiter's storage."""


def blame(dependency: str | None) -> None:
    """Say which dependency the request is using, for a 503 raised meanwhile.

    ``None`` (the default of every request) blames the database or the queue; the app blames
    :data:`RATE_LIMIT_STORAGE` while flask-limiter checks the request's limit, so that a
    rate-limit storage that is down is not taken for a database outage.
    """
    g.unavailable_dependency = dependency


TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


def problem(status: int, code: str, detail: str, **extra: Any) -> Response:
    """A problem+json response."""
    body = Problem(
        title=TITLES.get(status, "Error"),
        status=status,
        detail=detail,
        code=code,
        instance=request.path if request else None,
        **extra,
    )
    response = Response(
        json.dumps(body.model_dump(exclude_none=True)), status=status, mimetype=PROBLEM_JSON
    )
    if status == 503:
        response.headers["Retry-After"] = RETRY_AFTER_SECONDS
    return response


def validation_problem(error: ValidationError) -> Response:
    """422 ``request.invalid`` with pydantic's field errors (inputs left out: they may be big)."""
    errors = [
        {"loc": [str(p) for p in e["loc"]], "msg": e["msg"], "type": e["type"]}
        for e in error.errors(include_url=False, include_input=False)
    ]
    return problem(422, REQUEST_INVALID, "The request fails validation.", errors=errors)


def register(app: Flask) -> None:
    """Install the error handlers on ``app``."""

    @app.errorhandler(AdvisorError)
    def _advisor_error(error: AdvisorError) -> Response:
        return problem(error.status, error.code, error.message, facts=plain_facts(error.details))

    @app.errorhandler(ValidationError)
    def _validation_error(error: ValidationError) -> Response:
        return validation_problem(error)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        status = error.code or 500
        return problem(status, f"http.{status}", error.description or "")

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        if isinstance(error, UNAVAILABLE_ERRORS):
            dependency = g.get("unavailable_dependency") or DATABASE_OR_QUEUE
            log.warning("%s unavailable: %s", dependency, error)
            detail = f"The {dependency} is unavailable; retry later."
            return problem(503, UNAVAILABLE, detail)
        log.exception("unexpected error on %s %s", request.method, request.path)
        return problem(500, SERVER_ERROR, "An unexpected error occurred; it has been logged.")
