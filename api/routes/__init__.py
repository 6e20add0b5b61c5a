"""The ``/v1`` blueprints and the health routes; :data:`ROUTES` lists them for the factory."""

from __future__ import annotations

from api.routes.datasets import blueprint as datasets
from api.routes.health import blueprint as health
from api.routes.recommendations import blueprint as recommendations
from api.routes.runs import blueprint as runs
from api.routes.sources import blueprint as sources

ROUTES = [health, datasets, sources, recommendations, runs]

__all__ = ["ROUTES"]
