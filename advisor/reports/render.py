"""Writing a :class:`~advisor.reports.parts.Report` as HTML, Markdown or JSON.

* **HTML** is one self-contained file: figures are inline PNG (base64), the style is inline, and
  nothing is fetched from the network.
* **Markdown** is a ``.md`` file with its figures as PNG files in a ``<name>_files`` folder.
* **JSON** is the report's data (the run summary or the recommendation), for programs.
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from advisor.errors import ConfigurationError, define_code
from advisor.reports.parts import Report
from advisor.writing import write_atomically, writing

FORMATS = ("html", "md", "json")
BAD_FORMAT = define_code("report.bad_format", "Reports are written as html, md or json.")

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 860px; margin: 2em auto; color: #222;
       line-height: 1.45; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 1.8em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
td, th { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
th { background: #f3f5f8; } img { max-width: 100%; } code { background: #f3f3f3; }
"""


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()


def _inline(text: str) -> str:
    """Markdown emphasis and code of a paragraph, as HTML (after escaping)."""
    escaped = html.escape(text)
    escaped = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", escaped)
    escaped = re.sub(r"\*(.+?)\*", r"<em>\1</em>", escaped)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", escaped)


def to_html(report: Report) -> str:
    """The report as one self-contained HTML page."""
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(report.title)}"
        f"</title><style>{_STYLE}</style></head><body><h1>{html.escape(report.title)}</h1>"
    ]
    for section in report.sections:
        parts.append(f"<section><h2>{html.escape(section.title)}</h2>")
        parts += [f"<p>{_inline(p)}</p>" for p in section.paragraphs]
        for header, rows in section.tables:
            parts.append(
                "<table><tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in header) + "</tr>"
            )
            parts += [
                "<tr>" + "".join(f"<td>{_inline(str(c))}</td>" for c in row) + "</tr>"
                for row in rows
            ]
            parts.append("</table>")
        for caption, figure in section.figures:
            encoded = base64.b64encode(_png(figure)).decode()
            parts.append(
                f"<figure><img alt='{html.escape(caption)}' "
                f"src='data:image/png;base64,{encoded}'></figure>"
            )
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)


def to_markdown(report: Report, assets: Path) -> str:
    """The report as Markdown; figures are written as PNG files into ``assets``."""
    lines = [f"# {report.title}", ""]
    for section in report.sections:
        lines += [f"## {section.title}", ""]
        for paragraph in section.paragraphs:
            lines += [paragraph, ""]
        for header, rows in section.tables:
            lines.append("| " + " | ".join(str(h) for h in header) + " |")
            lines.append("| " + " | ".join("---" for _ in header) + " |")
            lines += [
                "| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows
            ]
            lines.append("")
        for caption, figure in section.figures:
            assets.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^a-z0-9]+", "-", caption.lower()).strip("-") + ".png"
            (assets / name).write_bytes(_png(figure))
            lines += [f"![{caption}]({assets.name}/{name})", ""]
    return "\n".join(lines)


def write(report: Report, path: Path, format: str) -> Path:
    """Write ``report`` to ``path`` in ``format``; return the path.

    The file is written whole or not at all (:func:`advisor.writing.write_atomically`).

    Raises:
        ConfigurationError: ``report.bad_format``; ``io.unwritable`` when ``path`` (or the
            Markdown's figures folder) cannot be written.
    """
    if format not in FORMATS:
        raise ConfigurationError(
            f"Unknown report format {format!r}; use {FORMATS}.", code=BAD_FORMAT
        )
    if format == "html":
        text = to_html(report)
    elif format == "md":
        assets = path.with_name(path.stem + "_files")
        with writing(path, "the report"):  # its figures first, beside it
            path.parent.mkdir(parents=True, exist_ok=True)
            text = to_markdown(report, assets)
    else:
        document: dict[str, Any] = {"title": report.title, **report.data}
        text = json.dumps(document, indent=2, default=str)
    return write_atomically(path, text, what="the report")
