"""``/healthz`` (the process answers), ``/readyz`` (what every request needs is reachable).

``/readyz`` checks the database, the queue and, when it lives outside the process, the rate
limit's storage.
"""

from __future__ import annotations

from flask import Response, current_app
from flask_limiter import Limiter
from flask_openapi3.blueprint import APIBlueprint
from flask_openapi3.models.tag import Tag
from limits.storage import MemoryStorage
from sqlalchemy import func, select

from advisor.wire import Health
from api.db import RunRecord
from api.routes.common import reply, services
from api.services import Services

LIMITER = "advisor_limiter"
"""Key of the app's :class:`~flask_limiter.Limiter` in ``app.extensions``."""

blueprint = APIBlueprint(
    "health", __name__, abp_tags=[Tag(name="health", description="Liveness and readiness.")]
)


@blueprint.get("/healthz", responses={200: Health})
def healthz() -> Response:
    """The process is up."""
    return reply(Health(status="ok"))


@blueprint.get("/readyz", responses={200: Health, 503: Health})
def readyz() -> Response:
    """The database, the queue and the rate limit's storage can be reached (503 otherwise).

    The answer's checks say which failed. The rate limit's storage (``rate_limit_storage``)
    is checked when it lives outside the process (``ADVISOR_RATE_LIMIT_STORAGE=redis://…``):
    every ``/v1`` request needs it.
    """
    checks: dict[str, str] = {}
    shared = services()
    try:
        shared.db.ping()
        checks["database"] = "ok"
    except Exception as error:
        checks["database"] = f"unavailable: {type(error).__name__}"
    try:
        shared.queue.pending_count()
        checks["queue"] = "ok"
    except Exception as error:
        checks["queue"] = f"unavailable: {type(error).__name__}"
    limiter: Limiter | None = current_app.extensions.get(LIMITER)
    if limiter is not None and not isinstance(limiter.storage, MemoryStorage):
        try:
            reachable = limiter.storage.check()  # limits' health check: False when down
            checks["rate_limit_storage"] = "ok" if reachable else "unavailable"
        except Exception as error:
            checks["rate_limit_storage"] = f"unavailable: {type(error).__name__}"
    ok = all(v == "ok" for v in checks.values())
    return reply(Health(status="ok" if ok else "unavailable", checks=checks), 200 if ok else 503)


def run_state_lines(shared: Services) -> str:
    """Prometheus gauge lines: runs by state (all tenants)."""
    lines = ["# HELP advisor_runs Runs by state.", "# TYPE advisor_runs gauge"]
    try:
        with shared.db.session() as session:
            counts = dict(
                session.execute(
                    select(RunRecord.state, func.count()).group_by(RunRecord.state)
                ).all()
            )
    except Exception:
        return ""
    for state in ("queued", "running", "succeeded", "failed", "cancelled"):
        lines.append(f'advisor_runs{{state="{state}"}} {int(counts.get(state, 0))}')
    return "\n".join(lines) + "\n"
