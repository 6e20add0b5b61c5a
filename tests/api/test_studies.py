"""The runs' study storage: a worker killed between ``ask`` and its first beat loses no run."""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import optuna
from optuna.trial import TrialState

from api.studies import beating_storage

BEAT = 1  # seconds; a trial silent for 3 beats is stale


def _fail_stale(study: optuna.Study) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)


def test_a_trial_abandoned_right_after_ask_is_failed_as_stale(tmp_path: Path) -> None:
    # What a worker killed inside ``Study.ask`` leaves: running trials whose objective never
    # started, so no heartbeat thread ever ran for them. One was created running, one was
    # an enqueued (warm-start) configuration taken from the waiting ones.
    storage = beating_storage(f"sqlite:///{tmp_path / 'studies.db'}", BEAT)
    study = optuna.create_study(storage=storage, study_name="run-x")
    study.enqueue_trial({"lr": 0.1})
    taken = study.ask()
    created = study.ask()
    assert (taken.number, created.number) == (0, 1)
    assert "fixed_params" in study.trials[0].system_attrs  # the enqueued one was taken

    _fail_stale(study)  # fresh beats: neither is stale yet
    states = [t.state for t in study.get_trials(deepcopy=False)]
    assert states == [TrialState.RUNNING, TrialState.RUNNING]

    time.sleep(3 * BEAT + 1.5)
    _fail_stale(study)
    states = [t.state for t in study.get_trials(deepcopy=False)]
    assert states == [TrialState.FAIL, TrialState.FAIL]


def test_a_plain_rdb_storage_would_keep_such_a_trial_running(tmp_path: Path) -> None:
    # The gap the subclass closes, pinned: should Optuna start beating at creation itself,
    # this fails and BeatingRDBStorage can go.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        storage = optuna.storages.RDBStorage(
            f"sqlite:///{tmp_path / 'plain.db'}", heartbeat_interval=BEAT, grace_period=BEAT
        )
    study = optuna.create_study(storage=storage)
    study.ask()
    time.sleep(BEAT + 1.5)
    _fail_stale(study)
    assert study.trials[0].state == TrialState.RUNNING
