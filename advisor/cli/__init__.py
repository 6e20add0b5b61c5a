"""The ``advisor`` command line (also ``python -m advisor``).

Commands are grouped by subject; ``advisor --help`` and ``advisor COMMAND --help`` explain each.
"""

from __future__ import annotations

from importlib.metadata import entry_points

import click

from advisor import __version__
from advisor.cli.advise import recommend, report, run
from advisor.cli.compare import compare
from advisor.cli.datasets import datasets
from advisor.cli.demo import demo
from advisor.cli.kb import kb
from advisor.cli.predict import predict
from advisor.cli.runs import runs
from advisor.cli.sources import sources


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="advisor")
def cli() -> None:
    """AutoML Advisor: transfer, meta, hybrid or scratch learning for your small dataset?

    \b
    Start with:
      advisor demo                       a tour on the built-in data
      advisor datasets list              the built-in benchmark domains
      advisor datasets inspect FILE      check a file of yours and see what the advisor sees
    """  # noqa: D301 - "\b" (a backspace) is Click's mark of a paragraph kept as written


cli.add_command(datasets)
cli.add_command(demo)
cli.add_command(sources)
cli.add_command(recommend)
cli.add_command(run)
cli.add_command(predict)
cli.add_command(compare)
cli.add_command(runs)
cli.add_command(report)
cli.add_command(kb)


def _plugin_commands() -> None:
    """Add the commands other packages declare (``advisor.commands`` entry points).

    The service's ``serve``, ``worker`` and ``keys`` come from :mod:`api` this way, so this
    package never imports the one above it.
    """
    for entry in entry_points(group="advisor.commands"):
        try:
            command = entry.load()
        except ImportError as error:  # an optional part that is not installed
            click.echo(f"warning: command {entry.name!r} unavailable: {error}", err=True)
            continue
        cli.add_command(command, entry.name)


_plugin_commands()


def main() -> None:
    """Entry point of the ``advisor`` console script."""
    cli(prog_name="advisor")
