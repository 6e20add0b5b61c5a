"""``advisor demo``: the main job on the embedded defaults, end to end, in a minute.

Until the recommender lands (see the issues), the tour shows what exists: the built-in
benchmark domains, a few-shot task drawn from one and the meta-features the advisor will see
of it, and two files written and read back through the same loader users' files go through.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import click

import meta_features as mf
from advisor.cli.output import CLASSIC_GROUPS, describe, reports_errors
from advisor.datasets import domain_cards, load_builtin, load_dataset, sample_task
from advisor.datasets.preview import save_preview
from advisor.datasets.writers import write_dataset


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
    total = 5
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

    _step(3, total, "What the advisor sees: the meta-features of that task's support set")
    features = mf.extract(task.X_support, task.y_support, groups=CLASSIC_GROUPS)
    defined = sum(not math.isnan(v) for v in features.values())
    taken = sum(features.timings.values()) * 1000
    click.echo(f"{defined} of {len(features)} defined in {taken:.0f} ms (view: {features.view})")
    for name in ("shots_min", "class_ent", "mut_inf.mean", "one_nn.mean", "naive_bayes.mean"):
        click.echo(f"  {name:18} {features[name]:.3f}")
    click.echo("  (similarity and transferability need a source: they come with the learners)")

    _step(4, total, "An image dataset written as a zip of class folders, then inspected")
    archive = write_dataset(greek, out / "greek.zip")
    picture = save_preview(greek, out / "greek.png", n_classes=10, n_examples=10)
    click.echo(describe(load_dataset(archive)))
    click.echo(f"(sample images: {picture})")

    _step(5, total, "A table written as CSV, then inspected")
    table_path = write_dataset(load_builtin("tabular", "wine", seed=0), out / "wine.csv")
    click.echo(describe(load_dataset(table_path, label="label")))

    click.secho("\nNext: advisor datasets inspect YOUR_FILE --label COLUMN", fg="green")
