"""How to read a data file: the options of every command that reads one, declared once.

``advisor datasets inspect``, ``advisor recommend``, ``advisor run`` and ``advisor sources
build-from`` read a user's file the same way, so a file that ``inspect`` accepts with some
options is read by the other commands with the same options. Each option is a field of
:class:`~advisor.datasets.LoadOptions`; its default is left to it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

Command = TypeVar("Command", bound=Callable[..., Any])

_OPTIONS = (
    click.option("--label", help="Label column (name or position like -1), or NPZ array name."),
    click.option(
        "--drop",
        multiple=True,
        metavar="COLUMN[,COLUMN…]",
        help="Leave these columns of a table out of the features (repeatable).",
    ),
    click.option(
        "--identifiers",
        type=click.Choice(["drop", "keep"]),
        help="Columns that look like row identifiers (every value different: texts, or whole "
        "numbers named like an id or running in sequence): drop them, warned (default), or "
        "keep them as features.",
    ),
    click.option(
        "--format",
        "fmt",
        type=click.Choice(
            ["csv", "tsv", "parquet", "npz", "json", "jsonl", "image_zip", "image_folder"]
        ),
        help="Override format detection.",
    ),
    click.option("--modality", type=click.Choice(["image", "vector"]), help="Override detection."),
    click.option(
        "--encoding", help="Text encoding of CSV/TSV/JSON (e.g. cp1250); detected if omitted."
    ),
    click.option(
        "--categorical",
        type=click.Choice(["onehot", "ordinal"]),
        help="Encoding of categorical columns (default: onehot).",
    ),
    click.option(
        "--missing",
        type=click.Choice(["impute", "error"]),
        help="Impute missing feature values (default), or refuse the file.",
    ),
    click.option(
        "--image-size",
        help="Resize images to HxW (default 28x28); 'keep' keeps their size (they must then "
        "agree).",
    ),
    click.option(
        "--color",
        type=click.Choice(["grayscale", "rgb"]),
        help="Image colour (default: grayscale).",
    ),
)
READING_OPTIONS = ("label", "drop", "identifiers", "fmt", "modality", "encoding", "categorical",
                   "missing", "image_size", "color")  # fmt: skip
"""The keyword arguments :func:`reading_options` adds to a command."""


def reading_options(command: Command) -> Command:
    """Add the file-reading options (``--label``, ``--drop``, ``--image-size``…) to a command."""
    for option in reversed(_OPTIONS):
        command = option(command)
    return command


def loader_keywords(values: dict[str, Any]) -> dict[str, Any]:
    """Take the reading options out of a command's ``values``, as ``load_dataset`` keywords.

    Options left unset are omitted (:class:`~advisor.datasets.LoadOptions` has the defaults);
    a label of digits is a column position; ``--drop a,b --drop c`` drops three columns.
    """
    given = {name: values.pop(name, None) for name in READING_OPTIONS}
    keywords: dict[str, Any] = {k: v for k, v in given.items() if v not in (None, ())}
    if "fmt" in keywords:
        keywords["format"] = keywords.pop("fmt")
    label = keywords.get("label")
    if isinstance(label, str) and label.lstrip("-").isdigit():
        keywords["label"] = int(label)
    if "drop" in keywords:
        names = [part.strip() for text in keywords["drop"] for part in text.split(",")]
        keywords["drop"] = [name for name in names if name]
    return keywords
