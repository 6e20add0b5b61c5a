"""Reports of recommendations and runs: self-contained HTML, Markdown, JSON."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from advisor.reports.content import build_report
from advisor.reports.render import write
from advisor.schemas import Recommendation

if TYPE_CHECKING:
    from advisor.core import Advisor, RunResult


def write_report(
    result: RunResult | Recommendation,
    path: Path,
    *,
    format: str,
    advisor: Advisor,
) -> Path:
    """Build the report of ``result`` and write it to ``path`` in ``format``."""
    return write(build_report(result, advisor), path, format)


__all__ = ["build_report", "write_report"]
