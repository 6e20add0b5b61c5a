"""Few-shot accuracy and time of every learner family and variant, with default settings.

    .venv/bin/python -m bench.learners --tasks 200                       # the full table
    .venv/bin/python -m bench.learners --tasks 20 --targets in-domain    # a quick look

For each target, each shot count and each variant, ``--tasks`` seeded 5-way K-shot tasks
(15 queries per class) are drawn; the learner is fitted on the support set and scored on the
queries. Reported: mean accuracy with its 95 % interval (normal approximation,
``1.96 · sd / √n``) and the mean wall time per task (fit and predict). Targets, the knowledge
base's domains (:mod:`advisor.kb.domains`; seeds from 10,000 on, which the KB never draws):

* ``in-domain`` — the held-out classes of every ``glyphs`` source script, together;
* ``glyphs:<script>`` — each glyph script the source never saw (``glyphs`` for all of them);
* ``cross-glyphs`` — the scripts the source never saw, pooled: task ``i`` is drawn from script
  ``i mod 10`` with seed ``10,000 + i``, so 200 tasks give 20 per script. A script's own target
  interleaves the same way (its task ``j`` has seed ``10,000 + index + 10 j``), so the pooled
  target's tasks of a script *are* that script's first tasks, counted once in both tables;
* ``digits`` — scikit-learn's real handwritten digits;
* ``tabular:<world>:<shift>`` — shifted targets of a synthetic world, against that world's
  source (``tabular`` for both worlds' covariate and concept shifts).

A (target, shots) pair the data cannot supply is skipped, with a note. Tasks run in
``--workers`` processes with one torch thread each; every finished chunk is appended to
``--results`` (JSON Lines; ``.gz`` read too), and a rerun skips what is there, so an interrupted
run resumes. ``--report-only`` prints the tables of a results file without running anything.
"""

from __future__ import annotations

import argparse
import datetime
import gzip
import json
import os
import platform
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from advisor.datasets import Dataset, sample_task
from advisor.kb.domains import DOMAIN_BY_NAME, KB_DOMAINS, kb_source, load_domain
from advisor.sources import GLYPH_SOURCE_DOMAINS, concatenate
from learners import FAMILIES, Source, make_learner

WAYS, QUERIES, FIRST_SEED = 5, 15, 10_000
POOLED = "cross-glyphs"
MACHINE = f"{platform.machine()} {os.cpu_count()} CPUs {platform.processor() or ''}".strip()


@dataclass(frozen=True)
class Job:
    target: str
    shots: int
    family: str
    variant: str
    seeds: tuple[int, ...]


def cross_glyph_scripts() -> list[str]:
    return [d.name for d in KB_DOMAINS if d.name.startswith("glyphs:") and d.kind == "cross"]


def seeds_of(target: str, tasks: range) -> list[int]:
    """The seeds of tasks ``tasks`` (indices) of ``target``; see the module's docstring."""
    scripts = cross_glyph_scripts()
    if target in scripts:
        return [FIRST_SEED + scripts.index(target) + len(scripts) * j for j in tasks]
    return [FIRST_SEED + j for j in tasks]


def script_of(seed: int) -> str:
    """The glyph script a pooled task with this seed is drawn from."""
    scripts = cross_glyph_scripts()
    return scripts[seed % len(scripts)]


def task_data(target: str, seed: int) -> Dataset:
    """The data a task of ``target`` with this seed is drawn from."""
    return target_data(script_of(seed) if target == POOLED else target)


TABLES_TABULAR_EXAMPLES = 70
TABLES_TABULAR_WORLDS = (0, 1)


@lru_cache(maxsize=32)
def target_data(target: str) -> Dataset:
    if target == "in-domain":
        parts = [load_domain(f"glyphs:{d}+") for d in GLYPH_SOURCE_DOMAINS]
        return concatenate(parts, name="in-domain held-out classes")
    # The published tables drew their synthetic tasks from 70 examples per class (the KB's
    # count then); keep it so that they reproduce.
    return load_domain(target, tabular_examples=TABLES_TABULAR_EXAMPLES)


def source_for(target: str) -> Source:
    if target in ("in-domain", POOLED):
        return kb_source("glyphs")
    return kb_source(DOMAIN_BY_NAME[target].source)


