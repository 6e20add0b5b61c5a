"""The service under load: HTTP throughput with concurrent clients, and trials/s of one study.

    .venv/bin/python -m bench.load http                    # 60 s, 8 clients, 2 gunicorn workers
    .venv/bin/python -m bench.load http --clients 16 --workers 4 --seconds 120
    .venv/bin/python -m bench.load trials                  # 1, 2 and 4 processes, SQLite
    .venv/bin/python -m bench.load trials --pruner none    # every trial runs all 5 folds
    .venv/bin/python -m bench.load trials --storage postgresql+psycopg://postgres@127.0.0.1:5432/test

``http`` starts ``gunicorn --workers W --bind 127.0.0.1:PORT 'api:create_app()'`` (the
production command of docs/API.md, default worker timeout of 30 s included) with a fresh
temporary ``ADVISOR_HOME`` and a rate limit too high to matter; other ``ADVISOR_*`` variables
of the environment pass through (``ADVISOR_DATABASE_URL`` to measure PostgreSQL). Before it,
``advisor keys create --tenant load`` makes the key every request carries (authentication is
part of what is measured) and, as the first process on that home, creates the database schema,
so that gunicorn's workers, started together, find it made. The benchmark uploads one dataset
(a 5-way 5-shot glyphs/greek task as NPZ), then warms every worker up — the first
recommendation in a process loads the recommender, seconds — with rounds of W
concurrent requests until the slowest answer of a round stays within 1.5x of the previous
round's; those requests are left out of the figures (a warm-up with a 5xx stops the benchmark).
Then C client threads, one ``requests.Session`` each, cycle through ``POST /v1/recommendations``
(the main read path), ``GET /v1/datasets/{id}`` and ``GET /v1/runs`` for S seconds. It prints
requests/s, recommendations/s, latency percentiles per route (2xx answers; with more clients
than workers they include waiting for a free worker), the count of each status class, and the
number of 5xx answers, which must be 0 (the exit status is 1 otherwise). Gunicorn is stopped at
the end, also on Ctrl-C and on errors. The clients run on the same machine and take CPU from
the server: on a small machine the figures are those of the pair.

``trials`` measures trials per second of one Optuna study shared by 1, 2 and 4 processes
(spawned), each calling :func:`learners.tuning.tune` as a run's part does in the service — the
same study name, its own sampler seed, ``MaxTrialsCallback(N, states=None)`` — on the storage
the service builds (:meth:`api.services.Services.study_storage`: heartbeats, retry of stale
trials, SQLite lock timeout), whose tables are created once before the processes start, as
the service does under its schema lock. The objective is the real one: scratch/logreg, 5-fold
cross-validation on scikit-learn's digits (1797 x 64), one torch and one BLAS thread per
process. Wall time runs from the moment every process is ready (imports done) to the last
one's end; trials counts every trial the study holds (a process that was mid-trial when the
budget was reached finishes it, so a few more than N is normal). The service's median pruner
stops poor trials after a fold or two, so trial times vary with what each sampler proposes;
``--pruner none`` gives a steadier curve. The curve flattens at the number of cores.

Both measure the machine they run on: run nothing else heavy meanwhile.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import io
import multiprocessing
import os
import platform
import queue
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import requests
import torch
from sklearn.datasets import load_digits
from sqlalchemy.engine import make_url
from threadpoolctl import threadpool_limits

from advisor.datasets import load_builtin, sample_task
from advisor.kb.store import SHIPPED, parts_dir
from advisor.settings import Settings
from api.services import Services
from learners.tuning import PrunerName, tune

ROOT = Path(__file__).resolve().parent.parent
APP = "api:create_app()"
ROUTES = {
    "recommendation": "POST /v1/recommendations",
    "dataset": "GET /v1/datasets/{id}",
    "runs": "GET /v1/runs",
}
CYCLE = ("recommendation", "dataset", "runs")
KB_CODES = ("kb.not_found", "kb.corrupt")


class BenchError(Exception):
    """A benchmark that cannot go on; its message says why."""


def header(command: str) -> None:
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d")
    print(
        f"`python -m bench.load {command}` — {now}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}\n"
    )


def _on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


# -- http ------------------------------------------------------------------------------------


def check_kb() -> None:
    """Stop with a clear message when the shipped knowledge base is not there."""
    missing = [p for p in (SHIPPED, SHIPPED.with_suffix(".json")) if not p.is_file()]
    if missing:
        where = ", ".join(str(p.relative_to(ROOT)) for p in missing)
        parts = parts_dir(SHIPPED)
        building = (
            f" ({parts.relative_to(ROOT)}/ holds {len(list(parts.glob('*.parquet')))} parts of "
            "a build in progress or interrupted)"
            if parts.is_dir()
            else ""
        )
        raise BenchError(
            f"The shipped knowledge base is missing: {where} not found{building}. "
            "POST /v1/recommendations needs it, so the http benchmark cannot run; build it "
            "first (`advisor kb build --out advisor/data/kb/kb.parquet`, see docs/ADVISOR.md)."
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def gunicorn_command(workers: int, port: int, app: str = APP) -> list[str]:
    beside = Path(sys.executable).parent / "gunicorn"
    program = str(beside) if beside.is_file() else shutil.which("gunicorn")
    if program is None:
        raise BenchError("gunicorn is not installed (pip install 'automl-advisor[dist]').")
    return [program, "--workers", str(workers), "--bind", f"127.0.0.1:{port}", app]


def log_tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@contextlib.contextmanager
def gunicorn(
    command: list[str], env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """Gunicorn running ``command`` in its own process group; stopped on the way out."""
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        yield process
    finally:
        stop(process)


def server_env(home: Path) -> dict[str, str]:
    """The environment of the service's processes: a fresh home, a rate limit out of reach."""
    env = dict(os.environ)
    env.pop("ADVISOR_OPEN_ACCESS", None)
    env.update(ADVISOR_HOME=str(home), ADVISOR_RATE_LIMIT="1000000/minute", PYTHONUNBUFFERED="1")
    return env


