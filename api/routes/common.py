"""Helpers every route module uses: the services, the caller's tenant, replies, paging."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, g
from flask_openapi3.blueprint import APIBlueprint
from flask_openapi3.models.tag import Tag
from pydantic import BaseModel, Field

from advisor.wire import Problem
from api.services import Services

ERRORS: dict[Any, Any] = {
    400: Problem,
    401: Problem,
    404: Problem,
    413: Problem,
    422: Problem,
    429: Problem,
    503: Problem,
}


def v1_blueprint(name: str, prefix: str, description: str) -> APIBlueprint:
    """A ``/v1/<prefix>`` blueprint that needs an API key and documents the problem answers."""
    return APIBlueprint(
        name,
        __name__,
        url_prefix=f"/v1/{prefix}",
        abp_tags=[Tag(name=name, description=description)],
        abp_security=[{"api_key": []}],
        abp_responses=ERRORS,
    )


def services() -> Services:
    """The app's services."""
    found: Services = current_app.extensions["advisor"]
    return found


def tenant() -> str:
    """The tenant id of the request's API key (set by the authentication hook)."""
    found: str = g.tenant
    return found


def reply(model: BaseModel, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response of ``model``."""
    return Response(
        model.model_dump_json(), status=status, mimetype="application/json", headers=headers
    )


class PageQuery(BaseModel):
    """Paging of a list, newest first."""

    page: int = Field(1, ge=1, le=1_000_000)
    per_page: int = Field(20, ge=1, le=100)
