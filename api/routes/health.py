"""``/healthz`` (the process answers), ``/readyz`` (database and queue reachable)."""

from __future__ import annotations

from flask import Response
from flask_openapi3.blueprint import APIBlueprint
from flask_openapi3.models.tag import Tag
from sqlalchemy import func, select

from advisor.wire import Health
from api.db import RunRecord
from api.routes.common import reply, services
from api.services import Services

blueprint = APIBlueprint(
    "health", __name__, abp_tags=[Tag(name="health", description="Liveness and readiness.")]
)


@blueprint.get("/healthz", responses={200: Health})
def healthz() -> Response:
    """The process is up."""
    return reply(Health(status="ok"))


@blueprint.get("/readyz", responses={200: Health, 503: Health})
def readyz() -> Response:
    """The database and the queue can be reached (503 and which one failed otherwise)."""
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
