"""`advisor run` / `advisor report` say what they did: trial counts that agree, a study
announced only once accepted, a regret check that is not skipped silently, a learning curve
that names imbalanced classes, and a report suffix that is not silently HTML."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
import pytest
from click.testing import CliRunner

from advisor.cli import cli
from advisor.learning_curve import learning_curve, more_data_phrase
from learners.tensors import InputSpec
from learners.tuning import validation_splits


@pytest.fixture
def table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A tiny table scratch tunes in a second, in a home of its own."""
    monkeypatch.setenv("ADVISOR_HOME", str(tmp_path / "home"))
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"x": rng.normal(size=12), "label": ["a", "b"] * 6})
    frame.to_csv(tmp_path / "t.csv", index=False)
    return tmp_path / "t.csv"


def _run(*args: str) -> Any:
    return CliRunner().invoke(cli, ["run", *args])


def test_trials_cut_off_by_a_killed_run_are_counted_apart_in_banner_and_total(
    table: Path,
) -> None:
    from learners.tuning import default_storage_url

    args = [str(table), "--family", "scratch"]
    first = _run(*args, "--trials", "2")
    assert first.exit_code == 0, first.output
    name = first.stderr.split()[1]
    study = optuna.load_study(study_name=name, storage=default_storage_url())
    failed = study.ask()  # a configuration that raised: it spent budget, as Optuna counts
    failed.set_user_attr("fail_reason", "ValueError: bad configuration")
    study.tell(failed, state=optuna.trial.TrialState.FAIL)
    study.ask()  # a run killed mid-trial (kill -9)
    cont = _run(*args, "--trials", "5", "--study", name)
    assert cont.exit_code == 0, cont.output
    # 2 complete + 1 failed count toward --trials 5; the trial cut off does not, and says so
    assert f"Study        {name}: continued, 3 trials done, 2 to go (1 more cut off" in cont.stderr
    study.ask()  # killed again
    last = _run(*args, "--trials", "6", "--study", name)
    assert last.exit_code == 0, last.output
    assert "continued, 5 trials done, 1 to go (2 more cut off when a run was killed" in last.stderr
    # the run's total (all finished trials, as `runs list` shows) = the budget + those cut off
    assert ", 8 trials in " in last.output
    assert "(2 of them cut off when a run was killed: failed, not counted toward --trials 6)" in (
        last.output
    )
    listed = CliRunner().invoke(cli, ["runs", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.output)[0]["trials"] == 8


def test_a_refused_study_is_not_announced_as_continued(table: Path) -> None:
    args = [str(table), "--family", "scratch"]
    first = _run(*args, "--trials", "2")
    assert first.exit_code == 0, first.output
    name = first.stderr.split()[1]
    frame = pd.read_csv(table)
    frame.assign(x=frame["x"] + 1).to_csv(table.with_name("other.csv"), index=False)
    other = _run(str(table.with_name("other.csv")), "--family", "scratch", "--study", name)
    assert other.exit_code == 1 and "error [learners.study_mismatch]" in other.stderr
    assert "continued" not in other.stderr  # until 2026-11-29: "continued, 2 trials done, …"


def test_check_runner_up_with_a_family_given_says_it_was_skipped(table: Path) -> None:
    shown = _run(str(table), "--family", "scratch", "--trials", "1", "--check-runner-up")
    assert shown.exit_code == 0, shown.output
    assert "Runner-up    Regret check skipped: The family was given (--family" in shown.output
    as_json = _run(
        str(table), "--family", "scratch", "--trials", "1", "--check-runner-up", "--json"
    )
    assert as_json.exit_code == 0, as_json.output
    check = json.loads(as_json.output)["runner_up"]
    assert check["family"] is None and "nothing was recommended" in check["skipped"]


class _Majority:
    """A learner that always answers the first class: errors only on the rare class."""

    def fit(self, X: np.ndarray, y: np.ndarray) -> _Majority:
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.zeros(len(X), dtype=int)


def test_the_learning_curve_names_how_few_examples_the_smallest_class_had() -> None:
    codes = np.repeat([0, 1], [2000, 2])
    X = np.arange(codes.size, dtype=float)[:, None]
    splits = validation_splits(X, codes, InputSpec.from_data(X), seed=0)
    curve = learning_curve(_Majority, X, codes, splits)  # type: ignore[arg-type]
    assert [round(p.per_class) for p in curve.points] == [126, 250, 376, 500]  # means
    phrase = more_data_phrase(curve)
    assert "examples per class on average" in phrase
    assert "2000 examples of the largest, 2 of the smallest" in phrase
    assert "the smallest class trained on 1, 1, 1, 1 at these shares" in phrase
    even = np.repeat([0, 1], 10)
    even_splits = validation_splits(X[:20], even, InputSpec.from_data(X[:20]), seed=0)
    balanced = learning_curve(_Majority, X[:20], even, even_splits)  # type: ignore[arg-type]
    assert "imbalanced" not in balanced.note and "on average" not in more_data_phrase(balanced)


@pytest.mark.parametrize("name", ["r.txt", "r.pdf"])
def test_a_report_of_an_unknown_suffix_is_refused_before_any_work(table: Path, name: str) -> None:
    out = table.with_name(name)
    refused = _run(str(table), "--family", "scratch", "--trials", "1", "--report", str(out))
    assert refused.exit_code == 1 and "error [report.bad_format]" in refused.stderr
    assert "Run " not in refused.output and not out.exists()  # refused before the study
    saved = _run(str(table), "--family", "scratch", "--trials", "1", "--json")
    run_id = json.loads(saved.output)["run_id"]
    written = CliRunner().invoke(cli, ["report", run_id, "-o", str(out)])
    assert written.exit_code == 1 and "error [report.bad_format]" in written.stderr
    assert not out.exists()
    chosen = CliRunner().invoke(cli, ["report", run_id, "-o", str(out), "--format", "md"])
    assert chosen.exit_code == 0 and out.read_text().startswith("#")  # --format decides
    bare = table.with_name("report")
    plain = CliRunner().invoke(cli, ["report", run_id, "-o", str(bare)])
    assert plain.exit_code == 0 and "<html" in bare.read_text().lower()  # documented: html
