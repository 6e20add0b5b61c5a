"""Errors as ``application/problem+json`` (RFC 9457), with the project's stable codes.

Every :class:`~advisor.errors.AdvisorError` becomes a problem whose status is the error's
``status`` and whose ``code`` is its code; a request that fails validation becomes 422
``request.invalid`` with the field errors; Werkzeug's HTTP errors (404 route, 405, 413 body)
keep their status with a ``http.<status>`` code; anything unexpected is a 500
``server.error`` without internals (they go to the log).
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from flask import Flask, Response, json, request
from pydantic import ValidationError
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from advisor.errors import AdvisorError, define_code
from advisor.wire import Problem, plain_facts

PROBLEM_JSON = "application/problem+json"
REQUEST_INVALID = define_code(
    "request.invalid", "The request's body, query or form fails validation."
)
SERVER_ERROR = define_code("server.error", "An unexpected error in the service (see its log).")
UNAVAILABLE = define_code(
    "service.unavailable", "The database or the queue cannot be reached; retry later."
)
for _status, _meaning in {
    400: "The request is malformed.",
    404: "No such route.",
    405: "The route does not accept this method.",
    413: "The request body is larger than the upload limit.",
    415: "The content type is not accepted by this route.",
    429: "Too many requests for this API key; slow down.",
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
            log.warning("dependency unavailable: %s", error)
            return problem(503, UNAVAILABLE, "The database or queue is unavailable; retry later.")
        log.exception("unexpected error on %s %s", request.method, request.path)
        return problem(500, SERVER_ERROR, "An unexpected error occurred; it has been logged.")
