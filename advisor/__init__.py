"""AutoML Advisor: transfer learning, meta learning, both, or from scratch — for your data.

The advisor measures a labeled dataset, predicts how each learning family will do on it, and
runs the best one with tuned hyper-parameters. See ``README.md`` and ``docs/ARCHITECTURE.md``.

Sub-packages and modules:

* :class:`Advisor` (:mod:`advisor.core`) — recommend, run, report;
* :mod:`advisor.datasets` — loading and validating users' files, the built-in domains, tasks;
* :mod:`advisor.kb`, :mod:`advisor.recommender`, :mod:`advisor.reports`, :mod:`advisor.sources`;
* :mod:`advisor.errors` — the exception hierarchy with stable codes;
* :mod:`advisor.settings` — configuration from ``ADVISOR_*`` environment variables;
* :mod:`advisor.cli` — the ``advisor`` command line.
"""

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from advisor.core import Advisor, RunResult

__all__ = ["Advisor", "RunResult", "__version__"]


def __getattr__(name: str) -> Any:
    """``Advisor`` and ``RunResult`` load on first use (torch and friends are heavy to import)."""
    if name in ("Advisor", "RunResult"):
        from advisor import core  # noqa: PLC0415

        return getattr(core, name)
    raise AttributeError(f"module 'advisor' has no attribute {name!r}")
