"""The parts every report is made of: sections, the report, and how numbers are written."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from matplotlib.figure import Figure


@dataclass
class Section:
    """A titled part of a report."""

    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[tuple[list[str], list[list[Any]]]] = field(default_factory=list)
    figures: list[tuple[str, Figure]] = field(default_factory=list)


@dataclass
class Report:
    """A report's title, sections, and its data for the JSON form."""

    title: str
    sections: list[Section]
    data: dict[str, Any]


def percent(accuracy: float | None) -> str:
    """An accuracy in percent, or a dash where it was not measured (own runs measure two)."""
    if accuracy is None or not math.isfinite(accuracy):
        return "—"
    return f"{100 * accuracy:.1f} %"


def figure_label(text: object) -> str:
    r"""``text`` (a class or column name) as a figure shows it: literally.

    Matplotlib reads a pair of ``$`` as a formula (mathtext): a class named ``$5-$10`` would be
    drawn as one, and ``$\foo{$`` would stop the figure with a parse error. Each ``$`` is
    escaped (``\$``), which mathtext draws as a plain dollar sign.
    """
    return str(text).replace("$", r"\$")


def number(value: Any) -> str:
    """A parameter's value as text: floats to 4 significant digits, a dash for none."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return "—" if np.isnan(value) else f"{value:.4g}"
    return str(value)
