"""Distributed mode for real: PostgreSQL metadata and Optuna storage, a Redis queue, and
separate ``advisor worker`` processes sharing one run's study.

Skipped, with the reason, where PostgreSQL or Redis is not reachable (``make test`` starts
them when they are installed: ``scripts/services-up``).
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import optuna
import pandas as pd
import pytest
from sklearn.datasets import load_digits

from advisor.settings import get_settings, reset_settings
from api import create_app
from api.auth import create_key
from learners.tuning import best_of

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
REDIS = "redis://127.0.0.1:6379/0"


def _reachable() -> str | None:
    """Why the distributed tests cannot run here, or None."""
    try:
        import psycopg
        import redis
    except ImportError as error:
        return f"the 'dist' extra is not installed ({error})"
    try:
        psycopg.connect(
            "host=127.0.0.1 port=5432 user=postgres dbname=postgres", connect_timeout=2
        ).close()
    except Exception as error:
        return f"PostgreSQL is not reachable on 127.0.0.1:5432 ({type(error).__name__})"
    try:
        redis.Redis.from_url(REDIS, socket_connect_timeout=2).ping()
    except Exception as error:
        return f"Redis is not reachable on 127.0.0.1:6379 ({type(error).__name__})"
    return None


REASON = _reachable()
pytestmark = [
    pytest.mark.skipif(REASON is not None, reason=f"distributed mode: {REASON}"),
    pytest.mark.slow,  # worker processes start torch and sklearn (seconds each)
]


@pytest.fixture
def distributed_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """A fresh PostgreSQL database and Redis queue name, as ADVISOR_* variables."""
    import psycopg

    name = f"advisor_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    env = {
        "ADVISOR_HOME": str(tmp_path / "home"),
        "ADVISOR_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}",
        "ADVISOR_QUEUE_URL": REDIS,
        "ADVISOR_QUEUE_NAME": name,
        "ADVISOR_ARTIFACTS_URL": str(tmp_path / "shared-artifacts"),
        "ADVISOR_RUN_PARALLELISM": "2",
        "ADVISOR_TRIAL_HEARTBEAT_SECONDS": "2",
        "ADVISOR_RUN_HEARTBEAT_SECONDS": "15",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    reset_settings()
    yield env
    reset_settings()
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """An ``advisor worker`` process with the distributed settings."""
    return subprocess.Popen(
        [sys.executable, "-m", "advisor", "worker"],
        env={**os.environ, **env},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def tails(logs: list[Path]) -> str:
    """The end of every worker's log, to explain a failure."""
    return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-8000:]}" for log in logs)


