"""The advisor command line, driven through click's runner (and once as a real process)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from advisor import __version__
from advisor.cli import cli
from advisor.datasets import load_dataset


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_the_command_line_starts_without_the_heavy_libraries() -> None:
    """``advisor --help`` stays quick: torch, scikit-learn, SciPy, POT, Optuna and Flask (each
    seconds to import) load only in the commands that use them."""
    heavy = ("torch", "sklearn", "scipy", "ot", "optuna", "flask", "sqlalchemy")
    code = (
        "import sys; from advisor.cli import cli; "
        f"print(','.join(m for m in {heavy!r} if m in sys.modules))"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert found == "", f"importing the command line loaded {found}"


def test_version_and_help(runner: CliRunner) -> None:
    assert __version__ in runner.invoke(cli, ["--version"]).output
    result = runner.invoke(cli, ["datasets", "inspect", "--help"])
    assert result.exit_code == 0
    assert "--label" in result.output and "Examples:" in result.output


def test_datasets_list_table_and_json(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["datasets", "list"])
    assert result.exit_code == 0, result.output
    assert "latin_upper" in result.output and "handwritten" in result.output
    listing = json.loads(runner.invoke(cli, ["datasets", "list", "--json"]).output)
    greek = next(c for c in listing if c["domain"] == "greek")
    assert greek["family"] == "glyphs" and greek["n_classes"] > 20


def test_inspect_valid_csv(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "animals.csv"
    path.write_text("weight;legs;species\n1.5;4;cat\n2.0;4;cat\n;2;bird\n0.3;2;bird\n")
    result = runner.invoke(cli, ["datasets", "inspect", str(path), "--label", "species"])
    assert result.exit_code == 0, result.output
    assert "VALID" in result.output and "delimiter ';'" in result.output
    assert "1 values" in result.output or "Missing    1" in result.output
    as_json = json.loads(
        runner.invoke(cli, ["datasets", "inspect", str(path), "--label", "-1", "--json"]).output
    )
    assert as_json["valid"] is True
    assert as_json["info"]["n_classes"] == 2 and as_json["info"]["n_missing"] == 1


def test_inspect_with_meta_features(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "iris.csv"
    assert runner.invoke(cli, ["datasets", "export", "tabular", "iris", str(path)]).exit_code == 0
    result = runner.invoke(cli, ["datasets", "inspect", str(path), "--meta-features"])
    assert result.exit_code == 0, result.output
    assert "Meta-features" in result.output and "one_nn.mean" in result.output
    assert "there is no categorical attribute" in result.output  # the reason for num_to_cat
    document = json.loads(
        runner.invoke(cli, ["datasets", "inspect", str(path), "--meta-features", "--json"]).output
    )
    assert document["meta_features"]["values"]["nr_class"] == 3


def test_inspect_with_explicit_encoding(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "pl.csv"
    path.write_bytes("nazwa,label\nżółw,a\nłódź,a\nświat,b\ngęś,b\n".encode("cp1250"))
    result = runner.invoke(cli, ["datasets", "inspect", str(path), "--encoding", "cp1250"])
    assert result.exit_code == 0, result.output
    assert "encoding cp1250" in result.output and "Warning" not in result.output


def test_inspect_invalid_file_exits_1_with_code(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "one.csv"
    path.write_text("x,label\n1,a\n2,a\n")
    result = runner.invoke(cli, ["datasets", "inspect", str(path)])
    assert result.exit_code == 1
    assert "INVALID" in result.output and "dataset.single_class" in result.output
    result = runner.invoke(cli, ["datasets", "inspect", str(path), "--json"])
    assert result.exit_code == 1
    assert json.loads(result.output)["error"]["code"] == "dataset.single_class"
    missing = runner.invoke(cli, ["datasets", "inspect", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 1 and "dataset.not_found" in missing.output


def test_export_then_inspect_round_trip(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "iris.parquet"
    result = runner.invoke(cli, ["datasets", "export", "tabular", "iris", str(out)])
    assert result.exit_code == 0, result.output
    assert load_dataset(out, label="label").info.n_rows == 150
    zipped = tmp_path / "digits.zip"
    result = runner.invoke(
        cli, ["datasets", "export", "glyphs", "numerals", str(zipped), "-o", "examples_per_class=3"]
    )
    assert result.exit_code == 0, result.output
    loaded = load_dataset(zipped)
    assert loaded.n_classes == 10 and len(loaded) == 30


def test_export_bad_option_and_unknown_domain(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(
        cli, ["datasets", "export", "glyphs", "greek", str(tmp_path / "g.zip"), "-o", "bogus=1"]
    )
    assert result.exit_code == 1 and "builtin.bad_option" in result.output
    result = runner.invoke(cli, ["datasets", "export", "glyphs", "elvish", str(tmp_path / "g.zip")])
    assert result.exit_code == 1 and "builtin.unknown_domain" in result.output


def test_preview_writes_a_png_grid(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "hebrew.png"
    result = runner.invoke(
        cli,
        [
            "datasets",
            "preview",
            "glyphs",
            "hebrew",
            str(out),
            "--classes",
            "3",
            "--examples",
            "4",
            "-o",
            "examples_per_class=4",
        ],
    )
    assert result.exit_code == 0, result.output
    image = np.asarray(Image.open(out))
    assert image.shape == (2 + 3 * 58, 2 + 4 * 58)
    assert image.max() > 200  # glyph ink is there
    refused = runner.invoke(cli, ["datasets", "preview", "tabular", "iris", str(out)])
    assert refused.exit_code == 1 and "dataset.bad_option" in refused.output


def test_task_command(runner: CliRunner) -> None:
    result = runner.invoke(
        cli, ["datasets", "task", "glyphs", "greek", "--ways", "3", "--shots", "2"]
    )
    assert result.exit_code == 0, result.output
    assert "support (6, 28, 28)" in result.output and "query (45, 28, 28)" in result.output
    too_many = runner.invoke(cli, ["datasets", "task", "tabular", "iris", "--ways", "5"])
    assert too_many.exit_code == 1 and "task.too_many_ways" in too_many.output


@pytest.mark.slow  # the whole tour: loads the knowledge base, recommends, tunes 2 trials
def test_demo_runs_end_to_end(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["demo", "--out", str(tmp_path / "demo"), "--trials", "2"])
    assert result.exit_code == 0, result.output
    assert "Recommended" in result.output and "P(best)" in result.output
    assert "on the 75 queries" in result.output
    assert (tmp_path / "demo" / "report.html").is_file()
    assert (tmp_path / "demo" / "support.png").is_file()
    run_id = result.output.split("Next: advisor predict ")[1].split()[0]
    scored = runner.invoke(cli, ["predict", run_id, str(tmp_path / "demo" / "queries.zip")])
    assert scored.exit_code == 0, scored.output
    test_score = result.output.split("support set; ")[1].split(" %")[0]
    assert f"Predicted 75 rows; accuracy {test_score} %" in scored.stderr  # the run's own


def test_kb_evaluate_refuses_a_domain_it_does_not_hold(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["kb", "evaluate", "--held-out", "glyphs:klingon"])
    assert result.exit_code == 2
    assert "not a domain of the knowledge base: glyphs:klingon" in result.output


def test_runs_list_reads_the_saved_summaries_newest_first(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from advisor.settings import reset_settings

    monkeypatch.setenv("ADVISOR_HOME", str(tmp_path))
    reset_settings()
    try:
        empty = runner.invoke(cli, ["runs", "list"])
        assert empty.exit_code == 0 and "No saved runs yet" in empty.output
        for number, (run_id, test_score) in enumerate((("old", None), ("new", 0.875))):
            folder = tmp_path / "runs" / run_id
            folder.mkdir(parents=True)
            summary = {"run_id": run_id, "family": "scratch", "variant": "logreg",
                       "trials": 3, "cv_score": 0.9, "test_score": test_score}  # fmt: skip
            (folder / "run.json").write_text(json.dumps(summary))
            os.utime(folder / "run.json", (1_700_000_000 + number, 1_700_000_000 + number))
        (tmp_path / "runs" / "broken").mkdir()
        (tmp_path / "runs" / "broken" / "run.json").write_text("{not json")
        shown = runner.invoke(cli, ["runs", "list"])
        assert shown.exit_code == 0, shown.output
        lines = shown.stdout.splitlines()
        assert lines[2].startswith("new") and "87.5 %" in lines[2] and "90.0 %" in lines[2]
        assert lines[3].startswith("old") and lines[3].split()[-2:] == ["—", "accuracy"]
        assert len(lines) == 4  # the unreadable summary is left out of the table…
        assert "The saved run 'broken' is damaged" in shown.stderr  # …and named
        listed = json.loads(runner.invoke(cli, ["runs", "list", "--json"]).stdout)
        assert [r["run_id"] for r in listed] == ["new", "old"]
        assert listed[1]["finished"] == "2023-11-14T22:13:20+00:00"
    finally:
        monkeypatch.undo()
        reset_settings()


def _command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = []
    for name, command in group.commands.items():
        paths.append((*prefix, name))
        if isinstance(command, click.Group):
            paths += _command_paths(command, (*prefix, name))
    return paths


def test_every_help_text_renders_without_stray_markup() -> None:
    """Click keeps a paragraph as written after a line holding a backspace ("\\b"); a raw
    docstring's two characters backslash-b are printed instead, glued to the paragraph."""
    runner = CliRunner()
    paths = [(), *_command_paths(cli)]
    assert ("datasets", "inspect") in paths and ("predict",) in paths
    for path in paths:
        shown = runner.invoke(cli, [*path, "--help"])
        assert shown.exit_code == 0, (path, shown.output)
        assert "\\b" not in shown.output and "\b" not in shown.output, (path, shown.output)
    examples = runner.invoke(cli, ["datasets", "inspect", "--help"]).output
    assert "  Examples:\n    advisor datasets inspect penguins.csv --label species\n" in examples


def test_every_command_that_reads_a_file_takes_the_same_reading_options() -> None:
    """The options reading_options adds are those loader_keywords takes back, and the four
    commands that read a user's file all have them."""
    from advisor.cli.reading import READING_OPTIONS, loader_keywords, reading_options

    @reading_options
    @click.command()
    def probe(**values: object) -> None:
        """A command with the reading options only."""

    assert sorted(p.name for p in probe.params) == sorted(READING_OPTIONS)
    commands = {
        "inspect": cli.commands["datasets"].commands["inspect"],
        "recommend": cli.commands["recommend"],
        "run": cli.commands["run"],
        "build-from": cli.commands["sources"].commands["build-from"],
    }
    for name, command in commands.items():
        assert set(READING_OPTIONS) <= {p.name for p in command.params}, name
    values = {"label": "-1", "drop": ("a, b", "c"), "fmt": "csv", "color": None, "x": 1}
    assert loader_keywords(values) == {"label": -1, "drop": ["a", "b", "c"], "format": "csv"}
    assert values == {"x": 1}  # the reading options are taken out, the others left
