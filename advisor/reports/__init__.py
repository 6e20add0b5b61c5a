"""Reports of recommendations and runs: self-contained HTML, Markdown, JSON."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from advisor.reports.content import build_report
from advisor.reports.render import write
from advisor.schemas import Recommendation

if TYPE_CHECKING:
    from PIL import Image

    from advisor.core import Advisor, RunResult
    from advisor.datasets.summary import DataSummary


def write_report(
    result: RunResult | Recommendation,
    path: Path,
    *,
    format: str,
    advisor: Advisor,
    data: DataSummary | None = None,
    picture: Image.Image | None = None,
) -> Path:
    """Build the report of ``result`` and write it to ``path`` in ``format``.

    ``data`` and ``picture`` describe the data a recommendation was made for (a run keeps its
    own).
    """
    return write(build_report(result, advisor, data=data, picture=picture), path, format)


__all__ = ["build_report", "write_report"]
