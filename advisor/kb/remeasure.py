"""``remeasure``: recompute a knowledge base's meta-features without running its learners again.

A knowledge-base task is fully determined by its descriptor (:class:`~advisor.kb.grid.TaskSpec`),
so its support set can be drawn again exactly and measured with the advisor's current
extractor (:func:`advisor.kb.runner.measure`). The learners' outcomes — the costly part of a
build, hours of CPU — are kept as they are. This is what a change to the extractor needs: the
knowledge base and the data a user brings must be described by the same meta-features.

The run is parallel over processes and deterministic (every task is seeded by its spec); the
provenance of the result records when its meta-features were measured and with which settings.
"""

from __future__ import annotations

import datetime
import math
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from advisor.errors import InvalidInputError
from advisor.kb import store
from advisor.kb.build import one_thread
from advisor.kb.domains import domain_modality, draw_task, kb_source
from advisor.kb.grid import TaskSpec
from advisor.kb.runner import EXTRACT_CONFIG, FEATURE_PREFIX, measure
from advisor.recommender.model import LOCAL_KIND

SPEC_FIELDS = tuple(TaskSpec.model_fields)


def task_specs(kb: pd.DataFrame, modalities: Iterable[str] | None = None) -> list[TaskSpec]:
    """The specs of ``kb``'s measured tasks (not this installation's own runs), by modality."""
    wanted = None if modalities is None else set(modalities)
    first = kb.drop_duplicates("task_id")
    if "kind" in first.columns:
        first = first[first["kind"] != LOCAL_KIND]
    specs = []
    for record in first[list(SPEC_FIELDS)].to_dict("records"):
        spec = TaskSpec.model_validate(record)
        if wanted is None or domain_modality(spec.domain) in wanted:
            specs.append(spec)
    return specs


def measure_task(spec: TaskSpec) -> dict[str, Any]:
    """``{task_id, meta_feature_seconds, mf.<name>: value}`` of one task, drawn again."""
    task = draw_task(
        spec.domain, ways=spec.ways, shots=spec.shots, queries=spec.queries, seed=spec.seed
    )
    start = time.perf_counter()
    features = measure(
        task.X_support, task.y_support, source=kb_source(spec.source), seed=spec.seed
    )
    return {
        "task_id": spec.task_id,
        "meta_feature_seconds": time.perf_counter() - start,
        **{FEATURE_PREFIX + name: value for name, value in features.items()},
    }


def _measure_all(specs: list[TaskSpec]) -> list[dict[str, Any]]:
    return [measure_task(spec) for spec in specs]


def remeasure(
    path: str | Path,
    out: str | Path,
    *,
    modalities: Iterable[str] | None = None,
    workers: int = 1,
    progress: bool = True,
    note: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Write to ``out`` the knowledge base at ``path`` with its tasks' meta-features measured again.

    Only tasks of ``modalities`` (``"image"``, ``"vector"``; all by default) are measured; the
    other rows, and every outcome column, are copied unchanged. ``out`` may be ``path``: the
    new file replaces the old one only once every task is measured.
    """
    source_path, target = Path(path), Path(out)
    if any(store.parts_dir(target).glob("*.parquet")):
        raise InvalidInputError(
            f"A build of {str(target)!r} is under way ({store.parts_dir(target)}): finish it "
            "first, or write elsewhere.",
            code=store.KB_BUSY,
        )
    kb = store.read_kb(source_path)
    record = dict(kb.attrs.get("provenance", {}))
    specs = task_specs(kb, modalities)
    say = note or (lambda _message: None)
    say(f"{kb['task_id'].nunique()} tasks, {len(specs)} to measure again")
    chunks = [specs[start : start + 8] for start in range(0, len(specs), 8)]
    measured: list[dict[str, Any]] = []
    bar = tqdm(total=len(specs), disable=not progress, unit="task")
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers, initializer=one_thread) as pool:
            for rows in pool.map(_measure_all, chunks):
                measured += rows
                bar.update(len(rows))
    else:
        for chunk in chunks:
            measured += _measure_all(chunk)
            bar.update(len(chunk))
    bar.close()
    table = replace_features(kb, pd.DataFrame(measured))
    provenance = {
        key: value
        for key, value in record.items()
        if key not in ("format", "version", "sha256", "tasks", "rows", "tuned_tasks")
    }
    provenance["meta_features"] = {
        "measured": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "config": {k: v for k, v in asdict(EXTRACT_CONFIG).items() if v is not None},
        "remeasured": sorted(modalities) if modalities is not None else "all",
    }
    store.write_part(target, table, 0)
    return store.finish(target, provenance)


def replace_features(kb: pd.DataFrame, measured: pd.DataFrame) -> pd.DataFrame:
    """``kb`` with the meta-feature columns of ``measured``'s tasks replaced, row for row.

    Only the default-settings rows: the ``tuned`` rows of a task carry no meta-features.
    A feature the extractor no longer has is left NaN for the re-measured tasks; a new one is
    NaN for the others (the recommender skips features defined for less than half the tasks).
    """
    if measured.empty:
        return kb.copy()
    values = measured.set_index("task_id")
    table = kb.copy()
    for column in values.columns:
        if column not in table.columns:
            table[column] = math.nan
    mask = table["task_id"].isin(values.index)
    if "tuned" in table.columns:  # a study's rows carry no meta-features (see run_tuned)
        mask &= ~table["tuned"].fillna(False).astype(bool)
    stale = [c for c in table.columns if c.startswith(FEATURE_PREFIX) and c not in values.columns]
    table.loc[mask, stale] = math.nan
    rows = values.loc[table.loc[mask, "task_id"]]
    for column in values.columns:
        table.loc[mask, column] = rows[column].to_numpy()
    return table
