"""The REST service: Flask app factory, routes, jobs, auth, storage.

    from api import create_app
    app = create_app()          # ADVISOR_* settings; embedded SQLite + queue by default

It may import :mod:`advisor` and below only (see ``../shared/DESIGN.md``).
"""

from __future__ import annotations

from api.app import create_app

__all__ = ["create_app"]
