"""``advisor datasets …``: the built-in domains and users' files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import numpy as np

from advisor.cli.output import (
    classic_meta_features,
    describe,
    describe_meta_features,
    fail,
    print_json,
    reports_errors,
    table,
)
from advisor.cli.reading import loader_keywords, reading_options
from advisor.datasets import domain_cards, load_builtin, load_dataset, sample_task
from advisor.datasets.preview import save_preview
from advisor.datasets.writers import write_dataset
from advisor.errors import AdvisorError
from advisor.writing import writing


@click.group()
def datasets() -> None:
    """Built-in benchmark domains, and checking your own data files."""


@datasets.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@reports_errors
def list_domains(*, as_json: bool) -> None:
    """List the built-in domains with their class counts.

    The first listing renders the glyph catalogue (a few seconds); later ones read it from the
    cache under ADVISOR_HOME.
    """
    cards = domain_cards()
    if as_json:
        print_json([card.model_dump() for card in cards])
        return
    rows = [
        (
            c.family,
            c.domain,
            c.modality,
            c.n_classes,
            c.examples_per_class if c.examples_per_class is not None else "varies",
            "x".join(str(s) for s in c.input_shape),
            c.description,
        )
        for c in cards
    ]
    click.echo(
        table(("family", "domain", "modality", "classes", "per class", "shape", "about"), rows)
    )
    click.echo(f"\n{len(cards)} domains, {sum(c.n_classes for c in cards)} classes.")


@datasets.command("inspect")
@click.argument("path", type=click.Path(exists=False, path_type=Path))
@reading_options
@click.option("--groups", help="Column (or NPZ array) of group ids, optional.")
@click.option(
    "--meta-features",
    "with_features",
    is_flag=True,
    help="Also compute the classic meta-features (general, statistical, info-theory, "
    "landmarking) the advisor will see.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the verdict and summary as JSON.")
def inspect(*, path: Path, as_json: bool, with_features: bool, **option_values: Any) -> None:
    """Load PATH as the advisor would and print its summary and validation verdict.

    PATH may be a CSV/TSV, Parquet, NPZ, JSON or JSON Lines file, or a folder or zip with one
    sub-folder of images per class. The exit status is 0 for a valid dataset, 1 otherwise.

    \b
    Examples:
      advisor datasets inspect penguins.csv --label species
      advisor datasets inspect letters.zip --image-size 32x32 --json
      advisor datasets inspect penguins.csv --label species --meta-features
      advisor datasets inspect customers.csv --label churn --drop signup_date
    """  # noqa: D301 - "\b" (a backspace) is Click's mark of a paragraph kept as written
    options = loader_keywords(option_values)
    if option_values.get("groups") is not None:
        options["groups"] = option_values["groups"]
    try:
        dataset = load_dataset(path, **options)
    except AdvisorError as error:
        if as_json:
            print_json({"valid": False, "error": error.to_dict()})
            raise SystemExit(1) from None
        click.echo(f"Dataset    {path}\nVerdict    INVALID")
        fail(error)
        return
    features = classic_meta_features(dataset) if with_features else None
    if as_json:
        document: dict[str, Any] = {"valid": True, "info": dataset.info.model_dump(mode="json")}
        if features is not None:
            document["meta_features"] = features.to_dict()
        print_json(document)
        return
    click.echo(describe(dataset))
    if features is not None:
        click.echo("\n" + describe_meta_features(features))


def _parse_options(pairs: tuple[str, ...]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise click.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="--option")
        try:
            options[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            options[key.strip()] = value
    return options


_option = click.option(
    "--option",
    "-o",
    "pairs",
    multiple=True,
    metavar="KEY=VALUE",
    help="A domain option, e.g. -o examples_per_class=10 (repeatable).",
)


@datasets.command("export")
@click.argument("family")
@click.argument("domain")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--seed", default=0, show_default=True, help="Seed of the domain generator.")
@_option
@reports_errors
def export(*, family: str, domain: str, out: Path, seed: int, pairs: tuple[str, ...]) -> None:
    """Write a built-in domain to a file OUT, ready for `advisor datasets inspect`.

    The suffix of OUT picks the format: .zip or .npz for images; .csv, .tsv, .parquet, .json,
    .jsonl or .npz for tables.
    """
    dataset = load_builtin(family, domain, seed=seed, **_parse_options(pairs))
    with writing(out, "the dataset"):
        written = write_dataset(dataset, out)
    click.echo(
        f"Wrote {family}/{domain} ({len(dataset)} examples, {dataset.n_classes} classes) "
        f"to {written}"
    )


@datasets.command("preview")
@click.argument("family")
@click.argument("domain")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--seed", default=0, show_default=True)
@click.option("--classes", "n_classes", default=12, show_default=True, help="Rows of the grid.")
@click.option("--examples", "n_examples", default=10, show_default=True, help="Columns.")
@_option
@reports_errors
def preview(
    *,
    family: str,
    domain: str,
    out: Path,
    seed: int,
    n_classes: int,
    n_examples: int,
    pairs: tuple[str, ...],
) -> None:
    """Save a PNG grid of sample images of an image domain (a class per row)."""
    dataset = load_builtin(family, domain, seed=seed, **_parse_options(pairs))
    with writing(out, "the preview"):
        save_preview(dataset, out, n_classes=n_classes, n_examples=n_examples, seed=seed)
    click.echo(f"Wrote {out}")


@datasets.command("task")
@click.argument("family")
@click.argument("domain")
@click.option("--ways", default=5, show_default=True)
@click.option("--shots", default=5, show_default=True)
@click.option("--queries", default=15, show_default=True)
@click.option("--seed", default=0, show_default=True)
@_option
@reports_errors
def task(
    *,
    family: str,
    domain: str,
    ways: int,
    shots: int,
    queries: int,
    seed: int,
    pairs: tuple[str, ...],
) -> None:
    """Draw an N-way K-shot task from a built-in domain and describe it."""
    dataset = load_builtin(family, domain, **_parse_options(pairs))
    drawn = sample_task(dataset, ways=ways, shots=shots, queries=queries, seed=seed)
    click.echo(
        f"{ways}-way {shots}-shot task from {family}/{domain} (seed {seed}): support "
        f"{drawn.X_support.shape}, query {drawn.X_query.shape}\nclasses: "
        + ", ".join(str(c.item() if isinstance(c, np.generic) else c) for c in drawn.classes)
    )
