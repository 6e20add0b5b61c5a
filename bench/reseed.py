"""The learners' own randomness: knowledge-base tasks measured again with another learner seed.

    .venv/bin/python -m bench.advisor reseed --workers 2              # measure, then report
    .venv/bin/python -m bench.advisor reseed --image-tasks 0          # the tabular tasks only

A knowledge-base accuracy is one measurement: one draw of the query set *and* one training
run of the learner, seeded with the task's seed. :mod:`advisor.kb.noise` prices the first
(binomial noise of the query set); this bench measures the second. Every task of the synthetic
tabular domains, and ``--image-tasks`` image tasks drawn with a fixed seed, are drawn again
exactly (same support and query sets) and every learner is run twice with its default
hyper-parameters: once with the task's seed — which reproduces the knowledge base, and is
checked against it — and once with the seed moved by :data:`OTHER_SEED`. The two runs share
the source, the support set and the queries, so what differs between them is the learner's
own randomness alone (initialisation, shuffling, subsampling).

The measurements are kept in :data:`RESULTS` (Parquet, one row per task, run and learner), so
that ``floor`` can price them without measuring again; ``reseed`` measures only the tasks
the file lacks.

With ``--queries`` it measures the same tasks again, keeping every learner's right-or-wrong
answer on every query of both runs (not kept: megabytes), and prices the floor from the tasks'
own answers (:func:`advisor.kb.noise.paired_bootstrap`): queries resampled jointly for all
learners, so the errors they share stay shared — the assumption the simulated floor cannot
check — next to the simulated floor of the same tasks.

    .venv/bin/python -m bench.advisor reseed --queries --image-tasks 0 --workers 2   # ~6 min
"""

from __future__ import annotations

import datetime
import os
import platform
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import torch

from advisor.kb.domains import domain_modality, draw_task, kb_source
from advisor.kb.evaluate import markdown
from advisor.kb.grid import TaskSpec
from advisor.kb.noise import (
    SeedNoise,
    noise_floor,
    paired_bootstrap,
    replicate_regret,
    seed_residuals,
    shot_band,
)
from advisor.kb.runner import ALL_VARIANTS
from advisor.kb.store import read_kb
from learners import make_learner

RESULTS = Path(__file__).parent / "results" / "reseed.parquet"
OTHER_SEED = 10_007
RUNS = (0, OTHER_SEED)
T = TypeVar("T")
SPEC_FIELDS = ("domain", "source", "kind", "ways", "shots", "queries", "seed")


def chosen_specs(kb: pd.DataFrame, image_tasks: int) -> list[TaskSpec]:
    """Every tabular task of ``kb`` and ``image_tasks`` image tasks drawn with seed 0."""
    first = kb.drop_duplicates("task_id")
    image = np.array([domain_modality(str(d)) == "image" for d in first["domain"]])
    drawn = first[image].sample(min(image_tasks, int(image.sum())), random_state=0)
    rows = pd.concat([first[~image], drawn])
    return [
        TaskSpec(**{name: getattr(row, name) for name in SPEC_FIELDS})
        for row in rows.itertuples(index=False)
    ]


def _measure(spec: TaskSpec) -> list[dict[str, Any]]:
    """One row per run and learner: its accuracy (NaN where it failed)."""
    _, answers = _answers(spec)
    return [
        {
            "task_id": spec.task_id,
            **spec.model_dump(),
            "seed_offset": offset,
            "family": family,
            "variant": variant,
            "accuracy": float(np.mean(answers[key]))
            if (key := (offset, family, variant)) in answers
            else np.nan,
        }
        for offset in RUNS
        for family, variant in ALL_VARIANTS
    ]


def _in_workers(job: Callable[[TaskSpec], T], specs: list[TaskSpec], workers: int) -> list[T]:
    """``job`` of every spec, in ``workers`` processes, the sources they need built first."""
    for name in sorted({spec.source for spec in specs}):
        kb_source(name)  # build a missing source once, before the workers need it
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(job, specs, chunksize=4))


def measure(specs: list[TaskSpec], *, workers: int, path: Path = RESULTS) -> pd.DataFrame:
    """The measurements of ``specs``: those in ``path`` kept, the missing ones run and added."""
    kept = pd.read_parquet(path) if path.is_file() else pd.DataFrame()
    done = set(kept["task_id"]) if len(kept) else set()
    todo = [spec for spec in specs if spec.task_id not in done]
    print(f"{len(specs)} tasks, {len(specs) - len(todo)} already measured, {len(todo)} to go")
    new = [row for rows in _in_workers(_measure, todo, workers) for row in rows]
    frame = pd.concat([kept, pd.DataFrame(new)], ignore_index=True) if new else kept
    if new:
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(path, index=False)
    return frame[frame["task_id"].isin({spec.task_id for spec in specs})]


