"""The Flask application factory.

:func:`create_app` builds the service: flask-openapi3's ``OpenAPI`` app (a Flask subclass that
derives the OpenAPI 3 document from the routes' pydantic models — chosen over spectree because
its blueprints are Flask's own and it validates path, query, form and body from the same type
hints that document them), the ``/v1`` blueprints, problem+json errors, API-key
authentication, per-key rate limiting (flask-limiter) and Prometheus metrics.

A ``/v1`` request passes, in this order: *who sent it* (its API key's tenant, or open access
for a loopback client), *the rate limit* (one budget per API key across all routes, counted by
the key's record id, never the secret key; a request without a valid key counts against its
client address), then *the refusal* of a request without a valid key (``401``). So a client
guessing keys is slowed down like any other.

    from api import create_app
    app = create_app()                      # settings from ADVISOR_* variables
    app.run()                                # or: gunicorn 'api:create_app()'

The OpenAPI document is served at ``/openapi.json``, interactive docs at ``/docs``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from flask import Response, g, request
from flask.json.provider import DefaultJSONProvider
from flask_limiter import Limiter, RequestLimit
from flask_openapi3.models.info import Info
from flask_openapi3.openapi import OpenAPI
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from advisor import __version__
from advisor.errors import ConfigurationError
from advisor.settings import Settings, get_settings
from api import problems
from api.auth import AuthError, identify, is_local_request
from api.routes import ROUTES
from api.routes.health import LIMITER, run_state_lines
from api.services import Services, build_services

SECURITY_SCHEMES: dict[str, Any] = {
    "api_key": {"type": "http", "scheme": "bearer", "description": "An 'adv_…' API key."}
}
PUBLIC_PREFIXES = ("/healthz", "/readyz", "/metrics", "/openapi.json", "/docs")
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
"""prometheus_client's multiprocess mode: on when this is set as the process starts."""


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, where a body nested past Python's recursion limit is malformed JSON.

    :func:`json.loads` raises :class:`RecursionError` on an array nested some thousands deep.
    Werkzeug answers a body that fails to parse with ``400`` (or, for flask-openapi3's silent
    read, a missing body and ``422``) only for a :class:`ValueError`; this turns the one into
    the other, so a hostile body is a client error, not a ``500``.
    """

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """:func:`json.loads`; :class:`ValueError` for a body nested past the recursion limit."""
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("The JSON body is nested too deeply.") from None


def api_key_of_request() -> str | None:
    """The API key a request carries (``Authorization: Bearer`` or ``X-API-Key``)."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.headers.get("X-API-Key") or None


def rate_limit_key() -> str:
    """Whose budget a request spends: its API key's record id, else its client's address.

    Never the key itself: the limiter's storage (Redis key names) and its log would hold the
    secret. Key-less requests (open access) and requests whose key was refused count against
    the address they come from.
    """
    key_id = g.get("key_id")
    return f"key:{key_id}" if key_id else f"address:{request.remote_addr or 'unknown'}"


def create_app(
    settings: Settings | None = None,
    *,
    services: Services | None = None,
    immediate: bool = False,
) -> OpenAPI:
    """Build the service's Flask app.

    Args:
        settings: configuration (``ADVISOR_*`` environment variables by default).
        services: already-wired services to use (built from ``settings`` otherwise).
        immediate: run queued jobs at once in the request (tests of the routes alone).
    """
    settings = settings or get_settings()
    services = services or build_services(settings, immediate=immediate)
    app = OpenAPI(
        __name__,
        info=Info(
            title="AutoML Advisor",
            version=__version__,
            description="Transfer, meta, hybrid or scratch learning for a small labeled "
            "dataset: measure it, recommend a family, run it with Optuna.",
        ),
        security_schemes=SECURITY_SCHEMES,
        doc_prefix="/docs",
        doc_url="/openapi.json",
        validation_error_status=422,
        validation_error_callback=problems.validation_problem,
    )
    app.json = BoundedJSONProvider(app)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_upload_bytes + 1024 * 1024
    app.extensions["advisor"] = services
    problems.register(app)
    # before-request hooks run in the order they are registered: who sent the request, its
    # rate limit (counted for a refused key too), then the refusal of a missing or bad key
    _authentication(app, services)
    _rate_limits(app, settings)
    _refuse_unauthenticated(app)
    _metrics(app, services)
    for blueprint in ROUTES:
        app.register_api(blueprint)
    app.add_url_rule("/openapi.json", "openapi_document", lambda: app.api_doc)
    _document_problem_media_type(app.api_doc)
    return app


