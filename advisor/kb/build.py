"""``build_kb``: measure every task of a grid, in parallel, resumably, with progress."""

from __future__ import annotations

import datetime
import hashlib
import platform
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
import sklearn
import torch
from tqdm import tqdm

from advisor import __version__
from advisor.kb import store
from advisor.kb.domains import kb_source
from advisor.kb.grid import TaskSpec
from advisor.kb.runner import ALL_VARIANTS, run_task, run_tuned

TUNED_MAX_SUPPORT = 50


def one_thread() -> None:
    """Worker set-up: one torch thread (see docs/LEARNERS.md), Optuna's per-trial logs off."""
    torch.set_num_threads(1)
    optuna.logging.set_verbosity(optuna.logging.WARNING)


def _measure(job: tuple[list[TaskSpec], frozenset[str], int]) -> list[dict[str, Any]]:
    specs, tuned, trials = job
    rows = []
    for spec in specs:
        rows += run_task(spec)
        if spec.task_id in tuned:
            rows += run_tuned(spec, trials=trials)
    return rows


def _round_robin(specs: Sequence[TaskSpec]) -> list[TaskSpec]:
    """``specs`` reordered to take one task of each domain in turn.

    Grid order is kept within a domain; a build stopped early still covers every domain.
    """
    by_domain: dict[str, list[TaskSpec]] = {}
    for spec in specs:
        by_domain.setdefault(spec.domain, []).append(spec)
    queues = list(by_domain.values())
    ordered: list[TaskSpec] = []
    for index in range(max((len(q) for q in queues), default=0)):
        ordered += [queue[index] for queue in queues if index < len(queue)]
    return ordered


def _batches(specs: Sequence[TaskSpec], size: int) -> Iterator[list[TaskSpec]]:
    for start in range(0, len(specs), size):
        yield list(specs[start : start + size])


