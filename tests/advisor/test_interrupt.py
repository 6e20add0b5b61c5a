"""Ctrl-C during a tuned run: the study stops after its running trial and the run finishes."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
from click.testing import CliRunner

from advisor.cli import advise, cli
from advisor.cli.interrupt import StopOnInterrupt
from advisor.core import load_run


def test_the_first_interrupt_stops_after_the_running_trial_the_second_aborts() -> None:
    before = signal.getsignal(signal.SIGINT)

    def objective(trial: optuna.Trial) -> float:
        if trial.number == 2:
            signal.raise_signal(signal.SIGINT)  # as if Ctrl-C were pressed mid-trial
        return trial.suggest_float("x", 0, 1)

    study = optuna.create_study(direction="maximize")
    with StopOnInterrupt() as stop:
        study.optimize(objective, n_trials=50, callbacks=[stop])
        assert stop.requested
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.COMPLETE] * 3
    assert signal.getsignal(signal.SIGINT) == before  # restored


def test_a_run_stopped_by_ctrl_c_is_finished_and_saved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class PressedAtTheSecondTrial(StopOnInterrupt):
        def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
            if trial.number == 1:
                signal.raise_signal(signal.SIGINT)
            super().__call__(study, trial)

    monkeypatch.setattr(advise, "StopOnInterrupt", PressedAtTheSecondTrial)
    monkeypatch.setenv("ADVISOR_HOME", str(tmp_path / "home"))
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=12), "label": ["a", "b"] * 6})
    frame.to_csv(tmp_path / "t.csv", index=False)
    result = CliRunner().invoke(
        cli, ["run", str(tmp_path / "t.csv"), "--family", "scratch", "--trials", "40", "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["interrupted"] and summary["trials"] == 2
    assert "Stopping after the running trial" in result.stderr
    assert load_run(summary["run_id"]).model is not None  # refitted and saved as usual


def test_a_run_cut_off_is_continued_by_its_study_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`advisor run` names its study first; --study NAME continues it: the trials done count
    toward --trials, the one a dead process left running is failed, and a study of other
    data (or another family) is refused."""
    from learners.tuning import default_storage_url

    monkeypatch.setenv("ADVISOR_HOME", str(tmp_path / "home"))
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"x": rng.normal(size=12), "label": ["a", "b"] * 6})
    frame.to_csv(tmp_path / "t.csv", index=False)
    args = ["run", str(tmp_path / "t.csv"), "--family", "scratch"]
    first = CliRunner().invoke(cli, [*args, "--trials", "3"])
    assert first.exit_code == 0, first.output
    name = first.stderr.split()[1]  # "Study        NAME (if the run is cut off, …)"
    assert first.stderr.startswith(f"Study        {name} (if the run is cut off, --study {name}")
    study = optuna.load_study(study_name=name, storage=default_storage_url())
    study.ask()  # a trial left running by a process that died
    shown = CliRunner().invoke(cli, [*args, "--trials", "4", "--study", name])
    assert shown.exit_code == 0, shown.output
    assert f"Study        {name}: continued, 3 trials done, 1 to go" in shown.stderr
    again = CliRunner().invoke(cli, [*args, "--trials", "5", "--study", name, "--json"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.output)["study_name"] == name  # nothing but JSON, for scripts
    states = [
        t.state for t in optuna.load_study(study_name=name, storage=default_storage_url()).trials
    ]
    finished = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    assert sum(s in finished for s in states) == 5
    assert states[3] == optuna.trial.TrialState.FAIL and json.loads(again.output)["trials"] == 6
    frame.assign(x=frame["x"] + 1).to_csv(tmp_path / "other.csv", index=False)
    other = CliRunner().invoke(
        cli, ["run", str(tmp_path / "other.csv"), "--family", "scratch", "--study", name]
    )
    assert other.exit_code == 1 and "error [learners.study_mismatch]" in other.stderr
    assert "was tuning on other data than this" in other.stderr


@pytest.fixture
def terminal_sigint() -> Iterator[None]:
    """SIGINT handled as Python handles it in a terminal (KeyboardInterrupt). A suite started
    in the background (``make test &``, some CI runners) inherits SIGINT ignored, and Python
    then leaves it ignored: Ctrl-C could not reach the command there."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.usefixtures("terminal_sigint")
def test_ctrl_c_after_the_study_aborts_saves_nothing_and_the_study_finishes_it(
    own_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The study is over, so there is no trial to stop after: Ctrl-C during the learning curve
    aborts at once (the run used to say "Stopping after the running trial", carry on, and
    then claim it was stopped by Ctrl-C). No half-saved run is left; the trials are."""
    import advisor.core as core
    from learners.tuning import default_storage_url

    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"x": rng.normal(size=12), "label": ["a", "b"] * 6})
    frame.to_csv(tmp_path / "t.csv", index=False)
    measured = core.run_learning_curve

    def pressed(*args, **kwargs):
        signal.raise_signal(signal.SIGINT)  # Ctrl-C while the curve's models fit
        return measured(*args, **kwargs)

    monkeypatch.setattr(core, "run_learning_curve", pressed)
    args = ["run", str(tmp_path / "t.csv"), "--family", "scratch", "--trials", "3"]
    cut = CliRunner().invoke(cli, [*args, "--learning-curve"])
    assert cut.exit_code == 130, cut.output
    name = cut.stderr.split()[1]
    assert "Stopping after the running trial" not in cut.stderr
    assert f"the same command with --study {name} finishes it" in cut.stderr
    assert not any((own_home / "runs").glob("*"))  # nothing half-saved
    study = optuna.load_study(study_name=name, storage=default_storage_url())
    assert len(study.trials) == 3
    monkeypatch.setattr(core, "run_learning_curve", measured)
    finished = CliRunner().invoke(cli, [*args, "--learning-curve", "--study", name, "--json"])
    assert finished.exit_code == 0, finished.output
    summary = json.loads(finished.output)
    assert summary["trials"] == 3 and not summary["interrupted"]  # no new trial
    assert load_run(summary["run_id"]).learning_curve is not None
