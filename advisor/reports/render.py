"""Writing a :class:`~advisor.reports.parts.Report` as HTML, Markdown or JSON.

* **HTML** is one self-contained file: figures are inline PNG (base64), the style is inline, and
  nothing is fetched from the network.
* **Markdown** is a ``.md`` file with its figures as PNG files in a ``<name>_files`` folder.
* **JSON** is the report's data (the run summary or the recommendation), for programs.

What the sections hand over is of two kinds, and user text (class, column and file names,
warnings) must come out literally in both:

* **Table cells, titles and captions are plain text**: never formatted, only escaped (HTML
  entities; in Markdown a backslash before every character Markdown could read as markup,
  line breaks folded to spaces, so that a class named ``<script>``, ``*z*`` or ``a|b`` is shown
  as written and cannot break its table row).
* **Paragraphs are a small markup of the project's own**: ``**strong**``, ``*emphasis*``,
  code between backticks, and a backslash before a backslash, ``*`` or backtick to write it
  as such — nothing else (no raw HTML, links or headings). Both formats parse it alike
  (:func:`_inline`) and write everything outside it literally, so no paragraph can carry HTML
  into a page or a Markdown viewer. User text that a section puts into a paragraph goes
  through :func:`literal` first, so that its ``*`` and backticks are shown rather than read
  as the project's emphasis and code.
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
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


_SPECIAL = re.compile(r"[\\*`]")  # what the paragraphs' markup reads
_INLINE = re.compile(  # the paragraphs' markup; emphasis holds no unescaped '*'
    r"\\(?P<escaped>[\\*`])"
    r"|`(?P<code>[^`]+)`"
    r"|\*\*(?P<strong>(?:\\.|[^\\*])+?)\*\*"
    r"|\*(?P<em>(?:\\.|[^\\*])+?)\*",
    re.DOTALL,
)
# CommonMark's (and GitHub's) inline markup: raw HTML, entities, links, emphasis, code,
# strikethrough, math ($…$), table pipes, and '#' for a heading where text opens a line.
_MARKDOWN_SPECIAL = re.compile(r"[\\`*_\[\]<>#|~$]|&(?=#?\w+;)")
_LINE_BREAK = re.compile(r"\r\n?|\n")


def literal(text: str) -> str:
    """``text`` to be shown as written inside a paragraph: backslashes, ``*`` and backticks escaped.

    For user text (a file, class or column name) that a section puts into a paragraph; table
    cells need nothing, they are never formatted.
    """
    return _SPECIAL.sub(r"\\\g<0>", text)


@dataclass(frozen=True)
class _Markup:
    """How one format writes the paragraphs' markup, and plain text."""

    text: Callable[[str], str]
    code: Callable[[str], str]
    strong: Callable[[str], str]
    em: Callable[[str], str]


def _inline(source: str, markup: _Markup) -> str:
    """A paragraph (the module docstring's markup) written in ``markup``'s format."""
    out, end = [], 0
    for match in _INLINE.finditer(source):
        out.append(markup.text(source[end : match.start()]))
        end = match.end()
        if (escaped := match["escaped"]) is not None:
            out.append(markup.text(escaped))
        elif (code := match["code"]) is not None:
            out.append(markup.code(code))
        elif (strong := match["strong"]) is not None:
            out.append(markup.strong(_inline(strong, markup)))
        else:
            out.append(markup.em(_inline(match["em"], markup)))
    out.append(markup.text(source[end:]))
    return "".join(out)


def _markdown_text(text: str) -> str:
    """Plain text as Markdown that shows it as written, on one line.

    A ``_`` between two letters or digits is left alone (``shots_min``): CommonMark never
    reads it as emphasis.
    """
    text = _LINE_BREAK.sub(" ", text)

    def escaped(match: re.Match[str]) -> str:
        at = match.start()
        intraword = 0 < at < len(text) - 1 and text[at - 1].isalnum() and text[at + 1].isalnum()
        return "_" if match[0] == "_" and intraword else "\\" + match[0]

    return _MARKDOWN_SPECIAL.sub(escaped, text)


_HTML = _Markup(
    text=html.escape,
    code=lambda code: f"<code>{html.escape(code)}</code>",
    strong=lambda inner: f"<strong>{inner}</strong>",
    em=lambda inner: f"<em>{inner}</em>",
)
_MARKDOWN = _Markup(
    text=_markdown_text,
    code=lambda code: f"`{_LINE_BREAK.sub(' ', code)}`",  # the markup's code holds no backtick
    strong=lambda inner: f"**{inner}**",
    em=lambda inner: f"*{inner}*",
)


def to_html(report: Report) -> str:
    """The report as one self-contained HTML page."""
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(report.title)}"
        f"</title><style>{_STYLE}</style></head><body><h1>{html.escape(report.title)}</h1>"
    ]
    for section in report.sections:
        parts.append(f"<section><h2>{html.escape(section.title)}</h2>")
        parts += [f"<p>{_inline(p, _HTML)}</p>" for p in section.paragraphs]
        for header, rows in section.tables:
            parts.append(
                "<table><tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in header) + "</tr>"
            )
            parts += [
                "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>"
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
    lines = [f"# {_markdown_text(report.title)}", ""]
    for section in report.sections:
        lines += [f"## {_markdown_text(section.title)}", ""]
        for paragraph in section.paragraphs:
            lines += [_inline(paragraph, _MARKDOWN), ""]
        for header, rows in section.tables:
            lines.append("| " + " | ".join(_markdown_text(str(h)) for h in header) + " |")
            lines.append("| " + " | ".join("---" for _ in header) + " |")
            lines += ["| " + " | ".join(_markdown_text(str(c)) for c in row) + " |" for row in rows]
            lines.append("")
        for caption, figure in section.figures:
            assets.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^a-z0-9]+", "-", caption.lower()).strip("-") + ".png"
            (assets / name).write_bytes(_png(figure))
            lines += [f"![{_markdown_text(caption)}]({assets.name}/{name})", ""]
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
