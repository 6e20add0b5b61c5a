"""``build_kb``: measure every task of a grid, in parallel, resumably, with progress."""

from __future__ import annotations

import datetime
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
) -> pd.DataFrame:
    """Measure every task of ``specs`` and write the knowledge base to ``out``.

    Tasks already measured by an interrupted build of ``out``, or held by a knowledge base
    already at ``out`` (a partial one written by :func:`finish_kb`, say), are skipped. Work
    is spread over ``workers`` processes with one torch thread each, ``batch`` tasks at a
    time; results do not depend on the number of workers (every task is seeded by its spec).
    ``tuned`` tasks, drawn with a fixed seed among those with at most
    ``TUNED_MAX_SUPPORT`` support examples (a study costs trials × folds fits), are also
    tuned family by family with ``tuned_trials`` Optuna trials
    (:func:`~advisor.kb.runner.run_tuned`).
    """
    path = Path(out)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    store.extend_existing(path)
    done = store.done_task_ids(path)
    todo = _round_robin([spec for spec in specs if spec.task_id not in done])
    say = note or (lambda _message: None)
    say(f"{len(specs)} tasks, {len(done)} already measured, {len(todo)} to go")
    sources = sorted({spec.source for spec in specs})
    checksums = {name: kb_source(name).info for name in sources}  # builds missing ones first
    offset = len(list(store.parts_dir(path).glob("*.parquet"))) if done else 0
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
    return finish_kb(specs, path, tuned_trials=tuned_trials, checksums=checksums)


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
) -> pd.DataFrame:
    """Write the knowledge base ``out`` from the tasks of ``specs`` measured so far.

    :func:`build_kb` calls it when every task is measured. Called on an unfinished build
    (``advisor kb finish``), it writes what there is — the provenance records how many of
    the grid's tasks that is — and, with ``keep_parts``, keeps the partial results so that
    a later ``build_kb`` of the same grid resumes and rewrites the file complete.
    """
    path = Path(out)
    measured = store.done_task_ids(path)
    if checksums is None:
        checksums = {name: kb_source(name).info for name in sorted({s.source for s in specs})}
    provenance = {
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "advisor": __version__,
        "torch": torch.__version__,
        "scikit_learn": sklearn.__version__,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {platform.system()}",
        "variants": [f"{f}/{v}" for f, v in ALL_VARIANTS],
        "sources": {name: info.get("weights_sha256") for name, info in checksums.items()},
        "grid": sorted({s.domain for s in specs}),
        "tuned_trials": tuned_trials,
        "grid_tasks": len(specs),
        "complete": all(spec.task_id in measured for spec in specs),
    }
    return store.finish(path, provenance, keep_parts=keep_parts)
