"""Printing for the command line: tables, dataset summaries, errors."""

from __future__ import annotations

import json
import math
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import wraps
from typing import Any, TextIO, TypeVar

import click

import meta_features as mf
from advisor.datasets import Dataset
from advisor.errors import IO_ERROR, AdvisorError, AdvisorWarning

F = TypeVar("F", bound=Callable[..., Any])


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain left-aligned text table."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def trial_count(trials: int) -> str:
    """``1 trial``, ``5 trials``: the finished trials of a run (complete, pruned or failed)."""
    return f"{trials} trial{'' if trials == 1 else 's'}"


def print_json(document: Any) -> None:
    """Pretty JSON on standard output."""
    click.echo(json.dumps(document, indent=2, ensure_ascii=False, default=str))


def describe(dataset: Dataset) -> str:
    """A human summary of a dataset and its validation."""
    info = dataset.info
    shape = "x".join(str(s) for s in info.input_shape)
    if info.modality == "image":
        channels = "RGB" if len(info.input_shape) == 3 else "grayscale"
        kind = f"{info.n_rows} images, {shape} {channels}"
    else:
        kind = f"{info.n_rows} rows, {info.n_features} features after encoding"
    size = f", {info.size_bytes:,} bytes" if info.size_bytes is not None else ""
    digest = f", sha256 {info.sha256[:12]}…" if info.sha256 else ""
    lines = [
        f"Dataset    {info.name}  ({info.format}{size}{digest})",
        "Verdict    VALID",
        f"Examples   {kind}",
        f"Classes    {info.n_classes}  (examples per class: min {info.shots.min}, "
        f"median {info.shots.median:g}, max {info.shots.max})",
    ]
    if info.text_encoding:
        delimiter = {"\t": "TAB", None: "-"}.get(info.delimiter, info.delimiter)
        lines.append(f"Text       encoding {info.text_encoding}, delimiter {delimiter!r}")
    if info.label_column:
        lines.append(f"Label      {info.label_column}")
    if info.tabular is not None:
        lines.append(f"Missing    {info.n_missing} values ({info.tabular.missing_policy})")
        rows = [
            (c.name, c.dtype, c.kind, c.role, c.n_missing, c.n_unique) for c in info.tabular.columns
        ]
        shown = rows[:30]
        lines += ["", table(("column", "dtype", "kind", "role", "missing", "distinct"), shown)]
        if len(rows) > len(shown):
            lines.append(f"… and {len(rows) - len(shown)} more columns")
    largest = sorted(info.class_counts.items(), key=lambda kv: (-kv[1], kv[0]))
    preview = ", ".join(f"{label} ({n})" for label, n in largest[:8])
    lines += ["", f"Classes    {preview}{' …' if len(largest) > 8 else ''}"]
    lines += [f"Warning    {w}" for w in info.warnings]
    return "\n".join(lines)


CLASSIC_GROUPS = ("general", "statistical", "info-theory", "landmarking")


def classic_meta_features(dataset: Dataset) -> mf.MetaFeatures:
    """The source-free meta-features of a dataset, measured as the advisor measures data."""
    from advisor.kb.runner import measure  # noqa: PLC0415

    return measure(
        dataset.X,
        dataset.y,
        source=None,
        seed=0,
        categorical=dataset.categorical_mask,
        groups=CLASSIC_GROUPS,
    )


def describe_meta_features(features: mf.MetaFeatures) -> str:
    """Meta-features as a table: name, value, and the reason where a value is undefined."""
    rows = [
        (name, "—" if math.isnan(value) else f"{value:.4g}", features.reasons.get(name, ""))
        for name, value in features.items()
    ]
    total = sum(features.timings.values())
    header = f"Meta-features  ({len(rows)} in {total * 1000:.0f} ms; view: {features.view})"
    return header + "\n\n" + table(("name", "value", "note"), rows)


def fail(error: AdvisorError) -> None:
    """Print an error with its code on standard error and exit with status 1."""
    click.secho(f"error [{error.code}]: {error.message}", fg="red", err=True)
    sys.exit(1)


def os_failure(error: OSError) -> AdvisorError:
    """An ``OSError`` no command turned into a coded error, as ``io.error``: path and reason."""
    reason = error.strerror or str(error) or type(error).__name__
    paths = [str(p) for p in (error.filename, error.filename2) if p is not None]
    where = f" ({' -> '.join(paths)})" if paths else ""
    return AdvisorError(
        f"A file operation failed: {reason}{where}.", code=IO_ERROR, reason=reason, paths=paths
    )


def reports_errors(function: F) -> F:
    """Decorator: turn the project's errors into a one-line message and exit status 1.

    The project's errors are printed with their code; an ``OSError`` that reached here (a file
    no command expected to fail) as ``io.error`` with its path and reason — never a traceback.
    The advisor's warnings (:class:`~advisor.errors.AdvisorWarning`) are printed as one
    ``warning: ...`` line each on standard error.
    """

    @wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with advisor_warnings_shown():
                return function(*args, **kwargs)
        except AdvisorError as error:
            fail(error)
        except OSError as error:
            fail(os_failure(error))
        return None

    return wrapper  # type: ignore[return-value]


@contextmanager
def advisor_warnings_shown() -> Iterator[None]:
    """Within the block, an :class:`~advisor.errors.AdvisorWarning` prints as ``warning: ...``.

    Other warnings are shown as Python shows them.
    """
    previous = warnings.showwarning

    def show(  # noqa: PLR0917 - the signature of warnings.showwarning
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        if issubclass(category, AdvisorWarning):
            click.secho(f"warning: {message}", fg="yellow", err=True)
        else:
            previous(message, category, filename, lineno, file, line)

    with warnings.catch_warnings():  # restores the filters and showwarning after
        warnings.simplefilter("always", AdvisorWarning)
        warnings.showwarning = show
        yield
