"""The local knowledge base (``$ADVISOR_HOME/kb/local.parquet``): appended under a lock and
atomically, so concurrent runs lose no row and an interrupted write breaks nothing; a damaged
file is set aside with a warning, never fatal. And the trials a run counts."""

from __future__ import annotations

import io
import multiprocessing
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
import pytest

from advisor.core import Advisor, finished_trials
from advisor.errors import AdvisorWarning
from advisor.schemas import Recommendation
from learners.tuning import TuningResult, tune

optuna.logging.set_verbosity(optuna.logging.WARNING)


@pytest.fixture(scope="module")
def recommended() -> tuple[Advisor, Recommendation]:
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 1, (20, 3)), rng.normal(2, 1, (20, 3))])
    y = np.repeat(["a", "b"], 20)
    adv = Advisor("glyphs")
    return adv, adv.recommend(X, y)


def outcome(accuracy: float) -> TuningResult:
    study = optuna.create_study(storage=optuna.storages.InMemoryStorage())
    return TuningResult("scratch", "logreg", {"C": 1.0}, accuracy, study, 0.1, cv_accuracy=accuracy)


def remember(adv: Advisor, recommendation: Recommendation, times: int) -> None:
    for number in range(times):
        adv._remember(recommendation, [("scratch", outcome(number / 100))])


def test_concurrent_runs_lose_no_row(
    own_home: Path, recommended: tuple[Advisor, Recommendation]
) -> None:
    adv, recommendation = recommended
    fork = multiprocessing.get_context("fork")
    workers = [fork.Process(target=remember, args=(adv, recommendation, 8)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [worker.exitcode for worker in workers] == [0, 0, 0, 0]
    assert len(pd.read_parquet(adv.local_kb_path())) == 32


def test_a_write_cut_short_leaves_the_rows_there_were(
    own_home: Path, recommended: tuple[Advisor, Recommendation], monkeypatch: pytest.MonkeyPatch
) -> None:
    adv, recommendation = recommended
    remember(adv, recommendation, 2)
    real = pd.DataFrame.to_parquet

    def killed_midway(frame: pd.DataFrame, path: Any, *args: Any, **kwargs: Any) -> None:
        buffer = io.BytesIO()
        real(frame, buffer, *args, **kwargs)
        half = buffer.getvalue()[: len(buffer.getvalue()) // 2]
        if isinstance(path, str | Path):
            Path(path).write_bytes(half)
        else:
            path.write(half)
        raise KeyboardInterrupt  # the process stopped mid-write

    monkeypatch.setattr(pd.DataFrame, "to_parquet", killed_midway)
    with pytest.raises(KeyboardInterrupt):
        remember(adv, recommendation, 1)
    monkeypatch.undo()
    assert len(pd.read_parquet(adv.local_kb_path())) == 2


def test_a_damaged_file_is_set_aside_with_a_warning_and_the_next_check_starts_anew(
    own_home: Path, recommended: tuple[Advisor, Recommendation]
) -> None:
    adv, recommendation = recommended
    path = adv.local_kb_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"PAR1 cut short")
    with pytest.warns(AdvisorWarning, match="is damaged .* set aside as local.parquet.damaged-"):
        remember(adv, recommendation, 1)
    assert len(pd.read_parquet(path)) == 1
    (aside,) = path.parent.glob("local.parquet.damaged-*")
    assert aside.read_bytes() == b"PAR1 cut short"


def test_the_recommender_goes_on_without_a_damaged_file(
    own_home: Path, recommended: tuple[Advisor, Recommendation]
) -> None:
    adv, _ = recommended
    path = adv.local_kb_path()
    path.parent.mkdir(parents=True)
    pd.DataFrame({"task_id": ["x"]}).to_parquet(path)  # Parquet, but not the local KB's rows
    with pytest.warns(AdvisorWarning, match="lacks the columns family, variant, accuracy"):
        assert adv.recommender is not None
    assert not path.exists() and len(list(path.parent.glob("local.parquet.damaged-*"))) == 1


def test_a_one_trial_budget_runs_the_first_warm_start_and_leaves_none_waiting() -> None:
    rng = np.random.default_rng(1)
    X = np.vstack([rng.normal(0, 1, (12, 2)), rng.normal(3, 1, (12, 2))])
    y = np.repeat([0, 1], 12)
    warm = [("logreg", {}), ("logreg", {"C": 0.5}), ("gbm", {})]
    storage = optuna.storages.InMemoryStorage()
    result = tune("scratch", X, y, n_trials=1, warm_start=warm, storage=storage)
    states = [t.state for t in result.study.trials]
    assert states == [optuna.trial.TrialState.COMPLETE]
    assert result.variant == "logreg"  # the first configuration: the recommended defaults
    assert finished_trials(result.study) == 1


def test_finished_trials_are_complete_pruned_or_failed() -> None:
    study = optuna.create_study(storage=optuna.storages.InMemoryStorage())
    for state in ("complete", "pruned", "fail"):
        trial = study.ask()
        study.tell(trial, 0.5 if state == "complete" else None, state=_STATES[state])
    study.ask()  # running
    study.enqueue_trial({"x": 1.0})  # waiting, never run
    assert len(study.trials) == 5 and finished_trials(study) == 3


_STATES = {
    "complete": optuna.trial.TrialState.COMPLETE,
    "pruned": optuna.trial.TrialState.PRUNED,
    "fail": optuna.trial.TrialState.FAIL,
}
