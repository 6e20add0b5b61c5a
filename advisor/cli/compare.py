"""``advisor compare``: two saved runs on the same labeled rows, with a paired test."""

from __future__ import annotations

from pathlib import Path

import click

from advisor.cli.advise import METRICS
from advisor.cli.output import print_json, reports_errors, table


@click.command()
@click.argument("run_a", metavar="RUN_A")
@click.argument("run_b", metavar="RUN_B")
@click.argument("data", type=click.Path(exists=False, path_type=Path))
@click.option(
    "--label",
    help="The rows' label column (name or position) or NPZ array; images in class folders "
    "are labeled by them.",
)
@click.option(
    "--metric",
    type=click.Choice(METRICS),
    help="What to compare [default: RUN_A's metric].",
)
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
@reports_errors
def compare(
    *, run_a: str, run_b: str, data: Path, label: str | None, metric: str | None, as_json: bool
) -> None:
    """Score two runs' models on the same labeled rows of DATA and test their difference.

    Each run reads DATA its own way (a table with its own encoder, images at its size). The
    test is paired, on the rows one model gets right and the other wrong: McNemar's exact test
    for accuracy, its weighted (sign-flip) form for balanced accuracy.
    """
    from advisor.comparison import compare_predictions, reading_warnings, unlabeled  # noqa: PLC0415
    from advisor.core import load_run  # noqa: PLC0415 - keep `advisor --help` fast

    column = int(label) if label is not None and label.lstrip("-").isdigit() else label
    runs = [load_run(run_a), load_run(run_b)]
    answers = [run.classify(data, label=column) for run in runs]
    for classified in answers:
        if classified.rows.y is None:
            raise unlabeled(str(data))
    chosen = metric or runs[0].metric
    result = compare_predictions(
        answers[0].rows.y,
        answers[0].predictions.labels,
        answers[1].predictions.labels,
        chosen,  # type: ignore[arg-type]
    )
    result = result.model_copy(
        update={"warnings": reading_warnings(answers[0].rows.warnings, answers[1].rows.warnings)}
    )
    if as_json:
        print_json(result.model_dump() | {"run_a": run_a, "run_b": run_b})
        return
    rows = [
        (side, run.run_id, f"{run.family} ({run.variant})", f"{100 * score:.1f} %")
        for side, run, score in (("A", runs[0], result.score_a), ("B", runs[1], result.score_b))
    ]
    measure = chosen.replace("_", " ")
    click.echo(f"{result.rows} labeled rows of {data}; {measure}:\n")
    click.echo(table(("", "run", "learner", measure), rows))
    click.echo(
        f"\nDifference   {100 * result.difference:+.1f} points (A − B): A alone right on "
        f"{result.only_a} rows, B alone on {result.only_b}"
    )
    click.echo(f"p            {result.p_value:.3g} ({result.test})")
    click.echo(f"Verdict      {result.verdict}")
    for warning in result.warnings:
        click.echo(f"Warning      {warning}")
