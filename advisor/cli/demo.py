"""``advisor demo``: the main job on the embedded defaults, end to end, in a few minutes.

The built-in ``glyphs`` source; a target task it never saw (5-way 5-shot Greek letters, a
script outside the source); the recommendation with its explanation; a short tuned run of the
recommended family, scored on the task's queries; the report. Nothing is downloaded and no
server is needed.
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from advisor.cli.advise import (
    describe_recommendation,
    interval_text,
    progress_stream,
    recommend_in_steps,
)
from advisor.cli.output import reports_errors


def _step(number: int, total: int, title: str) -> None:
    click.secho(f"\n[{number}/{total}] {title}", bold=True)


@click.command()
@click.option(
    "--out",
    default="demo-output",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to write files.",
)
@click.option(
    "--trials",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="Trials of the tuned run.",
)
@reports_errors
def demo(out: Path, trials: int) -> None:
    """A tour of AutoML Advisor on its built-in data (no server, no download)."""
    import optuna  # noqa: PLC0415 (imported by the commands that run studies only)

    from advisor.core import Advisor  # noqa: PLC0415 - keep `advisor --help` fast
    from advisor.datasets import load_builtin, make_dataset, sample_task  # noqa: PLC0415
    from advisor.datasets.preview import save_preview  # noqa: PLC0415
    from advisor.datasets.writers import write_dataset  # noqa: PLC0415

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    total = 4
    started = time.perf_counter()
    _step(1, total, "The source: glyphs, and a target task it never saw")
    adv = Advisor("glyphs")
    source = adv.source
    click.echo(
        f"source  {source.name}: {source.backbone} backbone, {len(source.classes)} classes "
        f"of {', '.join(source.info.get('domains', []))}; starts "
        f"{', '.join(['pretrained', *source.meta])}"
    )
    greek = load_builtin("glyphs", "greek", seed=0)
    task = sample_task(greek, ways=5, shots=5, queries=15, seed=0)
    picture = save_preview(
        greek.take(task.support_index), out / "support.png", n_classes=5, n_examples=5
    )
    click.echo(
        f"task    5-way 5-shot Greek letters ({' '.join(map(str, task.classes))}): "
        f"support {task.X_support.shape}, query {task.X_query.shape}; images: {picture}"
    )

    _step(2, total, "The recommendation")
    recommendation = recommend_in_steps(
        adv, task.X_support, task.y_support, stream=progress_stream()
    )
    click.echo(describe_recommendation(recommendation))

    _step(3, total, f"A tuned run of the recommendation ({trials} Optuna trials)")
    result = adv.run(
        task.X_support, task.y_support, n_trials=trials, X_test=task.X_query, y_test=task.y_query
    )
    click.echo(
        f"{result.family} ({result.variant}): cross-validated {100 * result.cv_score:.1f} %"
        f" on the support set; {100 * (result.test_score or 0):.1f} % on the "
        f"{task.y_query.size} queries{interval_text(result.test_interval)}; model in "
        f"{result.model_path}"
    )

    _step(4, total, "The report")
    report = adv.report(result, out / "report.html")
    click.echo(f"{report} (self-contained HTML)")
    queries = write_dataset(make_dataset(task.X_query, task.y_query), out / "queries.zip")
    click.secho(
        f"\nDone in {time.perf_counter() - started:.0f} s. Next: advisor predict "
        f"{result.run_id} {queries} (the queries, in class folders: scored); advisor "
        "recommend YOUR_DATA --source SOURCE (see advisor sources build-from)",
        fg="green",
    )
