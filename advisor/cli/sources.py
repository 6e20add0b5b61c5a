"""``advisor sources …``: the sources transfer and meta learning start from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from advisor.cli.output import print_json, reports_errors, table
from advisor.cli.reading import loader_keywords, reading_options
from advisor.datasets import load_dataset

# advisor.sources imports learners, hence torch (seconds): each command imports it when it runs,
# so that ``advisor --help`` stays quick.


@click.group()
def sources() -> None:
    """Sources: pretrained and meta-trained networks of a source domain."""


@sources.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@reports_errors
def list_sources(*, as_json: bool) -> None:
    """List the built-in sources and those built under ADVISOR_HOME."""
    from advisor.sources import get_source, user_sources_dir  # noqa: PLC0415
    from learners import builtin_sources  # noqa: PLC0415

    user = sorted(p.name for p in user_sources_dir().glob("*") if (p / "source.json").is_file())
    names = list(dict.fromkeys([*user, *builtin_sources()]))
    rows: list[dict[str, Any]] = []
    for name in names:
        source = get_source(name)
        rows.append(
            {
                "name": name,
                "where": "user" if name in user else "built-in",
                "backbone": source.backbone,
                "input": f"{source.spec.modality} {'x'.join(map(str, source.spec.shape))}",
                "classes": len(source.classes),
                "starts": ", ".join(["pretrained", *source.meta]),
            }
        )
    if as_json:
        print_json(rows)
        return
    click.echo(
        table(
            ("name", "where", "backbone", "input", "classes", "starts"),
            [tuple(r.values()) for r in rows],
        )
    )


@sources.command("build")
@click.argument("name", type=click.Choice(["glyphs"]))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write (default: ADVISOR_HOME/sources/NAME, which then takes "
    "precedence over the built-in copy).",
)
@reports_errors
def build(*, name: str, out: Path | None) -> None:
    """Rebuild a built-in source from the built-in domains (a few minutes on 2 cores)."""
    from advisor.sources import build_glyphs_source, user_sources_dir  # noqa: PLC0415

    target = out or user_sources_dir() / name
    build_glyphs_source(target, progress=click.echo)
    click.echo(f"Wrote {target}")


@sources.command("delete")
@click.argument("name")
@reports_errors
def delete(*, name: str) -> None:
    """Delete a source you built (under ADVISOR_HOME/sources).

    Refused while a saved run's model starts from it: delete that run first (advisor runs
    delete RUN). Scratch runs never need their source.
    """
    from advisor.housekeeping import delete_user_source  # noqa: PLC0415

    folder = delete_user_source(name)
    click.echo(f"Deleted source {name!r} ({folder}).")


@sources.command("build-from")
@click.argument("path", type=click.Path(exists=False, path_type=Path))
@click.option("--name", required=True, help="The new source's name.")
@reading_options
@click.option(
    "--backbone",
    type=click.Choice(["conv4", "resnet12", "mlp"]),
    help="Default: conv4 for images, mlp for vectors.",
)
@click.option(
    "--epochs", "pretrain_epochs", default=10, show_default=True, help="Pretraining epochs."
)
@click.option(
    "--episodes",
    "meta_episodes",
    default=200,
    show_default=True,
    help="Meta-training episodes per algorithm.",
)
@click.option("--replace", is_flag=True, help="Replace a source of yours of that name.")
@reports_errors
def build_from(*, path: Path, name: str, replace: bool, **settings: Any) -> None:
    """Build a source from a labeled dataset file of yours.

    Any file `advisor datasets inspect` reads, with the same reading options. The name is
    2-40 characters of a-z, 0-9, '_' and '-'; a taken one is refused unless --replace.
    """
    from advisor.sources import build_user_source, check_source_name  # noqa: PLC0415

    check_source_name(name, replace=replace)  # before reading the data
    dataset = load_dataset(path, **loader_keywords(settings))
    chosen = {k: v for k, v in settings.items() if v is not None}
    folder = build_user_source(dataset, name, progress=click.echo, replace=replace, **chosen)
    click.echo(f"Wrote {folder}; use it as source={name!r}.")