def wait_until_ready(log: Path, timeout: float = 90) -> None:
    """Wait for a worker's consumer to log that it started."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "consumer started" in log.read_text(errors="replace").lower():
            return
        time.sleep(0.3)
    raise AssertionError(f"worker did not start:\n{log.read_text(errors='replace')[-2000:]}")


def digits_csv() -> bytes:
    """Handwritten digits as a table: slow enough per trial (about a second) to share."""
    X, y = load_digits(return_X_y=True)
    frame = pd.DataFrame(X[:600], columns=[f"p{i}" for i in range(X.shape[1])])
    frame["digit"] = y[:600]
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode()


def start_run(env: dict[str, str], n_trials: int) -> tuple[Any, dict[str, str], str]:
    """The API app on the distributed settings, a key, and a started run (not executed)."""
    app = create_app(get_settings())
    key = create_key(app.extensions["advisor"].db, "team").key
    headers = {"Authorization": f"Bearer {key}"}
    client = app.test_client()
    answer = client.post(
        "/v1/datasets",
        data={"file": (io.BytesIO(digits_csv()), "digits.csv"), "label": "digit"},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert answer.status_code == 201, answer.json
    body = {
        "dataset_id": answer.json["id"],
        "family": "scratch",
        "n_trials": n_trials,
        "source": "glyphs",
    }
    answer = client.post("/v1/runs", json=body, headers=headers)
    assert answer.status_code == 202, answer.json
    return client, headers, answer.json["id"]


def wait_for(client: Any, headers: dict[str, str], run_id: str, test: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = client.get(f"/v1/runs/{run_id}", headers=headers).json
        if test(run):
            return run
        time.sleep(0.5)
    raise AssertionError(f"timed out; last state {run}")


def test_one_run_spreads_its_trials_over_two_workers_and_completes_once(
    distributed_env: dict[str, str], tmp_path: Path
) -> None:
    logs = [tmp_path / "worker-0.log", tmp_path / "worker-1.log"]
    workers = [start_worker(distributed_env, log) for log in logs]
    try:
        for log in logs:
            wait_until_ready(log)
        client, headers, run_id = start_run(distributed_env, n_trials=8)
        run = wait_for(
            client, headers, run_id, lambda r: r["state"] in {"succeeded", "failed"}, 240
        )
        assert run["state"] == "succeeded", run
        hosts = run["progress"]["workers"]
        assert len({worker.rsplit(":", 1)[0] for worker in hosts}) == 2, hosts  # two processes
        study = optuna.load_study(
            study_name=f"run-{run_id}", storage=distributed_env["ADVISOR_DATABASE_URL"]
        )
        finished = [t for t in study.trials if t.state.is_finished()]
        assert 8 <= len(study.trials) <= 10  # the budget, overshot by at most one per worker
        assert sum(hosts.values()) == len(finished)
        # The run keeps what best_of picks from the shared study: the best trial, or the
        # incumbent (the recommended configuration) when it is within one standard error.
        chosen = best_of(study, "scratch")
        assert run["result"]["cv_score"] == pytest.approx(chosen.cv_score)
        assert chosen.cv_score <= study.best_value
        report = client.get(f"/v1/runs/{run_id}/report?format=md", headers=headers)
        assert report.status_code == 200 and b"scratch" in report.data
    except AssertionError as error:
        for worker in workers:  # every live worker prints its threads' stacks to its log
            if worker.poll() is None:
                os.kill(worker.pid, signal.SIGUSR1)
        time.sleep(1)
        pytest.fail(f"{error}\n{tails(logs)}")
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(timeout=30)


def test_a_worker_killed_mid_trial_does_not_stop_the_run(
    distributed_env: dict[str, str], tmp_path: Path
) -> None:
    logs = [tmp_path / "worker-0.log", tmp_path / "worker-1.log"]
    workers = [start_worker(distributed_env, log) for log in logs]
    try:
        for log in logs:
            wait_until_ready(log)
        # A budget that outlasts the start: the kill must land mid-study, not on the worker
        # refitting the best learner once every trial is done (a run whose finishing worker
        # dies waits for its heartbeat to go stale and is resumed: the test below).
        client, headers, run_id = start_run(distributed_env, n_trials=12)
        # Both workers have finished a trial: each holds a part of the study now.
        running = wait_for(
            client, headers, run_id, lambda r: len(r["progress"].get("workers", {})) >= 2, 120
        )
        before = running["progress"]["trials_done"]
        victim = workers[0]
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(timeout=30)
        run = wait_for(
            client, headers, run_id, lambda r: r["state"] in {"succeeded", "failed"}, 240
        )
        assert run["state"] == "succeeded", run
        study = optuna.load_study(
            study_name=f"run-{run_id}", storage=distributed_env["ADVISOR_DATABASE_URL"]
        )
        finished = [t for t in study.trials if t.state.is_finished()]  # complete, pruned, failed
        assert len(finished) >= before  # nothing recorded before the kill is lost
        assert not [t for t in study.trials if t.state == optuna.trial.TrialState.RUNNING]
    except AssertionError as error:
        for worker in workers:  # every live worker prints its threads' stacks to its log
            if worker.poll() is None:
                os.kill(worker.pid, signal.SIGUSR1)
        time.sleep(1)
        pytest.fail(f"{error}\n{tails(logs)}")
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
                worker.wait(timeout=30)


def test_a_run_whose_only_worker_was_killed_is_resumed_by_a_new_one(
    distributed_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every worker of the run gone: once its heartbeat is stale, the new worker's
    housekeeper queues it again, and it goes on from the trials already in its study."""
    monkeypatch.setenv("ADVISOR_RUN_PARALLELISM", "1")  # one task: none left in the queue
    reset_settings()
    logs = [tmp_path / "worker-0.log", tmp_path / "worker-1.log"]
    workers = [start_worker(distributed_env, logs[0])]
    try:
        wait_until_ready(logs[0])
        client, headers, run_id = start_run(distributed_env, n_trials=6)
        running = wait_for(
            client, headers, run_id, lambda r: r["progress"].get("trials_done", 0) >= 2, 120
        )
        before = running["progress"]["trials_done"]
        os.kill(workers[0].pid, signal.SIGKILL)
        workers[0].wait(timeout=30)
        workers.append(start_worker(distributed_env, logs[1]))
        wait_until_ready(logs[1])
        run = wait_for(
            client, headers, run_id, lambda r: r["state"] in {"succeeded", "failed"}, 240
        )
        assert run["state"] == "succeeded", run
        assert run["resumes"] == 1
        study = optuna.load_study(
            study_name=f"run-{run_id}", storage=distributed_env["ADVISOR_DATABASE_URL"]
        )
        finished = [t for t in study.trials if t.state.is_finished()]
        assert len(finished) >= before  # the trials done before the kill were kept
        # the budget, plus at most the trial the kill interrupted (failed, then retried)
        assert 6 <= len(finished) <= 7
        assert len(run["progress"]["workers"]) == 2  # both processes ran trials of it
    except AssertionError as error:
        for worker in workers:
            if worker.poll() is None:
                os.kill(worker.pid, signal.SIGUSR1)
        time.sleep(1)
        pytest.fail(f"{error}\n{tails(logs)}")
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
                worker.wait(timeout=30)
