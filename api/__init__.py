"""The REST service: Flask app factory, routes, jobs, auth, storage.

    from api import create_app
    app = create_app()          # ADVISOR_* settings; embedded SQLite + queue by default

It may import :mod:`advisor` and below only (see ``../shared/DESIGN.md``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from api.app import create_app


def __getattr__(name: str) -> Any:
    """``create_app``, loaded on first use.

    ``advisor --help`` lists the service's commands (:mod:`api.cli`) without importing Flask,
    SQLAlchemy and the advisor's models.
    """
    if name == "create_app":
        from api.app import create_app  # noqa: PLC0415

        return create_app
    raise AttributeError(f"module 'api' has no attribute {name!r}")


__all__ = ["create_app"]
