"""What the command line writes, and reads back from ADVISOR_HOME, when things go wrong.

An output that cannot be written is one coded error (``io.unwritable``) naming the path, never a
traceback — and ``advisor run --report`` prints the saved run before saying so. A damaged
``run.json`` is ``run.damaged`` (and ``advisor runs list`` names it), a damaged local knowledge
base is set aside with a warning. ``advisor predict -o`` writes by the suffix. A run counts the
trials that ran, and a 1-trial budget leaves no warm-start trial waiting.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import optuna
import pandas as pd
import pytest
from click.testing import CliRunner, Result
from sklearn.datasets import load_iris

from advisor.cli import cli
from advisor.settings import reset_settings
from learners.tuning import default_storage_url

optuna.logging.set_verbosity(optuna.logging.WARNING)


@dataclass(frozen=True)
class Saved:
    """A run saved by ``advisor run`` in this module's own ADVISOR_HOME."""

    home: Path
    run_id: str
    summary: dict[str, object]
    train: Path
    test: Path


def iris_csv(path: Path, rows: slice) -> Path:
    """Iris with named classes, a few rows of each (the tester's data)."""
    data = load_iris(as_frame=True)
    frame = data.frame.rename(columns={"target": "species"})
    frame["species"] = [str(data.target_names[i]) for i in data.target]
    frame.iloc[rows].to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Saved]:
    """One recommended run on a 1-trial budget: its study is warm-started with more
    configurations than that (the recommended defaults and the neighbours' best)."""
    folder = tmp_path_factory.mktemp("files")
    train = iris_csv(folder / "train.csv", slice(0, 150, 2))
    test = iris_csv(folder / "test.csv", slice(1, 150, 2))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ADVISOR_HOME", str(folder / "home"))
        reset_settings()
        answer = CliRunner().invoke(
            cli, ["run", str(train), "--label", "species", "--trials", "1", "--json"]
        )
        assert answer.exit_code == 0, answer.output
        summary = json.loads(answer.stdout)
        yield Saved(folder / "home", summary["run_id"], summary, train, test)
    reset_settings()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def blocked(tmp_path: Path) -> Path:
    """A file where an output's folder should be: nothing can be written under it."""
    path = tmp_path / "a-file"
    path.write_text("not a folder")
    return path


def failed_cleanly(result: Result, code: str) -> bool:
    """Exit status 1 with a one-line coded error, not an exception's traceback."""
    return (
        result.exit_code == 1
        and isinstance(result.exception, SystemExit)
        and f"error [{code}]" in result.output
        and "Traceback" not in result.output
    )


# -- outputs that cannot be written ----------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["report", "{run}", "-o", "{out}.html"],
        ["report", "{run}", "-o", "{out}.md"],
        ["predict", "{run}", "{test}", "-o", "{out}.csv"],
        ["recommend", "{train}", "--label", "species", "--report", "{out}.html"],
        ["datasets", "export", "tabular", "iris", "{out}.csv"],
        ["datasets", "preview", "glyphs", "greek", "{out}.png"],
    ],
    ids=["report-html", "report-md", "predict", "recommend", "export", "preview"],
)
def test_an_unwritable_output_is_one_coded_error_naming_it(
    runner: CliRunner, saved: Saved, blocked: Path, command: list[str]
) -> None:
    out = blocked / "sub" / "out"
    values = {"run": saved.run_id, "out": out, "test": saved.test, "train": saved.train}
    result = runner.invoke(cli, [part.format(**values) for part in command])
    assert failed_cleanly(result, "io.unwritable"), result.output
    assert str(out) in result.output and "a file stands where its folder should be" in result.output
    assert not list(blocked.parent.glob("**/*.partial"))  # nothing half-written left


def test_a_run_whose_report_cannot_be_written_is_printed_saved_then_fails(
    runner: CliRunner, saved: Saved, blocked: Path
) -> None:
    before = set((saved.home / "runs").iterdir())
    args = ["run", str(saved.train), "--label", "species", "--family", "scratch"]
    result = runner.invoke(cli, [*args, "--trials", "1", "--report", str(blocked / "r.html")])
    assert failed_cleanly(result, "io.unwritable"), result.output
    new = set((saved.home / "runs").iterdir()) - before
    assert len(new) == 1 and (next(iter(new)) / "run.json").is_file()  # saved
    run_id = next(iter(new)).name
    assert f"Run {run_id}: scratch" in result.stdout and "CV accuracy" in result.stdout
    assert f"advisor report {run_id} -o FILE" in result.output  # how to write it later


