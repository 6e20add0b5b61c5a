"""User text in the reports (class, column and file names) is shown as written, in HTML and in
Markdown, while the report's own emphasis and code still render."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from advisor.datasets.summary import DataSummary
from advisor.reports.content import BACKGROUND, _data_section
from advisor.reports.parts import Report, Section
from advisor.reports.render import literal, to_html, to_markdown
from advisor.reports.run_sections import _confusion_section, _importance_section
from advisor.schemas import ColumnImportance

NAMES = ["<script>alert(1)</script>", "*z*", "a|b", "x\ny", "tri*angle*", "`c`"]
HOSTILE_FILE = "<img src=x onerror=alert(1)>[a](javascript:alert(1)).csv"


def report() -> Report:
    """A report with the names as classes, as columns and in a file name, and its own markup."""
    classes = len(NAMES)
    confusion = [[5 if row == column else 1 for column in range(classes)] for row in range(classes)]
    data = DataSummary(
        modality="vector",
        examples=60,
        example_shape=[6],
        class_counts=dict.fromkeys(NAMES, 10),
        name=HOSTILE_FILE,
        format="csv",
    )
    importance = [ColumnImportance(column=name, drop=0.1, spread=0.01) for name in NAMES]
    own = Section(
        "Own markup",
        ["**strong** and `code` and *emphasis*, then " + literal("*z* `c` \\ end") + " as is."],
    )
    return Report(
        "r",
        [
            _data_section(data, None),
            _confusion_section(confusion, NAMES),
            _importance_section(importance, "accuracy"),
            own,
            Section("Background", BACKGROUND),
        ],
        {},
    )


def test_html_shows_user_names_as_written(tmp_path: Path) -> None:
    page = to_html(report())
    assert "<script>" not in page and "<img" not in page.replace("<img alt=", "")
    assert "<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>" in page
    for cell in ("*z*", "a|b", "tri*angle*", "`c`"):
        assert f"<td>{cell}</td>" in page  # neither <em> nor <code> around it
    assert "<td>x\ny</td>" in page
    assert "<em>z</em>" not in page and "<em>angle</em>" not in page
    assert "<code>c</code>" not in page
    # The file's name in the data's paragraph: escaped, no link made of it.
    assert "read from &lt;img src=x onerror=alert(1)&gt;[a](javascript:alert(1)).csv" in page
    assert "<a " not in page
    # The report's own markup still renders, and a literal() in a paragraph is shown as is.
    assert (
        "<p><strong>strong</strong> and <code>code</code> and <em>emphasis</em>, then "
        "*z* `c` \\ end as is.</p>"
    ) in page
    assert "<strong>Transfer learning</strong>" in page and "<em>negative transfer</em>" in page


def test_markdown_escapes_user_names_and_keeps_the_table_rows(tmp_path: Path) -> None:
    text = to_markdown(report(), tmp_path)
    assert not re.search(r"(?<!\\)[<>]", text)  # no raw HTML: every '<' and '>' escaped
    words = "\n".join(line for line in text.splitlines() if not line.startswith("!["))
    assert not re.search(r"(?<!\\)\]\(", words)  # nor a link, but for the own figures
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert all(line.endswith(" |") for line in rows)  # no row split by a line break
    for row in ("| \\*z\\* | 10 |", "| a\\|b | 10 |", "| x y | 10 |", "| tri\\*angle\\* | 10 |"):
        assert row in rows
    assert "| \\<script\\>alert(1)\\</script\\> | 10 |" in rows
    assert "| \\`c\\` | 10 |" in rows
    assert "| \\*z\\* | 10 | 50.0 % | 50.0 % | 50.0 % |" in rows  # the confusion matrix
    assert "| tri\\*angle\\* | +10.0 | 1.0 |" in rows  # the columns the model relies on
    assert "read from \\<img src=x onerror=alert(1)\\>\\[a\\](javascript:alert(1)).csv" in text
    # The report's own markup is left as Markdown; the literal() text is escaped.
    assert (
        "**strong** and `code` and *emphasis*, then \\*z\\* \\`c\\` \\\\ end as is."
        in text.split("\n")
    )
    assert "**Transfer learning** starts" in text and "*negative transfer*" in text


def test_plain_text_keeps_what_markdown_cannot_misread(tmp_path: Path) -> None:
    """An underscore inside a word (``shots_min``) cannot be emphasis: it stays unescaped;
    one at a word's edge, an entity, a heading mark and GitHub's math are escaped."""
    cells = [["shots_min"], ["_z_"], ["&amp; #1"], ["$5-$10"], ["AT&T"]]
    text = to_markdown(Report("r", [Section("s", tables=[(["name"], cells)])], {}), tmp_path)
    assert text.splitlines()[6:] == [
        "| shots_min |",
        "| \\_z\\_ |",
        "| \\&amp; \\#1 |",
        "| \\$5-\\$10 |",
        "| AT&T |",
    ]


def test_a_commonmark_reader_shows_the_names_as_written(tmp_path: Path) -> None:
    markdown_it = pytest.importorskip("markdown_it")
    rendered = (
        markdown_it.MarkdownIt("commonmark").enable("table").render(to_markdown(report(), tmp_path))
    )
    assert "<script>" not in rendered and "<em>z</em>" not in rendered
    assert "<a " not in rendered and "<em>angle</em>" not in rendered
    for cell in ("&lt;script&gt;alert(1)&lt;/script&gt;", "*z*", "a|b", "x y", "tri*angle*"):
        assert f"<td>{cell}</td>" in rendered
    assert "<td>`c`</td>" in rendered
    assert "<strong>Transfer learning</strong>" in rendered
    assert "<em>negative transfer</em>" in rendered
    assert "then *z* `c` \\ end as is." in rendered


def test_a_file_name_in_a_paragraph_is_shown_as_written(tmp_path: Path) -> None:
    """The data section's sentence names the file: its * and backticks are not markup."""
    data = DataSummary(
        modality="vector",
        examples=20,
        example_shape=[2],
        class_counts={"a": 10, "b": 10},
        name="*my*_`data`.csv",
        format="csv",
    )
    page = to_html(Report("r", [_data_section(data, None)], {}))
    assert "read from *my*_`data`.csv (csv)" in page
    assert "<em>my</em>" not in page and "<code>data</code>" not in page
    assert "read from \\*my\\*\\_\\`data\\`.csv" in to_markdown(
        Report("r", [_data_section(data, None)], {}), tmp_path
    )
