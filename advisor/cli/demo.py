"""``advisor demo``: the main job on the embedded defaults, end to end, in a minute.

Until the recommender lands (see the issues), the tour shows what exists: the built-in
benchmark domains, a few-shot task drawn from one, the meta-features the advisor will see of
it, each learning family's default learner on it, and two files written and read back through
the same loader users' files go through.
"""

from __future__ import annotations

import math
import textwrap
import time
from pathlib import Path

import click
import numpy as np

import meta_features as mf
from advisor.cli.output import describe, reports_errors
from advisor.datasets import domain_cards, load_builtin, load_dataset, sample_task
from advisor.datasets.preview import save_preview
from advisor.datasets.writers import write_dataset
from advisor.sources import get_source
from learners import FAMILIES, make_learner


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
@reports_errors
def demo(out: Path) -> None:
    """A tour of AutoML Advisor on its built-in data (no server, no download)."""
    total = 6
    _step(1, total, "Built-in benchmark domains")
    cards = domain_cards()
    by_family: dict[str, list[str]] = {}
    for card in cards:
        by_family.setdefault(card.family, []).append(f"{card.domain} ({card.n_classes})")
    for family, domains in by_family.items():
        click.echo(
            textwrap.fill(
                ", ".join(domains),
                width=96,
                initial_indent=f"{family:8} ",
                subsequent_indent=" " * 9,
            )
        )

    _step(2, total, "A 5-way 5-shot task drawn from glyphs/greek")
    greek = load_builtin("glyphs", "greek", seed=0)
    task = sample_task(greek, ways=5, shots=5, queries=15, seed=0)
    click.echo(
        f"support {task.X_support.shape}, query {task.X_query.shape}, classes "
        f"{' '.join(str(c) for c in task.classes)}"
    )

    _step(3, total, "What the advisor sees: the meta-features of that task against the source")
    source = get_source("glyphs")
    features = mf.extract(task.X_support, task.y_support, source=source.profile())
    defined = sum(not math.isnan(v) for v in features.values())
    taken = sum(features.timings.values()) * 1000
    click.echo(f"{defined} of {len(features)} defined in {taken:.0f} ms (view: {features.view})")
    for name in ("shots_min", "one_nn.mean", "mmd", "proxy_a_distance", "logme", "leep"):
        click.echo(f"  {name:18} {features[name]:.3f}")

    _step(4, total, "Each family's default learner on that task (query accuracy)")
    for family in FAMILIES:
        start = time.perf_counter()
        model = make_learner(family, source=None if family == "scratch" else source)
        model.fit(task.X_support, task.y_support)
        accuracy = float(np.mean(model.predict(task.X_query) == task.y_query))
        seconds = time.perf_counter() - start
        click.echo(f"  {family:9} {model.variant:13} {100 * accuracy:5.1f} %  ({seconds:.2f} s)")
    click.echo("  (choosing among them for your data is the advisor's job: the next issue)")

    _step(5, total, "An image dataset written as a zip of class folders, then inspected")
    archive = write_dataset(greek, out / "greek.zip")
    picture = save_preview(greek, out / "greek.png", n_classes=10, n_examples=10)
    click.echo(describe(load_dataset(archive)))
    click.echo(f"(sample images: {picture})")

    _step(6, total, "A table written as CSV, then inspected")
    table_path = write_dataset(load_builtin("tabular", "wine", seed=0), out / "wine.csv")
    click.echo(describe(load_dataset(table_path, label="label")))

    click.secho("\nNext: advisor datasets inspect YOUR_FILE --label COLUMN", fg="green")