def api_key(env: dict[str, str]) -> str:
    """A new key of tenant ``load`` (``advisor keys create``; it also creates the schema)."""
    beside = Path(sys.executable).parent / "advisor"
    program = str(beside) if beside.is_file() else shutil.which("advisor")
    if program is None:
        raise BenchError("The `advisor` command is not installed (pip install -e .).")
    made = subprocess.run(
        [program, "keys", "create", "--tenant", "load"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    key = made.stdout.strip()
    if made.returncode != 0 or not key.startswith("adv_"):
        raise BenchError(f"`advisor keys create` failed ({made.returncode}):\n{made.stderr}")
    return key


@dataclass(frozen=True)
class Server:
    """Where the service answers, and the key to send."""

    base: str
    key: str

    def session(self) -> requests.Session:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {self.key}"
        return session


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the gunicorn master (graceful), then SIGKILL to its whole group."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=20)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # workers left behind, if any
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)


def wait_ready(process: subprocess.Popen[bytes], base: str, log: Path, limit: float) -> float:
    """Seconds until ``/readyz`` answers 200 (the schema is migrated, the queue reachable)."""
    start = time.perf_counter()
    while time.perf_counter() - start < limit:
        if process.poll() is not None:
            raise BenchError(f"gunicorn exited with {process.returncode}:\n{log_tail(log)}")
        try:
            if requests.get(f"{base}/readyz", timeout=5).status_code == 200:
                return time.perf_counter() - start
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise BenchError(f"gunicorn was not ready after {limit:.0f} s:\n{log_tail(log)}")


def task_npz() -> bytes:
    """A 5-way 5-shot task of glyphs/greek as NPZ bytes (X: 25 x 28 x 28, y: labels)."""
    task = sample_task(load_builtin("glyphs", domain="greek", seed=0), ways=5, shots=5, seed=0)
    buffer = io.BytesIO()
    np.savez(buffer, X=task.X_support, y=task.y_support)
    return buffer.getvalue()


def upload(server: Server) -> str:
    """Upload the task; the dataset's id."""
    with server.session() as session:
        answer = session.post(
            f"{server.base}/v1/datasets",
            files={"file": ("greek-5way-5shot.npz", task_npz(), "application/octet-stream")},
            timeout=120,
        )
    if answer.status_code != 201:
        raise BenchError(f"Upload answered {answer.status_code}: {answer.text[:1000]}")
    return str(answer.json()["id"])


@dataclass(frozen=True)
class Sample:
    """One request: its route kind, status (0: no answer), latency and when it ended."""

    kind: str
    status: int
    seconds: float
    ended: float
    body: str = ""


def send(session: requests.Session, base: str, kind: str, dataset_id: str) -> Sample:
    began = time.perf_counter()
    try:
        if kind == "recommendation":
            answer = session.post(
                f"{base}/v1/recommendations", json={"dataset_id": dataset_id}, timeout=300
            )
        elif kind == "dataset":
            answer = session.get(f"{base}/v1/datasets/{dataset_id}", timeout=300)
        else:
            answer = session.get(f"{base}/v1/runs", timeout=300)
    except requests.RequestException as error:
        ended = time.perf_counter()
        return Sample(kind, 0, ended - began, ended, f"{type(error).__name__}: {error}")
    ended = time.perf_counter()
    body = answer.text[:2000] if answer.status_code >= 400 else ""
    return Sample(kind, answer.status_code, ended - began, ended, body)


def kb_problem(samples: list[Sample]) -> None:
    """Stop when the server says it has no usable knowledge base."""
    for sample in samples:
        if sample.kind == "recommendation" and any(code in sample.body for code in KB_CODES):
            raise BenchError(
                "The service has no usable knowledge base: POST /v1/recommendations answered "
                f"{sample.status} {sample.body[:500]}"
            )


def warm_up(server: Server, dataset_id: str, workers: int) -> tuple[int, float, list[Sample]]:
    """Rounds of ``workers`` concurrent cycles until the slowest answer settles.

    Gunicorn's sync workers accept a connection only when idle, so W concurrent requests
    reach W different workers while the first ones are busy loading the recommender.
    """
    start, previous, rounds, everything = time.perf_counter(), None, 0, []
    for rounds in range(1, 21):
        answers: list[Sample] = []

        def cycle(answers: list[Sample] = answers) -> None:
            with server.session() as session:
                answers.extend(send(session, server.base, kind, dataset_id) for kind in CYCLE)

        threads = [threading.Thread(target=cycle, daemon=True) for _ in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        kb_problem(answers)
        everything.extend(answers)
        if failed(answers):
            break  # the caller reports them; sending more would only repeat them
        slowest = max(s.seconds for s in answers)
        if rounds >= 2 and previous is not None and previous / 1.5 <= slowest <= previous * 1.5:
            break
        previous = slowest
    return rounds, time.perf_counter() - start, everything


def load(
    server: Server, dataset_id: str, clients: int, seconds: float
) -> tuple[list[Sample], float]:
    """``clients`` threads cycling through the routes for ``seconds``; samples and wall time."""
    samples: list[Sample] = []
    lock = threading.Lock()
    stopping = threading.Event()
    ready = threading.Barrier(clients + 1)
    clock: dict[str, float] = {}

    def client(index: int) -> None:
        mine: list[Sample] = []
        with server.session() as session:
            ready.wait()
            deadline = clock["start"] + seconds
            step = index  # clients start at different routes
            while not stopping.is_set() and time.perf_counter() < deadline:
                mine.append(send(session, server.base, CYCLE[step % len(CYCLE)], dataset_id))
                step += 1
        with lock:
            samples.extend(mine)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    clock["start"] = time.perf_counter()
    ready.wait()
    try:
        for thread in threads:
            thread.join()
    finally:
        stopping.set()
    ended = max((s.ended for s in samples), default=clock["start"] + seconds)
    return samples, ended - clock["start"]


def milliseconds(values: list[float], q: float) -> str:
    return f"{1000 * float(np.quantile(values, q)):.0f}" if values else "—"


def report(samples: list[Sample], wall: float) -> int:
    """Print the tables; the number of 5xx answers and failed connections."""
    by_kind: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        by_kind[sample.kind].append(sample)
    print(
        f"{len(samples)} requests in {wall:.1f} s: **{len(samples) / wall:.1f} requests/s**, "
        f"**{len(by_kind['recommendation']) / wall:.2f} recommendations/s**.\n"
    )
    print("| route | requests | per second | 2xx p50 (ms) | p90 (ms) | p99 (ms) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for kind in (*CYCLE, "all"):
        group = samples if kind == "all" else by_kind[kind]
        ok = [s.seconds for s in group if 200 <= s.status < 300]
        name = "all" if kind == "all" else f"`{ROUTES[kind]}`"
        print(
            f"| {name} | {len(group)} | {len(group) / wall:.2f} | {milliseconds(ok, 0.5)} | "
            f"{milliseconds(ok, 0.9)} | {milliseconds(ok, 0.99)} |"
        )
    classes = Counter("no answer" if s.status == 0 else f"{s.status // 100}xx" for s in samples)
    statuses = Counter(s.status for s in samples if s.status)
    print("\n| status class | count |\n| --- | --- |")
    for name in ("2xx", "3xx", "4xx", "5xx", "no answer"):
        detail = ", ".join(
            f"{code}: {n}" for code, n in sorted(statuses.items()) if f"{code // 100}xx" == name
        )
        print(f"| {name} | {classes[name]}{f' ({detail})' if detail and name != '2xx' else ''} |")
    failures = classes["5xx"] + classes["no answer"]
    print(f"\n**5xx answers: {classes['5xx']}** (must be 0); no answer: {classes['no answer']}.")
    if statuses[429]:
        print("429 answers: the rate limit was reached (ADVISOR_RATE_LIMIT is set too low).")
    shown = failed(samples)[:3]
    for sample in shown:
        body = " ".join(sample.body.split())[:500]
        print(f"\n{ROUTES[sample.kind]} → {sample.status or 'no answer'}: {body}")
    return failures


def run_http(
    clients: int, workers: int, seconds: float, *, app: str = APP, check: bool = True
) -> int:
    """The ``http`` benchmark; its exit status (1 when some request got a 5xx or no answer).

    ``app`` and ``check=False`` serve to try the benchmark itself against another app.
    """
    if check:
        check_kb()
    port = free_port()
    command = gunicorn_command(workers, port, app)
    base = f"http://127.0.0.1:{port}"
    header(f"http --clients {clients} --workers {workers} --seconds {seconds:g}")
    passed = sorted(
        k
        for k in os.environ
        if k.startswith("ADVISOR_")
        and k not in {"ADVISOR_HOME", "ADVISOR_OPEN_ACCESS", "ADVISOR_RATE_LIMIT"}
    )
    print(
        f"Server: `gunicorn --workers {workers} --bind 127.0.0.1:{port} '{app}'`, "
        "ADVISOR_HOME a fresh temporary folder (SQLite database and queue unless set), "
        "ADVISOR_RATE_LIMIT=1000000/minute, an API key of tenant `load`"
        + (f"; also from the environment: {', '.join(passed)}" if passed else "")
        + f". {clients} client threads on the same machine, each cycling through "
        + ", ".join(f"`{ROUTES[k]}`" for k in CYCLE)
        + ".\n",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="advisor-load-") as folder:
        env, log = server_env(Path(folder) / "home"), Path(folder) / "gunicorn.log"
        server = Server(base, api_key(env))
        with gunicorn(command, env, log) as process:
            started = wait_ready(process, base, log, limit=180)
            dataset_id = upload(server)
            rounds, warm_seconds, warm = warm_up(server, dataset_id, workers)
            cold = max(s.seconds for s in warm if s.kind == "recommendation")
            print(
                f"Ready in {started:.1f} s; dataset {dataset_id} uploaded; warm-up: {rounds} "
                f"round{'s' if rounds > 1 else ''} of {workers} concurrent cycles, "
                f"{warm_seconds:.1f} s (slowest first recommendation {cold:.1f} s), left out "
                "of the figures.\n",
                flush=True,
            )
            if failed(warm):
                print("The warm-up failed; no load was sent. Its requests:\n")
                report(warm, warm_seconds)
                diagnose(log)
                return 1
            samples, wall = load(server, dataset_id, clients, seconds)
            if process.poll() is not None:
                print(f"gunicorn exited with {process.returncode} during the load.")
        failures = report(samples, wall)
        if failures or process.returncode not in (None, 0, -signal.SIGTERM):
            diagnose(log)
    return 1 if failures else 0


def failed(samples: list[Sample]) -> list[Sample]:
    """The requests answered 5xx or not at all."""
    return [s for s in samples if s.status >= 500 or s.status == 0]


def diagnose(log: Path) -> None:
    """The end of gunicorn's log, and what its worker timeouts mean."""
    text = log.read_text(errors="replace") if log.is_file() else ""
    timeouts = text.count("WORKER TIMEOUT")
    if timeouts:
        print(
            f"\ngunicorn killed {timeouts} worker(s) for exceeding its worker timeout (30 s by "
            "default): a request, typically the first recommendation of a worker that fits the "
            "recommender, ran longer. The client got a 500 (gunicorn's HTML page) or no answer, "
            "and the replacement worker starts that fit again on its next recommendation."
        )
    print(f"\nLast lines of the gunicorn log:\n```\n{log_tail(log)}\n```")


# -- trials ----------------------------------------------------------------------------------


def service_storage(url: str) -> Any:
    """The Optuna storage the service builds for ``url`` (the runs' configuration)."""
    # study_storage() reads the settings only; the other parts are not needed here.
    parts: Any = None
    return Services(
        settings=Settings(optuna_storage=url), db=parts, store=parts, queue=parts
    ).study_storage()


def trial_process(
    *,
    url: str,
    study_name: str,
    part: int,
    n_trials: int,
    pruner: PrunerName,
    go: Any,
    messages: Any,
) -> None:
    """One worker process of the study (run in a spawned interpreter)."""
    torch.set_num_threads(1)
    threadpool_limits(1)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    X, y = load_digits(return_X_y=True)
    storage = service_storage(url)
    messages.put(("ready", part, time.monotonic()))
    go.wait()
    tune(
        "scratch",
        X,
        y,
        choices=["logreg"],
        n_trials=n_trials,
        storage=storage,
        study_name=study_name,
        sampler_seed=part,
        pruner=pruner,
        callbacks=[optuna.study.MaxTrialsCallback(n_trials, states=None)],
    )
    messages.put(("done", part, time.monotonic()))


def collect(messages: Any, workers: list[Any], what: str) -> list[float]:
    """The times of one ``what`` message from every worker (stops if a worker dies)."""
    times: list[float] = []
    while len(times) < len(workers):
        try:
            kind, _, when = messages.get(timeout=1)
        except queue.Empty:
            dead = [w for w in workers if w.exitcode not in (None, 0)]
            if dead:
                raise BenchError(
                    f"A trial process exited with {dead[0].exitcode} (its error is above)."
                ) from None
            continue
        if kind == what:
            times.append(float(when))
    return times


def measure_trials(url: str, processes: int, n_trials: int, pruner: PrunerName) -> dict[str, Any]:
    """One study run by ``processes`` spawned processes; its trials and wall seconds."""
    # Optuna's tables are created first, once, as the service does under its schema lock
    # (several processes creating them together on a fresh PostgreSQL database collide).
    storage = service_storage(url)
    context = multiprocessing.get_context("spawn")
    go, messages = context.Event(), context.Queue()
    name = f"bench-load-{processes}p-{uuid.uuid4().hex[:8]}"
    workers = [
        context.Process(
            target=trial_process,
            kwargs={
                "url": url,
                "study_name": name,
                "part": part,
                "n_trials": n_trials,
                "pruner": pruner,
                "go": go,
                "messages": messages,
            },
            daemon=True,
        )
        for part in range(processes)
    ]
    for worker in workers:
        worker.start()
    try:
        collect(messages, workers, "ready")
        go.set()
        start = time.monotonic()
        finished = collect(messages, workers, "done")
        for worker in workers:
            worker.join()
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
                worker.join(5)
    trials = optuna.load_study(study_name=name, storage=storage).get_trials(deepcopy=False)
    states = Counter(t.state.name.lower() for t in trials)
    optuna.delete_study(study_name=name, storage=storage)
    return {"trials": len(trials), "seconds": max(finished) - start, "states": states}


def run_trials(
    processes: list[int], n_trials: int, storage: str | None, pruner: PrunerName
) -> None:
    header(
        f"trials --workers {' '.join(map(str, processes))} --trials {n_trials}"
        + (f" --storage {make_url(storage).render_as_string()}" if storage else "")
        + (f" --pruner {pruner}" if pruner != "median" else "")
    )
    with tempfile.TemporaryDirectory(prefix="advisor-load-") as folder:
        url = storage or f"sqlite:///{Path(folder) / 'optuna.sqlite3'}"
        kind = url.split(":", 1)[0]
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
        print(
            f"One study, scratch/logreg on digits (1797 x 64, 5 folds), {n_trials} trials, "
            f"pruner {pruner}, "
            f"storage {kind} ({'a temporary file' if storage is None else 'given'}); "
            f"{os.cpu_count()} CPUs ({cores} usable by this process).\n",
            flush=True,
        )
        print("| workers | trials | complete/pruned/failed | wall (s) | trials/s | speed-up |")
        print("| --- | --- | --- | --- | --- | --- |", flush=True)
        base: float | None = None
        for count in processes:
            result = measure_trials(url, count, n_trials, pruner)
            rate = result["trials"] / result["seconds"]
            base = rate if base is None else base
            states = result["states"]
            speed_up = f"{rate / base:.2f}x"
            print(
                f"| {count} | {result['trials']} | {states['complete']}/{states['pruned']}/"
                f"{states['fail']} | {result['seconds']:.1f} | {rate:.2f} | {speed_up} |",
                flush=True,
            )
    print(
        f"\nSpeed-up is against the first row ({processes[0]} process"
        f"{'es' if processes[0] > 1 else ''}). Expect it to flatten at {cores or os.cpu_count()} "
        "processes, the cores this machine has."
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    commands = parser.add_subparsers(dest="what", required=True)
    http = commands.add_parser("http", help="gunicorn under concurrent clients")
    http.add_argument("--clients", type=int, default=8, help="client threads (default 8)")
    http.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    http.add_argument("--seconds", type=float, default=60, help="measured seconds (default 60)")
    trials = commands.add_parser("trials", help="trials/s of one study, 1 to K processes")
    trials.add_argument(
        "--workers", type=int, nargs="+", default=[1, 2, 4], help="process counts (1 2 4)"
    )
    trials.add_argument("--trials", type=int, default=48, help="trials per study (default 48)")
    trials.add_argument(
        "--storage", default=None, help="Optuna RDB URL (default: a temporary SQLite file)"
    )
    trials.add_argument(
        "--pruner",
        choices=["median", "hyperband", "none"],
        default="median",
        help="the study's pruner (default median, the service's; none: steadier trial times)",
    )
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        if args.what == "http":
            sys.exit(run_http(args.clients, args.workers, args.seconds))
        run_trials(args.workers, args.trials, args.storage, args.pruner)
    except BenchError as error:
        sys.exit(f"bench.load: {error}")
    except KeyboardInterrupt:
        sys.exit("bench.load: interrupted")


if __name__ == "__main__":
    main()
