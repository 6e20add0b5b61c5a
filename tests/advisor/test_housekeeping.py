"""Deleting saved runs: the folder, the study once no other run uses it, nothing outside."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest
from click.testing import CliRunner

from advisor.cli import cli
from advisor.errors import NotFoundError
from advisor.housekeeping import delete_run, run_folder
from learners.tuning import default_storage_url

optuna.logging.set_verbosity(optuna.logging.WARNING)


def saved_run(home: Path, run_id: str, study: str) -> Path:
    """A run folder as `advisor run` leaves it, with its study's one trial in the storage."""
    folder = home / "runs" / run_id
    (folder / "model").mkdir(parents=True)
    (folder / "model" / "weights.npz").write_bytes(b"\0" * 2_000)
    (folder / "run.json").write_text(json.dumps({"run_id": run_id, "study_name": study}))
    created = optuna.create_study(
        study_name=study, storage=default_storage_url(), load_if_exists=True
    )
    created.optimize(lambda _trial: 0.5, n_trials=1)
    return folder


def studies() -> list[str]:
    return optuna.study.get_all_study_names(default_storage_url())


def test_a_run_goes_with_its_study_and_leaves_the_others(own_home: Path) -> None:
    gone = saved_run(own_home, "aaa111", "run-a")
    kept = saved_run(own_home, "bbb222", "run-b")
    deleted = delete_run("aaa111")
    assert deleted.run_id == "aaa111" and deleted.study == "run-a"
    assert deleted.bytes >= 2_000
    assert not gone.exists() and kept.is_dir()
    assert studies() == ["run-b"]


def test_a_study_continued_by_two_runs_stays_until_the_last_goes(own_home: Path) -> None:
    saved_run(own_home, "aaa111", "shared")
    second = saved_run(own_home, "bbb222", "shared")
    assert delete_run("aaa111").study is None
    assert studies() == ["shared"]
    assert delete_run(second).study == "shared"  # by its folder this time
    assert studies() == []


def test_a_run_whose_study_is_gone_is_still_deleted(own_home: Path) -> None:
    folder = saved_run(own_home, "aaa111", "run-a")
    optuna.delete_study(study_name="run-a", storage=default_storage_url())
    assert delete_run("aaa111").study is None and not folder.exists()


@pytest.mark.parametrize("name", ["nope", "../runs", "..", "model"])
def test_only_saved_runs_are_found(own_home: Path, name: str) -> None:
    saved_run(own_home, "aaa111", "run-a")
    with pytest.raises(NotFoundError) as caught:
        run_folder(name)
    assert caught.value.code == "run.not_found"


def test_an_id_is_found_even_where_the_working_folder_holds_one_of_its_name(
    own_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = saved_run(own_home, "aaa111", "run-a")
    (tmp_path / "aaa111").mkdir()
    monkeypatch.chdir(tmp_path)
    assert run_folder("aaa111") == folder.resolve()


def test_a_folder_outside_the_runs_is_not_deleted(own_home: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "run.json").write_text(json.dumps({"run_id": "x", "study_name": "s"}))
    with pytest.raises(NotFoundError):
        delete_run(elsewhere)
    assert (elsewhere / "run.json").is_file()


def test_the_command_asks_checks_every_run_first_and_deletes(own_home: Path) -> None:
    saved_run(own_home, "aaa111", "run-a")
    saved_run(own_home, "bbb222", "run-b")
    runner = CliRunner()
    declined = runner.invoke(cli, ["runs", "delete", "aaa111"], input="n\n")
    assert declined.exit_code == 1 and "Delete 1 run(s) (aaa111; 2 kB)?" in declined.output
    assert (own_home / "runs" / "aaa111").is_dir()
    unknown = runner.invoke(cli, ["runs", "delete", "aaa111", "nope", "--yes"])
    assert unknown.exit_code != 0 and "run.not_found" in unknown.output
    assert (own_home / "runs" / "aaa111").is_dir()  # nothing deleted when one is unknown
    done = runner.invoke(cli, ["runs", "delete", "aaa111", "bbb222", "aaa111"], input="y\n")
    assert done.exit_code == 0, done.output
    assert "Deleted run aaa111 (2 kB) and its study run-a" in done.output
    assert "Deleted run bbb222" in done.output
    assert not (own_home / "runs" / "aaa111").exists() and studies() == []
    listed = runner.invoke(cli, ["runs", "list"])
    assert "No saved runs yet" in listed.output