def replicates(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(first, second)``: tasks × ``(family, variant)`` accuracies of the two runs."""
    wide = frame.pivot_table(
        index=["task_id", "seed_offset"], columns=["family", "variant"], values="accuracy"
    )
    first = wide.xs(RUNS[0], level="seed_offset")
    second = wide.xs(RUNS[1], level="seed_offset").loc[first.index, first.columns]
    return first, second


def _modality(index: pd.Index) -> pd.Series:
    return pd.Series([domain_modality(str(t).split("/")[0]) for t in index], index=index)


def residuals(frame: pd.DataFrame) -> dict[tuple[str, str, str, str], np.ndarray]:
    """``(modality, shot band, family, variant)`` → the learner's standardised differences."""
    first, second = replicates(frame)
    band = _shots(frame, first.index).map(shot_band)
    kinds = _modality(first.index)
    out = {}
    for (kind, shots), rows in first.groupby([kinds, band]).groups.items():
        for key, values in seed_residuals(first.loc[rows], second.loc[rows]).items():
            out[(str(kind), str(shots), str(key[0]), str(key[1]))] = values
    return out


def _shots(frame: pd.DataFrame, index: pd.Index) -> pd.Series:
    return frame.drop_duplicates("task_id").set_index("task_id").loc[index, "shots"]


def predictive_check(frame: pd.DataFrame, *, draws: int = 300) -> pd.DataFrame:
    """Does the noise model reproduce what the second run showed? Per kind of data.

    Each task's accuracies are taken as the two runs' mean ``p̄``; two fresh runs are drawn
    around it with :class:`~advisor.kb.noise.SeedNoise` (the pooled differences), and the
    regret of one run's best family on the other is compared with the measured one. A model
    that spreads too much randomness onto the learners that decide would predict more.
    """
    first, second = replicates(frame)
    pools = residuals(frame)
    kinds, shots = _modality(first.index), _shots(frame, first.index)
    rng = np.random.default_rng(0)
    rows = []
    for kind in sorted(kinds.unique()):
        mine = (kinds == kind).to_numpy()
        one, two = first[mine], second[mine]
        middle = ((one + two) / 2).to_numpy(dtype=np.float64)
        noise = SeedNoise.from_residuals(middle, kinds[mine], shots[mine], first.columns, pools)
        simulated = [
            replicate_regret(
                pd.DataFrame(middle + noise.draw(rng), columns=first.columns),
                pd.DataFrame(middle + noise.draw(rng), columns=first.columns),
            )[1]
            for _ in range(draws)
        ]
        rows.append(
            {
                "kind": kind,
                "tasks": int(mine.sum()),
                "measured": replicate_regret(one, two)[1],
                "predicted": float(np.mean(simulated)),
                "90 % of predictions": f"{np.percentile(simulated, 5):.2f}–"
                f"{np.percentile(simulated, 95):.2f}",
            }
        )
    return pd.DataFrame(rows)


def report(frame: pd.DataFrame, kb: pd.DataFrame) -> None:
    """Print the reproduction check, each learner's spread and the families' agreement."""
    first, second = replicates(frame)
    measured = kb[~kb["tuned"].fillna(False).astype(bool)].pivot_table(
        index="task_id", columns=["family", "variant"], values="accuracy"
    )
    shift = (first - measured.loc[first.index, first.columns]).abs().to_numpy()
    print(
        f"Reproduction: the task's own seed gives the knowledge base's accuracy on "
        f"{np.mean(shift < 1e-9):.1%} of {shift.size} (task, learner) measurements; "
        f"largest difference {100 * np.nanmax(shift):.2f} points.\n"
    )
    modality = _modality(first.index)
    kinds = sorted(modality.unique())
    standardised = residuals(frame)
    print("Each learner's own randomness: sd, the standard deviation of one measurement in")
    print("points (square root of half the mean squared difference between the two runs), and")
    print("c, the same on the binomial scale: the root mean square of the differences over")
    print("sqrt(2 p (1 - p)), p the two runs' mean (advisor.kb.noise.seed_residuals)\n")
    print(
        "| learner | "
        + " | ".join(f"{k}: sd | {k}: c ({int((modality == k).sum())} tasks)" for k in kinds)
        + " |"
    )
    print("| --- |" + " --- | --- |" * len(kinds))
    for key in first.columns:
        cells = []
        for kind in kinds:
            mine = (modality == kind).to_numpy()
            difference = first.loc[mine, key] - second.loc[mine, key]
            sd = 100 * float(np.sqrt(np.nanmean(difference.to_numpy() ** 2) / 2))
            z = np.concatenate(
                [v for k, v in standardised.items() if (k[0], k[2], k[3]) == (kind, *key)]
            )
            c = float(np.sqrt(np.mean(z**2))) if z.size else 0.0
            cells.append(f"{sd:.2f} | {c:.3f}")
        print(f"| {key[0]}/{key[1]} | " + " | ".join(cells) + " |")
    print("\nThe families, run twice (family accuracy: its best variant's)\n")
    print("| kind | tasks | same best family | regret of the other run's best family |")
    print("| --- | --- | --- | --- |")
    for kind in kinds:  # no pooled row: the image tasks are a sample, the tabular ones all
        keep = (modality == kind).to_numpy()
        same, regret = replicate_regret(first[keep], second[keep])
        print(f"| {kind} | {int(keep.sum())} | {same:.0%} | {regret:.2f} |")
    print(
        "\nThe noise model's check: the regret above, measured, and as predicted by two runs "
        "drawn from the model (advisor.kb.noise.SeedNoise, differences pooled by kind of data, "
        "band of shots and learner)\n"
    )
    print(markdown(predictive_check(frame)))


def run(*, workers: int, image_tasks: int) -> pd.DataFrame:
    """Measure (what :data:`RESULTS` lacks) and report; returns the measurements."""
    print(
        f"`python -m bench.advisor reseed --workers {workers} --image-tasks {image_tasks}` — "
        f"{datetime.date.today()}, {platform.machine()}, {os.cpu_count()} CPUs\n"
    )
    kb = read_kb()
    frame = measure(chosen_specs(kb, image_tasks), workers=workers)
    report(frame, kb)
    return frame


def _answers(spec: TaskSpec) -> tuple[str, dict[tuple[int, str, str], np.ndarray]]:
    """Every learner's right-or-wrong answers on the task's queries, in both runs.

    Each learner is made, fitted and asked as :func:`advisor.kb.runner.run_learner` does for
    the knowledge base (which the first run reproduces exactly); one that fails is left out.
    """
    torch.set_num_threads(1)
    task = draw_task(
        spec.domain, ways=spec.ways, shots=spec.shots, queries=spec.queries, seed=spec.seed
    )
    source = kb_source(spec.source)
    answers = {}
    for offset in RUNS:
        for family, variant in ALL_VARIANTS:
            try:
                model = make_learner(
                    family,
                    source=None if family == "scratch" else source,
                    variant=variant,
                    random_state=spec.seed + offset,
                )
                model.fit(task.X_support, task.y_support)
                answers[(offset, family, variant)] = np.asarray(
                    model.predict(task.X_query) == task.y_query
                )
            except Exception:  # a failed learner is left out of the task
                continue
    return spec.task_id, answers


def query_floor(*, workers: int, image_tasks: int, draws: int = 200) -> pd.DataFrame:
    """Per domain: the floor from the tasks' own answers, beside the simulated one."""
    kb = read_kb()
    specs = chosen_specs(kb, image_tasks)
    measured = dict(_in_workers(_answers, specs, workers))
    rows = []
    for spec in specs:
        answers = measured[spec.task_id]
        keys = [k for k in ALL_VARIANTS if (RUNS[0], *k) in answers and (RUNS[1], *k) in answers]
        learner, family, clear, right = paired_bootstrap(
            np.stack([answers[(RUNS[0], *k)] for k in keys]),
            np.stack([answers[(RUNS[1], *k)] for k in keys]),
            np.array([k[0] for k in keys]),
            draws=draws,
        )
        rows.append(
            {
                "domain": spec.domain,
                "floor": learner,
                "family": family,
                "clear": clear,
                "right": right,
            }
        )
    frame = pd.DataFrame(rows)
    ids = {spec.task_id for spec in specs}
    kinds = frame["domain"].map(domain_modality)
    parts = [(str(d), part) for d, part in frame.groupby("domain")]
    parts += [(f"all {kind}", part) for kind, part in frame.groupby(kinds)] + [("all", frame)]
    queries_only = _simulated(kb, ids, None)
    both = _simulated(kb, ids, residuals(pd.read_parquet(RESULTS)))
    return pd.DataFrame(
        [
            {
                "domain": domain,
                "tasks": len(part),
                "family floor: queries (sim.)": queries_only.loc[domain, "family floor"],
                "family floor: both (sim.)": both.loc[domain, "family floor"],
                "family floor: both (own answers)": 100 * part["family"].mean(),
                "ceiling: queries (sim.)": _percent(
                    queries_only.loc[domain, "selection ceiling (clear)"]
                ),
                "ceiling: both (sim.)": _percent(both.loc[domain, "selection ceiling (clear)"]),
                "ceiling: both (own answers)": _percent(
                    part["right"].sum() / part["clear"].sum() if part["clear"].sum() else np.nan
                ),
            }
            for domain, part in parts
        ]
    )


def _simulated(
    kb: pd.DataFrame, ids: set[str], measured: dict[tuple[str, str, str, str], np.ndarray] | None
) -> pd.DataFrame:
    """The simulated floor of the tasks ``ids``: per domain, ``all <kind>`` and ``all``.

    Only the query sets' noise if ``measured`` is ``None``; with it, the learners' own too.
    """
    mine = kb[kb["task_id"].isin(ids)]
    table = noise_floor(mine, draws=400, residuals=measured).set_index("domain")
    kinds = mine["domain"].map(domain_modality)
    for kind in kinds.unique():
        overall = noise_floor(mine[kinds == kind], draws=400, residuals=measured).iloc[-1]
        table.loc[f"all {kind}"] = overall.drop("domain")
    return table


def _percent(share: float) -> str:
    return "—" if np.isnan(share) else f"{100 * share:.0f} %"
