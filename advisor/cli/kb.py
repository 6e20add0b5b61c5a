"""``advisor kb build|evaluate``: the knowledge base the recommender learns from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from advisor.cli.output import reports_errors


@click.group()
def kb() -> None:
    """The knowledge base: measured runs of every learner on many tasks."""


def _grid(domains: tuple[str, ...], repeats: int, max_queries: int | None) -> list[Any]:
    """The task grid of ``build`` and ``finish``: the given domains (all by default)."""
    from advisor.kb import default_grid  # noqa: PLC0415
    from advisor.kb.domains import DOMAIN_BY_NAME, KB_DOMAINS  # noqa: PLC0415
    from advisor.kb.grid import MAX_QUERIES  # noqa: PLC0415

    unknown = sorted({d for d in domains if d not in DOMAIN_BY_NAME})
    if unknown:
        raise click.BadParameter(
            f"not a domain of the grid: {', '.join(unknown)} (the domains: "
            f"{', '.join(d.name for d in KB_DOMAINS)})",
            param_hint="--domain",
        )
    chosen = [DOMAIN_BY_NAME[d] for d in domains] if domains else list(KB_DOMAINS)
    cap = MAX_QUERIES if max_queries is None else max_queries
    return list(default_grid(domains=chosen, repeats=repeats, max_queries=cap))


def _options(
    domains: tuple[str, ...], repeats: int, max_queries: int | None, limit: int | None
) -> dict[str, Any]:
    """The grid options as the provenance records them (``builds[].options``)."""
    return {
        "domains": sorted(set(domains)) or "all",
        "repeats": repeats,
        "max_queries": max_queries,
        "limit": limit,
    }


def _limit_option(function: Any) -> Any:
    return click.option(
        "--limit",
        type=click.IntRange(min=1),
        help="Only the first N tasks of the grid (for a trial run).",
    )(function)


def _repeats_option(function: Any) -> Any:
    return click.option(
        "--repeats",
        default=2,
        show_default=True,
        type=click.IntRange(min=1),
        help="Seeds per grid point.",
    )(function)


def _max_queries_option(function: Any) -> Any:
    return click.option(
        "--max-queries",
        type=click.IntRange(min=15),
        default=None,
        help="Measure each task on up to this many query examples per class, as the domain "
        "allows (15 at least; more queries, less noise in every accuracy). Default: 60 for "
        "image domains, 300 for vector ones.",
    )(function)


@kb.command()
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The KB file to write (Parquet; a JSON provenance record goes beside it).",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Processes to measure with.",
)
@_repeats_option
@click.option("--domain", "domains", multiple=True, help="Only these domains (repeatable).")
@_limit_option
@click.option(
    "--tuned",
    default=0,
    show_default=True,
    type=click.IntRange(min=0),
    help="Also tune every family on this many tasks (seeded choice).",
)
@click.option(
    "--tuned-trials",
    default=10,
    show_default=True,
    type=click.IntRange(min=1),
    help="Trials of those studies.",
)
@_max_queries_option
@reports_errors
def build(
    *,
    out: Path,
    workers: int,
    repeats: int,
    domains: tuple[str, ...],
    limit: int | None,
    tuned: int,
    tuned_trials: int,
    max_queries: int | None,
) -> None:
    """Measure every learner on the task grid (resumable: rerun to continue).

    A knowledge base already at --out is extended, not replaced: its tasks are kept and only
    the grid's missing ones are measured (so a partial one from `kb finish` resumes too).
    A build that ends with some of its tasks still missing writes what it has, says so and
    exits with status 1 (`kb.incomplete`): rerun the same command to measure the rest.
    """
    from advisor.errors import KB_INCOMPLETE, AdvisorError  # noqa: PLC0415
    from advisor.kb import build_kb  # noqa: PLC0415

    specs = _grid(domains, repeats, max_queries)
    if limit is not None:
        specs = specs[:limit]
    table = build_kb(
        specs,
        out,
        workers=workers,
        tuned=tuned,
        tuned_trials=tuned_trials,
        note=click.echo,
        options=_options(domains, repeats, max_queries, limit),
    )
    click.echo(f"Wrote {out}: {table['task_id'].nunique()} tasks, {len(table)} rows")
    this_build = table.attrs.get("provenance", {}).get("builds", [{}])[-1]
    if not this_build.get("complete", True):
        raise AdvisorError(
            f"The knowledge base {str(out)!r} is incomplete: it holds {this_build['measured']} "
            f"of the {this_build['grid_tasks']} tasks of this grid. Rerun the same command to "
            "measure the rest.",
            code=KB_INCOMPLETE,
        )


@kb.command()
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The KB file an unfinished build is writing.",
)
@_repeats_option
@click.option("--domain", "domains", multiple=True, help="Only these domains (repeatable).")
@_limit_option
@click.option(
    "--tuned-trials",
    default=10,
    show_default=True,
    type=click.IntRange(min=1),
    help="As given to build.",
)
@_max_queries_option
@reports_errors
def finish(
    *,
    out: Path,
    repeats: int,
    domains: tuple[str, ...],
    limit: int | None,
    tuned_trials: int,
    max_queries: int | None,
) -> None:
    """Write the KB from the tasks an unfinished build measured so far (it can resume later).

    Give the grid options the build was started with; the provenance records how many of
    the grid's tasks the file holds.
    """
    from advisor.kb.build import finish_kb  # noqa: PLC0415

    specs = _grid(domains, repeats, max_queries)
    if limit is not None:
        specs = specs[:limit]
    table = finish_kb(
        specs,
        out,
        tuned_trials=tuned_trials,
        keep_parts=True,
        options=_options(domains, repeats, max_queries, limit),
    )
    tasks = table["task_id"].nunique()
    click.echo(f"Wrote {out}: {tasks} of the grid's {len(specs)} tasks, {len(table)} rows")


@kb.command()
@click.option(
    "--kb",
    "path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The KB to evaluate (default: the shipped one).",
)
@click.option("--per-domain", is_flag=True, help="Also print the table per held-out domain.")
@click.option(
    "--held-out",
    "held_out",
    multiple=True,
    help="Hold out only this domain (repeatable; default: every domain in turn).",
)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1), help="Processes.")
@reports_errors
def evaluate(
    *, path: Path | None, per_domain: bool, held_out: tuple[str, ...], workers: int
) -> None:
    """Leave-one-domain-out evaluation of the recommender against the baselines."""
    from advisor.kb.evaluate import evaluate as run_evaluation  # noqa: PLC0415
    from advisor.kb.evaluate import markdown  # noqa: PLC0415
    from advisor.kb.store import read_kb  # noqa: PLC0415

    table = read_kb(path)
    unknown = sorted(set(held_out) - set(table["domain"]))
    if unknown:
        raise click.BadParameter(
            f"not a domain of the knowledge base: {', '.join(unknown)}", param_hint="--held-out"
        )
    by_domain, overall = run_evaluation(
        table, held_out=list(held_out) or None, workers=workers, progress=True
    )
    click.echo(markdown(overall))
    if per_domain:
        click.echo("\n" + markdown(by_domain))


@kb.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The KB file to write (may be PATH itself: it is replaced once all is measured).",
)
@click.option(
    "--modality",
    "modalities",
    type=click.Choice(["image", "vector"]),
    multiple=True,
    help="Only tasks of this kind of data (repeatable; all by default).",
)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1), help="Processes.")
@reports_errors
def remeasure(*, path: Path | None, out: Path, modalities: tuple[str, ...], workers: int) -> None:
    """Measure the meta-features of a KB's tasks again, keeping every learner's outcome.

    After a change to the meta-feature extractor: each task's support set is drawn again from
    its descriptor and measured as the advisor now measures data. PATH defaults to the
    shipped knowledge base.
    """
    from advisor.kb.remeasure import remeasure as run_remeasure  # noqa: PLC0415
    from advisor.kb.store import SHIPPED  # noqa: PLC0415

    table = run_remeasure(
        path or SHIPPED, out, modalities=modalities or None, workers=workers, note=click.echo
    )
    click.echo(f"Wrote {out}: {table['task_id'].nunique()} tasks, {len(table)} rows")