def build_kb(
    specs: Sequence[TaskSpec],
    out: str | Path,
    *,
    workers: int = 1,
    batch: int = 4,
    tuned: int = 0,
    tuned_trials: int = 10,
    progress: bool = True,
    note: Callable[[str], None] | None = None,
    options: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Measure every task of ``specs`` and write the knowledge base to ``out``.

    Tasks already measured by an interrupted build of ``out``, or held by a knowledge base
    already at ``out`` (a partial one written by :func:`finish_kb`, say), are skipped. Work
    is spread over ``workers`` processes with one torch thread each, ``batch`` tasks at a
    time; results do not depend on the number of workers (every task is seeded by its spec).
    ``tuned`` tasks, drawn with a fixed seed among those with at most
    ``TUNED_MAX_SUPPORT`` support examples (a study costs trials × folds fits), are also
    tuned family by family with ``tuned_trials`` Optuna trials
    (:func:`~advisor.kb.runner.run_tuned`). ``options`` (the grid's options: domains,
    repeats, ``max_queries``, ``limit``) are recorded in the provenance (:func:`finish_kb`).

    The table returned carries its provenance in ``attrs["provenance"]``; the ``complete``
    of its last ``builds`` entry (this build's) is false when some task of ``specs`` is still
    missing (a measurement lost on the way).
    """
    path = Path(out)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    store.extend_existing(path)
    done = store.done_task_ids(path)
    grid_ids = {spec.task_id for spec in specs}
    todo = _round_robin([spec for spec in specs if spec.task_id not in done])
    say = note or (lambda _message: None)
    others = len(done - grid_ids)
    kept = f" (and {others} tasks of other grids kept)" if others else ""
    say(f"{len(specs)} tasks, {len(done & grid_ids)} already measured, {len(todo)} to go{kept}")
    sources = sorted({spec.source for spec in specs})
    checksums = {name: kb_source(name).info for name in sources}  # builds missing ones first
    offset = store.next_part_index(path)  # past every part there, never over one
    bar = tqdm(total=len(todo), disable=not progress, unit="task")
    tuned_ids = _tuned_ids(specs, tuned)
    batches = [(chunk, tuned_ids, tuned_trials) for chunk in _batches(todo, batch)]
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers, initializer=one_thread) as pool:
            for index, rows in enumerate(pool.map(_measure, batches)):
                store.write_part(path, rows, offset + index)
                bar.update(len(batches[index][0]))
    else:
        for index, job in enumerate(batches):
            store.write_part(path, _measure(job), offset + index)
            bar.update(len(job[0]))
    bar.close()
    return finish_kb(
        specs,
        path,
        tuned_trials=tuned_trials,
        checksums=checksums,
        options={**(options or {}), "tuned": tuned},
    )


def _tuned_ids(specs: Sequence[TaskSpec], tuned: int) -> frozenset[str]:
    small = [s for s in specs if s.ways * s.shots <= TUNED_MAX_SUPPORT]
    chosen = np.random.default_rng(0).permutation(len(small))[:tuned]
    return frozenset(small[i].task_id for i in chosen)


def finish_kb(
    specs: Sequence[TaskSpec],
    out: str | Path,
    *,
    tuned_trials: int = 10,
    checksums: dict[str, dict[str, Any]] | None = None,
    keep_parts: bool = False,
    options: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Write the knowledge base ``out`` from the tasks of ``specs`` measured so far.

    :func:`build_kb` calls it when every task is measured. Called on an unfinished build
    (``advisor kb finish``), it writes what there is — the provenance records how many of
    the grid's tasks that is — and, with ``keep_parts``, keeps the partial results so that
    a later ``build_kb`` of the same grid resumes and rewrites the file complete.

    The provenance describes the whole file, which may hold the tasks of earlier builds
    (:func:`~advisor.kb.store.extend_existing`): ``builds`` lists each grid built into it
    with its ``options`` (one entry per grid: a resumed or finished build of the same grid
    replaces its entry), and ``grid`` (every build's domains), ``grid_tasks`` (the tasks the
    file holds plus those its builds still miss), ``complete`` (no build misses a task) and
    ``sources`` sum them up.
    """
    path = Path(out)
    measured = store.done_task_ids(path)
    if checksums is None:
        checksums = {name: kb_source(name).info for name in sorted({s.source for s in specs})}
    created = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    grid_ids = sorted({spec.task_id for spec in specs})
    this_build = {
        "created": created,
        "grid": sorted({s.domain for s in specs}),
        "options": dict(options or {}),
        "tuned_trials": tuned_trials,
        "grid_tasks": len(grid_ids),
        "measured": len(measured.intersection(grid_ids)),
        "complete": measured.issuperset(grid_ids),
        "grid_sha256": hashlib.sha256("\n".join(grid_ids).encode()).hexdigest(),
    }
    previous = store.previous_provenance(path) or {}
    builds = [b for b in _earlier_builds(previous) if not _same_grid(b, this_build)]
    builds.append(this_build)
    earlier_sources = previous.get("sources")
    sources = {
        **(earlier_sources if isinstance(earlier_sources, dict) else {}),
        **{name: info.get("weights_sha256") for name, info in checksums.items()},
    }
    missing = sum(max(0, int(b.get("grid_tasks", 0)) - int(b.get("measured", 0))) for b in builds)
    provenance = {
        "created": created,
        "advisor": __version__,
        "torch": torch.__version__,
        "scikit_learn": sklearn.__version__,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {platform.system()}",
        "variants": [f"{f}/{v}" for f, v in ALL_VARIANTS],
        "sources": dict(sorted(sources.items())),
        "grid": sorted({domain for b in builds for domain in b.get("grid", [])}),
        "tuned_trials": tuned_trials,
        "grid_tasks": len(measured) + missing,
        "complete": all(b.get("complete", False) for b in builds),
        "builds": builds,
    }
    return store.finish(path, provenance, keep_parts=keep_parts)


def _earlier_builds(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The builds a provenance record lists; one made before ``builds`` was kept counts as one."""
    builds = record.get("builds")
    if isinstance(builds, list):
        return [b for b in builds if isinstance(b, dict)]
    if not isinstance(record.get("grid"), list):
        return []
    complete = bool(record.get("complete", False))
    grid_tasks = int(record.get("grid_tasks", record.get("tasks", 0)))
    return [
        {
            "created": record.get("created"),
            "grid": record["grid"],
            "options": {},
            "tuned_trials": record.get("tuned_trials"),
            "grid_tasks": grid_tasks,
            "measured": grid_tasks if complete else min(grid_tasks, int(record.get("tasks", 0))),
            "complete": complete,
        }
    ]


def _same_grid(earlier: dict[str, Any], build: dict[str, Any]) -> bool:
    """Whether ``earlier`` describes the grid of ``build`` (so ``build`` replaces it)."""
    if "grid_sha256" in earlier:
        return bool(earlier["grid_sha256"] == build["grid_sha256"])
    return bool(
        earlier.get("grid") == build["grid"] and earlier.get("grid_tasks") == build["grid_tasks"]
    )