def test_an_advisor_home_that_cannot_be_made_is_a_coded_error(
    runner: CliRunner, saved: Saved, blocked: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADVISOR_HOME", str(blocked / "home"))
    reset_settings()
    try:
        args = ["run", str(saved.train), "--label", "species", "--family", "scratch"]
        result = runner.invoke(cli, [*args, "--trials", "1"])
    finally:
        monkeypatch.undo()
        reset_settings()
    assert failed_cleanly(result, "io.unwritable"), result.output
    assert f"ADVISOR_HOME {blocked / 'home'}" in result.output


# -- predictions by the output's suffix ------------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", "", ".tsv", ".parquet", ".json", ".jsonl"])
def test_predictions_are_written_in_the_format_their_suffix_names(
    runner: CliRunner, saved: Saved, tmp_path: Path, suffix: str
) -> None:
    out = tmp_path / f"predictions{suffix}"
    args = ["predict", saved.run_id, str(saved.test), "--label", "species", "--proba"]
    result = runner.invoke(cli, [*args, "-o", str(out)])
    assert result.exit_code == 0, result.output
    if suffix in (".csv", ""):
        table = pd.read_csv(out)
    elif suffix == ".tsv":
        table = pd.read_csv(out, sep="\t")
    elif suffix == ".parquet":
        table = pd.read_parquet(out)
    elif suffix == ".json":
        table = pd.DataFrame(json.loads(out.read_text())["predictions"])
    else:
        table = pd.DataFrame([json.loads(line) for line in out.read_text().splitlines()])
    assert len(table) == 75 and {"prediction", "label"} <= set(table.columns)
    if suffix in (".csv", "", ".tsv", ".parquet"):
        assert {"p_setosa", "p_versicolor", "p_virginica"} <= set(table.columns)


def test_an_unknown_predictions_suffix_is_refused_before_any_work(
    runner: CliRunner, saved: Saved, tmp_path: Path
) -> None:
    out = tmp_path / "predictions.xlsx"
    result = runner.invoke(cli, ["predict", "no-such-run", str(saved.test), "-o", str(out)])
    assert failed_cleanly(result, "predict.bad_format"), result.output  # not run.not_found
    assert not out.exists()


# -- trials counted as run -------------------------------------------------------------------


def test_a_one_trial_run_counts_one_trial_and_leaves_none_waiting(
    runner: CliRunner, saved: Saved, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert saved.summary["trials"] == 1
    recommendation = saved.summary["recommendation"]
    assert isinstance(recommendation, dict) and recommendation["explanation"]["neighbours"]
    monkeypatch.setenv("ADVISOR_HOME", str(saved.home))
    reset_settings()
    study = optuna.load_study(
        study_name=str(saved.summary["study_name"]), storage=default_storage_url()
    )
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.COMPLETE]
    out = tmp_path / "r.md"
    assert runner.invoke(cli, ["report", saved.run_id, "-o", str(out)]).exit_code == 0
    assert "tuned with 1 Optuna trial " in out.read_text()
    listed = json.loads(runner.invoke(cli, ["runs", "list", "--json"]).stdout)
    assert [r["trials"] for r in listed if r["run_id"] == saved.run_id] == [1]


# -- damaged saved state ---------------------------------------------------------------------


def test_a_damaged_run_json_is_a_coded_error_and_runs_list_names_it(
    runner: CliRunner, saved: Saved, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    (home / "runs").mkdir(parents=True)
    (home / "runs" / saved.run_id).symlink_to(saved.home / "runs" / saved.run_id)
    folder = home / "runs" / "cutshort"  # beside it, a run whose run.json was cut short
    folder.mkdir()
    text = (saved.home / "runs" / saved.run_id / "run.json").read_text()
    (folder / "run.json").write_text(text[: len(text) // 2])
    monkeypatch.setenv("ADVISOR_HOME", str(home))
    reset_settings()
    for command in (
        ["report", "cutshort", "-o", str(tmp_path / "r.html")],
        ["predict", "cutshort", str(saved.test)],
        ["runs", "show", "cutshort"],
    ):
        result = runner.invoke(cli, command)
        assert failed_cleanly(result, "run.damaged"), result.output
        assert "advisor runs delete cutshort" in result.output
    listed = runner.invoke(cli, ["runs", "list"])
    assert listed.exit_code == 0, listed.output
    assert saved.run_id in listed.stdout and "cutshort" not in listed.stdout
    assert "warning: The saved run 'cutshort' is damaged" in listed.stderr
    as_json = runner.invoke(cli, ["runs", "list", "--json"])
    assert [r["run_id"] for r in json.loads(as_json.stdout)] == [saved.run_id]
    assert "'cutshort' is damaged" in as_json.stderr


def test_a_damaged_local_kb_is_set_aside_with_a_warning(
    runner: CliRunner, saved: Saved, own_home: Path
) -> None:
    kb = own_home / "kb"
    kb.mkdir(parents=True)
    (kb / "local.parquet").write_bytes(b"PAR1garbage")
    result = runner.invoke(cli, ["recommend", str(saved.train), "--label", "species"])
    assert result.exit_code == 0, result.output
    assert "Recommended" in result.stdout
    assert "warning: The local knowledge base" in result.stderr and "set aside" in result.stderr
    aside = list(kb.glob("local.parquet.damaged-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == b"PAR1garbage"  # kept, not deleted
    assert not (kb / "local.parquet").exists()