def run_job(job: Job) -> dict[str, object]:
    torch.set_num_threads(1)
    source = None if job.family == "scratch" else source_for(job.target)
    accuracies, seconds = [], []
    for seed in job.seeds:
        data = task_data(job.target, seed)
        task = sample_task(
            data, ways=min(WAYS, data.n_classes), shots=job.shots, queries=QUERIES, seed=seed
        )
        start = time.perf_counter()
        model = make_learner(job.family, source=source, variant=job.variant, random_state=seed)
        predicted = model.fit(task.X_support, task.y_support).predict(task.X_query)
        seconds.append(time.perf_counter() - start)
        accuracies.append(float(np.mean(predicted == task.y_query)))
    return {**asdict(job), "accuracies": accuracies, "seconds": seconds}


def targets(names: list[str]) -> list[str]:
    chosen = []
    for name in names:
        if name == "glyphs":
            chosen += cross_glyph_scripts()
        elif name == "tabular":
            chosen += [
                f"tabular:{world}:{shift}"
                for world in TABLES_TABULAR_WORLDS
                for shift in ("synthetic_covariate", "synthetic_concept")
            ]
        else:
            chosen.append(name)
    return chosen


def feasible(target: str, shots: int) -> bool:
    if target == POOLED:
        return all(feasible(script, shots) for script in cross_glyph_scripts())
    data = target_data(target)
    smallest = int(np.bincount(data.y_encoded).min())
    return data.n_classes >= 2 and shots + QUERIES <= smallest


def jobs(args: argparse.Namespace, done: set[tuple]) -> Iterator[Job]:
    """The jobs still to run, chunk by chunk across every cell.

    The first chunk of every (target, shots, variant) cell comes before any cell's second, so
    a run stopped early leaves every cell with about the same number of tasks.
    """
    chunks = [range(i, min(i + args.chunk, args.tasks)) for i in range(0, args.tasks, args.chunk)]
    cells = []
    for target in targets(args.targets):
        for shots in args.shots:
            if not feasible(target, shots):
                print(f"skipped {target} at {shots} shots: too few examples per class", flush=True)
                continue
            for family, names in FAMILIES.items():
                cells += [
                    (target, shots, family, variant)
                    for variant in names
                    if not args.variants or f"{family}/{variant}" in args.variants
                ]
    for chunk in reversed(chunks) if args.from_end else chunks:
        for target, shots, family, variant in cells:
            seeds = tuple(
                seed
                for seed in seeds_of(target, chunk)
                if (target, shots, family, variant, seed) not in done
            )
            if seeds:
                yield Job(target, shots, family, variant, seeds)


def measurements(results: list[dict[str, object]]) -> dict[tuple, tuple[float, float]]:
    """(target, shots, family, variant, seed) → (accuracy, seconds), one per task.

    A pooled task is also its script's task with the same seed (the same data, the same draw,
    the same learner seed), so it counts for that script's target as well.
    """
    found: dict[tuple, tuple[float, float]] = {}
    for r in results:
        rows = zip(r["seeds"], r["accuracies"], r["seconds"], strict=True)  # type: ignore[call-overload]
        for seed, accuracy, seconds in rows:
            cell = (r["shots"], r["family"], r["variant"], seed)
            found.setdefault((r["target"], *cell), (accuracy, seconds))
            if r["target"] == POOLED:
                found.setdefault((script_of(seed), *cell), (accuracy, seconds))
    return found


def read_results(path: Path) -> list[dict[str, object]]:
    if not path.is_file():
        return []
    raw = path.read_bytes()
    text = (gzip.decompress(raw) if path.suffix == ".gz" else raw).decode()
    unique: dict[tuple, dict[str, object]] = {}
    lines = [line for line in text.splitlines() if line.strip()]
    if lines and not lines[-1].endswith("}"):
        lines.pop()  # a run killed while writing leaves a torn last line; its chunk reruns
    for line in lines:
        r = json.loads(line)
        unique[(r["target"], r["shots"], r["family"], r["variant"], tuple(r["seeds"]))] = r
    return list(unique.values())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--shots", type=int, nargs="+", default=[1, 5, 20])
    parser.add_argument(
        "--targets", nargs="+", default=["in-domain", "glyphs", "digits", "tabular"]
    )
    parser.add_argument("--variants", nargs="*", default=[], help="e.g. meta/protonet")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--chunk", type=int, default=25)
    parser.add_argument("--results", type=Path, default=Path("bench-learners.jsonl"))
    parser.add_argument(
        "--include",
        type=Path,
        nargs="*",
        default=[],
        help="Other results files (read only): their tasks count as done and are reported.",
    )
    parser.add_argument(
        "--from-end",
        action="store_true",
        help="Take the chunks last seed first: a second process on a copy of the results file\n"
        "then meets the first one in the middle (merge the two files; duplicates count once).",
    )
    parser.add_argument(
        "--report-only", action="store_true", help="Print the tables of --results; run nothing."
    )
    args = parser.parse_args()

    def everything() -> list[dict[str, object]]:
        return [r for path in [args.results, *args.include] for r in read_results(path)]

    if args.report_only:
        report(args, everything(), 0.0)
        return
    done = set(measurements(everything()))
    todo = list(jobs(args, done))
    for name in {source_for(t).name for t in targets(args.targets)}:
        kb_source(name)  # build any missing source once, before the workers start
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.workers) as pool, args.results.open("a") as out:
        futures = [pool.submit(run_job, job) for job in todo]
        for index, future in enumerate(as_completed(futures)):
            out.write(json.dumps({**future.result(), "machine": MACHINE}) + "\n")
            out.flush()
            if (index + 1) % 20 == 0:
                print(f"{index + 1}/{len(todo)} chunks", flush=True)
    report(args, everything(), time.perf_counter() - started)


