"""``advisor runs …``: the tuned runs saved under ADVISOR_HOME."""

from __future__ import annotations

import click

from advisor.cli.output import print_json, reports_errors, table, trial_count


@click.group()
def runs() -> None:
    """Tuned runs saved by `advisor run` (see `advisor predict` and `advisor report`)."""


@runs.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@reports_errors
def list_runs(*, as_json: bool) -> None:
    """List the saved runs, newest first: id, when, what was run, its scores.

    Trials are those that ran: complete, pruned or failed. Runs whose run.json is damaged are
    named after the list, on standard error.
    """
    from advisor.core import scan_saved_runs  # noqa: PLC0415 - keep `--help` fast

    summaries, damaged = scan_saved_runs()
    for _run, why in damaged:  # on standard error: --json stays JSON
        click.secho(f"warning: {why}", fg="yellow", err=True)
    if as_json:
        print_json(summaries)
        return
    if not summaries:
        click.echo("No saved runs yet; `advisor run DATA` makes one.")
        return
    rows = [
        (
            s["run_id"],
            s["finished"].replace("T", " ").removesuffix("+00:00"),
            f"{s.get('family')} ({s.get('variant')})",
            s.get("trials", "?"),
            _percent(s.get("cv_score")),
            _percent(s.get("test_score")),
            str(s.get("metric", "accuracy")).replace("_", " "),  # runs before metrics: accuracy
        )
        for s in summaries
    ]
    click.echo(table(("run", "finished (UTC)", "learner", "trials", "CV", "test", "metric"), rows))


@runs.command("show")
@click.argument("run_id", metavar="RUN")
@click.option("--json", "as_json", is_flag=True, help="Print the run's summary as JSON.")
@reports_errors
def show_run(*, run_id: str, as_json: bool) -> None:
    """What a saved run (its id, or its folder) found: its scores and how far to trust them."""
    from advisor.cli.advise import describe_run  # noqa: PLC0415 - keep `advisor --help` fast
    from advisor.core import load_run  # noqa: PLC0415

    result = load_run(run_id)
    if as_json:
        print_json(result.summary())
        return
    click.echo(
        f"Run {result.run_id}: {result.family} ({result.variant}), "
        f"{trial_count(result.trials)} in {result.seconds:.0f} s"
    )
    click.echo(describe_run(result))


@runs.command("delete")
@click.argument("run_ids", metavar="RUN...", nargs=-1, required=True)
@click.option("--yes", is_flag=True, help="Delete without asking.")
@reports_errors
def delete_runs(*, run_ids: tuple[str, ...], yes: bool) -> None:
    """Delete saved runs (by id, or their folder under ADVISOR_HOME/runs).

    Each run's model and files go, and its Optuna study once no other saved run continues it.
    What a run measured stays in the local knowledge base, which the recommender learns from.
    Every RUN is checked before anything is deleted.
    """
    from advisor.housekeeping import (  # noqa: PLC0415 - keep `advisor --help` fast
        delete_run,
        folder_bytes,
        run_folder,
    )

    folders = [run_folder(run) for run in dict.fromkeys(run_ids)]
    size = sum(folder_bytes(folder) for folder in folders)
    names = ", ".join(folder.name for folder in folders)
    if not yes:
        click.confirm(f"Delete {len(folders)} run(s) ({names}; {_size(size)})?", abort=True)
    for folder in folders:
        deleted = delete_run(folder)
        study = "" if deleted.study is None else f" and its study {deleted.study}"
        click.echo(f"Deleted run {deleted.run_id} ({_size(deleted.bytes)}){study}")


def _size(n_bytes: int) -> str:
    """A size in kB or MB (decimal, as disk tools report)."""
    return f"{n_bytes / 1e6:.1f} MB" if n_bytes >= 1e6 else f"{n_bytes / 1e3:.0f} kB"


def _percent(score: object) -> str:
    return f"{100 * score:.1f} %" if isinstance(score, int | float) else "—"
