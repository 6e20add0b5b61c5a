"""The Flask application factory.

:func:`create_app` builds the service: flask-openapi3's ``OpenAPI`` app (a Flask subclass that
derives the OpenAPI 3 document from the routes' pydantic models — chosen over spectree because
its blueprints are Flask's own and it validates path, query, form and body from the same type
hints that document them), the ``/v1`` blueprints, problem+json errors, API-key
authentication, per-key rate limiting (flask-limiter) and Prometheus metrics.

    from api import create_app
    app = create_app()                      # settings from ADVISOR_* variables
    app.run()                                # or: gunicorn 'api:create_app()'

The OpenAPI document is served at ``/openapi.json``, interactive docs at ``/docs``.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Response, g, request
from flask.json.provider import DefaultJSONProvider
from flask_limiter import Limiter
from flask_openapi3.models.info import Info
from flask_openapi3.openapi import OpenAPI
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from advisor import __version__
from advisor.settings import Settings, get_settings
from api import problems
from api.auth import authenticate
from api.routes import ROUTES
from api.routes.health import run_state_lines
from api.services import Services, build_services

SECURITY_SCHEMES: dict[str, Any] = {
    "api_key": {"type": "http", "scheme": "bearer", "description": "An 'adv_…' API key."}
}
PUBLIC_PREFIXES = ("/healthz", "/readyz", "/metrics", "/openapi.json", "/docs")


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
    _authentication(app, services)
    _rate_limits(app, settings)
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
    def _tenant() -> None:
        g.tenant = None
        if request.path.startswith("/v1/"):
            g.tenant = authenticate(
                services.db, api_key_of_request(), open_access=services.settings.open_access
            )


def _rate_limits(app: OpenAPI, settings: Settings) -> None:
    def key() -> str:
        return api_key_of_request() or request.remote_addr or "anonymous"

    @app.after_request
    def _retry_after(response: Response) -> Response:
        # Registered before the limiter's hook, so it runs after it: flask-limiter stamps every
        # answer with Retry-After (seconds to its window's reset), which would make clients
        # wait a minute on a 503. Keep it on 429 only; a 503 says when to retry itself.
        if response.status_code == 503:
            response.headers["Retry-After"] = problems.RETRY_AFTER_SECONDS
        elif response.status_code != 429:
            response.headers.pop("Retry-After", None)
        return response

    limiter = Limiter(
        key,
        app=app,
        default_limits=[settings.rate_limit],
        storage_uri=settings.rate_limit_storage,
        headers_enabled=True,
    )

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
        body = generate_latest(registry) + run_state_lines(services).encode()
        return Response(body, mimetype=CONTENT_TYPE_LATEST)