def report(args: argparse.Namespace, results: list[dict[str, object]], seconds: float) -> None:
    """Markdown: one table per target (variants × shots), then each unseen script's table."""
    merged: dict[tuple, tuple[list[float], list[float]]] = {}
    for (target, k, family, variant, _), (accuracy, took) in measurements(results).items():
        got = merged.setdefault((target, k, f"{family}/{variant}"), ([], []))
        got[0].append(accuracy)
        got[1].append(took)
    scripts = cross_glyph_scripts()
    per_script = {key: value for key, value in merged.items() if key[0] in scripts}
    merged = {key: value for key, value in merged.items() if key[0] not in scripts}
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d")
    if args.report_only:
        print(f"\nReport of {args.results} ({now}); where each target ran:\n")
    else:
        print(
            f"\n`python -m bench.learners --tasks {args.tasks} --shots "
            f"{' '.join(map(str, args.shots))} --targets {' '.join(args.targets)}` — {now}, "
            f"{platform.machine()}, {os.cpu_count()} CPUs, {args.workers} workers, "
            f"torch {torch.__version__}; this run {seconds / 60:.0f} min\n"
        )
    machines: dict[str, dict[str, int]] = {}
    for r in results:
        tally = machines.setdefault(str(r["target"]), {})
        machine = str(r.get("machine", "unrecorded"))
        tally[machine] = tally.get(machine, 0) + len(r["seconds"])  # type: ignore[arg-type]
    for target, tally in sorted(machines.items()):
        print(f"- {target}: " + ", ".join(f"{n} tasks on {m}" for m, n in tally.items()))
    shots = sorted({key[1] for key in [*merged, *per_script]})
    for target in sorted({key[0] for key in merged}):
        print(f"\n**{target}** — accuracy % (95 % interval; n tasks), seconds per task\n")
        print("| variant | " + " | ".join(f"{k}-shot | s" for k in shots) + " |")
        print("| --- |" + " --- | --- |" * len(shots))
        for name in sorted({key[2] for key in merged if key[0] == target}):
            cells = []
            for k in shots:
                accuracies, times = merged.get((target, k, name), ([], []))
                cells += [_mean_interval(accuracies), f"{np.mean(times):.2f}" if times else "—"]
            print(f"| {name} | " + " | ".join(cells) + " |")
    if per_script:
        print_per_script(per_script, shots)


def print_per_script(
    per_script: dict[tuple, tuple[list[float], list[float]]], shots: list[int]
) -> None:
    """Each unseen glyph script on its own: accuracy ± 95 % interval, one table per shot count."""
    print("\n**each unseen glyph script** — accuracy % ± 95 % interval (n tasks per cell)\n")
    names = sorted({key[2] for key in per_script})
    for k in shots:
        print(f"\n{k}-shot\n")
        print("| script | n | " + " | ".join(names) + " |")
        print("| --- | --- |" + " --- |" * len(names))
        for script in sorted({key[0] for key in per_script}):
            values = [per_script.get((script, k, name), ([], []))[0] for name in names]
            print(
                f"| {script.removeprefix('glyphs:')} | {min(map(len, values))} | "
                + " | ".join(_mean_interval(v).split(" (")[0] for v in values)
                + " |"
            )


def _mean_interval(accuracies: list[float]) -> str:
    if not accuracies:
        return "—"
    values = 100 * np.asarray(accuracies)
    half = 1.96 * values.std(ddof=1) / np.sqrt(values.size) if values.size > 1 else np.nan
    return f"{values.mean():.1f} ± {half:.1f} ({values.size})"


if __name__ == "__main__":
    main()
