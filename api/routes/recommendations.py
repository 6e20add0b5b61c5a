"""``/v1/recommendations``: recommend a family for a dataset and a source (synchronous)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from flask import Response
from pydantic import BaseModel, Field

from advisor import Advisor
from advisor.errors import NotFoundError, define_code
from advisor.schemas import Recommendation
from advisor.wire import RecommendationOut, RecommendationRequest, ReportFormat
from api.db import new_id, utcnow
from api.routes.common import reply, services, tenant, v1_blueprint

blueprint = v1_blueprint(
    "recommendations", "recommendations", "Which family to use, predicted and explained."
)

RECOMMENDATION_UNKNOWN = define_code(
    "recommendation.unknown", "No recommendation with that id belongs to this tenant."
)
MEDIA_TYPES = {"html": "text/html", "md": "text/markdown", "json": "application/json"}
REPORT_ANSWER = {
    "description": "The report, in the media type of the format asked for.",
    "content": {
        "text/html": {"schema": {"type": "string"}},
        "text/markdown": {"schema": {"type": "string"}},
        "application/json": {"schema": {"type": "object"}},
    },
}


class RecommendationPath(BaseModel):
    """A recommendation id in the path."""

    recommendation_id: str = Field(max_length=32, pattern=r"^[a-f0-9]{1,32}$")


class ReportQuery(BaseModel):
    """The report's format."""

    format: ReportFormat = "html"


def _key(owner: str, recommendation_id: str, name: str = "recommendation.json") -> str:
    return f"recommendations/{owner}/{recommendation_id}/{name}"


def _stored(owner: str, recommendation_id: str) -> RecommendationOut:
    try:
        data = services().store.get(_key(owner, recommendation_id))
    except FileNotFoundError:
        raise NotFoundError(
            f"No recommendation {recommendation_id!r}.", code=RECOMMENDATION_UNKNOWN
        ) from None
    return RecommendationOut.model_validate_json(data)


@blueprint.post("", responses={201: RecommendationOut})
def recommend(body: RecommendationRequest) -> Response:
    """Measure the dataset and recommend transfer, meta, hybrid or scratch, with reasons."""
    shared, owner = services(), tenant()
    dataset = shared.load(shared.dataset_record(owner, body.dataset_id))
    advisor = Advisor(source=shared.source(owner, body.source))
    recommendation = advisor.recommend(dataset.X, dataset.y, categorical=dataset.categorical_mask)
    out = RecommendationOut(
        id=new_id(), dataset_id=body.dataset_id, created=utcnow(), recommendation=recommendation
    )
    shared.store.put(_key(owner, out.id), out.model_dump_json().encode())
    return reply(out, 201, {"Location": f"/v1/recommendations/{out.id}"})


@blueprint.get("/<recommendation_id>", responses={200: RecommendationOut})
def get_recommendation(path: RecommendationPath) -> Response:
    """A stored recommendation."""
    return reply(_stored(tenant(), path.recommendation_id))


@blueprint.get("/<recommendation_id>/report", responses={200: REPORT_ANSWER})
def recommendation_report(path: RecommendationPath, query: ReportQuery) -> Response:
    """The recommendation's report: self-contained HTML, Markdown or JSON."""
    shared, owner = services(), tenant()
    stored = _stored(owner, path.recommendation_id)
    key = _key(owner, stored.id, f"report.{query.format}")
    if not shared.store.exists(key):
        recommendation: Recommendation = stored.recommendation
        advisor = Advisor(source=shared.source(owner, recommendation.source))
        with tempfile.TemporaryDirectory() as scratch:
            written = advisor.report(
                recommendation, Path(scratch) / f"report.{query.format}", format=query.format
            )
            shared.store.put(key, written.read_bytes())
    body = shared.store.get(key)
    if query.format == "json":
        json.loads(body)  # stored by us; a corrupt file fails loudly here, not in the client
    return Response(body, mimetype=MEDIA_TYPES[query.format])