def _document_problem_media_type(document: dict[str, Any]) -> None:
    """Document problem answers as ``application/problem+json``, the type they are sent as."""
    problem = "#/components/schemas/Problem"
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            for answer in (operation.get("responses") or {}).values():
                content = answer.get("content") or {}
                if content.get("application/json", {}).get("schema", {}).get("$ref") == problem:
                    content[problems.PROBLEM_JSON] = content.pop("application/json")


def _authentication(app: OpenAPI, services: Services) -> None:
    @app.before_request
    def _caller() -> None:
        # Who sent a /v1 request. A missing or bad key is refused only once the rate limit has
        # counted the request (_refuse_unauthenticated), so that guessing keys is limited too.
        g.tenant = g.key_id = g.refused = None
        if not request.path.startswith("/v1/"):
            return
        open_access = services.settings.open_access and is_local_request(
            request.remote_addr, request.headers
        )
        try:
            caller = identify(services.db, api_key_of_request(), open_access=open_access)
        except AuthError as error:
            g.refused = error
            return
        g.tenant, g.key_id = caller.tenant_id, caller.key_id


def _refuse_unauthenticated(app: OpenAPI) -> None:
    @app.before_request
    def _refuse() -> None:
        refused: AuthError | None = g.get("refused")
        if refused is not None:
            raise refused


def _rate_limits(app: OpenAPI, settings: Settings) -> None:
    @app.after_request
    def _retry_after(response: Response) -> Response:
        # Registered before the limiter's hook, so it runs after it: flask-limiter stamps every
        # answer it counted with Retry-After (seconds to its window's reset), which would make
        # clients wait a minute on a 503, or on a 429 that is not the rate limit's
        # (run.too_many: waiting does not free a run). Keep it on the rate limit's own 429; a
        # 503 says when to retry itself.
        if response.status_code == 503:
            response.headers["Retry-After"] = problems.RETRY_AFTER_SECONDS
        elif response.status_code != 429 or not g.get("rate_limited"):
            response.headers.pop("Retry-After", None)
        return response

    def _breached(_limit: RequestLimit) -> None:
        g.rate_limited = True  # the 429 is the limiter's (and only then carries Retry-After)

    @app.before_request
    def _checking_rate_limit() -> None:
        problems.blame(problems.RATE_LIMIT_STORAGE)  # a storage failure in the limiter's hook

    limiter = Limiter(
        rate_limit_key,
        app=app,
        # one budget per key for all routes and methods, not one per route
        application_limits=[settings.rate_limit],
        storage_uri=settings.rate_limit_storage,
        headers_enabled=True,
        on_breach=_breached,
    )
    app.extensions[LIMITER] = limiter

    @app.before_request
    def _rate_limit_checked() -> None:
        problems.blame(None)

    @limiter.request_filter
    def _exempt() -> bool:
        return request.path.startswith(PUBLIC_PREFIXES)


def _metrics(app: OpenAPI, services: Services) -> None:
    registry = CollectorRegistry()
    requests = Counter(
        "advisor_http_requests",
        "HTTP requests answered, by route and status.",
        ["method", "route", "status"],
        registry=registry,
    )
    latency = Histogram(
        "advisor_http_request_seconds",
        "Time to answer a request, by route.",
        ["route"],
        registry=registry,
    )
    app.extensions["advisor_metrics"] = registry
    exposed = registry
    folder = os.environ.get(MULTIPROCESS_DIR)
    if folder is not None:
        # prometheus_client's multiprocess mode (gunicorn workers): every process writes its
        # values to files in that folder, and a scrape, whichever worker answers it, sums them
        if not Path(folder).is_dir():
            raise ConfigurationError(
                f"PROMETHEUS_MULTIPROC_DIR is {folder!r}, not a folder: make it (empty) before "
                "the server starts, or unset it."
            )
        exposed = CollectorRegistry()
        multiprocess.MultiProcessCollector(exposed, path=folder)  # type: ignore[no-untyped-call]

    @app.before_request
    def _start_clock() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def _count(response: Response) -> Response:
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        requests.labels(request.method, route, str(response.status_code)).inc()
        latency.labels(route).observe(time.perf_counter() - g.get("started", time.perf_counter()))
        return response

    @app.get("/metrics", doc_ui=False)
    def metrics() -> Any:
        body = generate_latest(exposed) + run_state_lines(services).encode()
        return Response(body, mimetype=CONTENT_TYPE_LATEST)
