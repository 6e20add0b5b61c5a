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
* ``digits`` — scikit-learn's real handwritten digits;
* ``tabular:<world>:<shift>`` — shifted targets of a synthetic world, against that world's
  source (``tabular`` for both worlds' covariate and concept shifts).

A (target, shots) pair the data cannot supply is skipped, with a note. Tasks run in
``--workers`` processes with one torch thread each; every finished chunk is appended to
``--results`` (JSON Lines), and a rerun skips what is there, so an interrupted run resumes.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
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


@dataclass(frozen=True)
class Job:
    target: str
    shots: int
    family: str
    variant: str
    seeds: tuple[int, ...]


@lru_cache(maxsize=32)
def target_data(target: str) -> Dataset:
    if target == "in-domain":
        parts = [load_domain(f"glyphs:{d}+") for d in GLYPH_SOURCE_DOMAINS]
        return concatenate(parts, name="in-domain held-out classes")
    return load_domain(target)


def source_for(target: str) -> Source:
    return kb_source("glyphs" if target == "in-domain" else DOMAIN_BY_NAME[target].source)


def run_job(job: Job) -> dict[str, object]:
    torch.set_num_threads(1)
    data = target_data(job.target)
    source = None if job.family == "scratch" else source_for(job.target)
    accuracies, seconds = [], []
    for seed in job.seeds:
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
            chosen += [
                d.name for d in KB_DOMAINS if d.name.startswith("glyphs:") and d.kind == "cross"
            ]
        elif name == "tabular":
            chosen += [
                d.name
                for d in KB_DOMAINS
                if d.name.startswith("tabular:") and not d.name.endswith("both")
            ]
        else:
            chosen.append(name)
    return chosen


def feasible(target: str, shots: int) -> bool:
    data = target_data(target)
    smallest = int(np.bincount(data.y_encoded).min())
    return data.n_classes >= 2 and shots + QUERIES <= smallest


def jobs(args: argparse.Namespace, done: set[tuple]) -> Iterator[Job]:
    seeds = range(FIRST_SEED, FIRST_SEED + args.tasks)
    chunks = [tuple(seeds[i : i + args.chunk]) for i in range(0, args.tasks, args.chunk)]
    for target in targets(args.targets):
        for shots in args.shots:
            if not feasible(target, shots):
                print(f"skipped {target} at {shots} shots: too few examples per class", flush=True)
                continue
            for family, names in FAMILIES.items():
                for variant in names:
                    if args.variants and f"{family}/{variant}" not in args.variants:
                        continue
                    for chunk in chunks:
                        job = Job(target, shots, family, variant, chunk)
                        if (target, shots, family, variant, chunk) not in done:
                            yield job


def read_results(path: Path) -> list[dict[str, object]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


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
    args = parser.parse_args()
    previous = read_results(args.results)
    done = {
        (r["target"], r["shots"], r["family"], r["variant"], tuple(r["seeds"])) for r in previous
    }
    todo = list(jobs(args, done))
    for name in {source_for(t).name for t in targets(args.targets)}:
        kb_source(name)  # build any missing source once, before the workers start
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.workers) as pool, args.results.open("a") as out:
        for index, result in enumerate(pool.map(run_job, todo)):
            out.write(json.dumps(result) + "\n")
            out.flush()
            if (index + 1) % 20 == 0:
                print(f"{index + 1}/{len(todo)} chunks", flush=True)
    report(args, read_results(args.results), time.perf_counter() - started)


def report(args: argparse.Namespace, results: list[dict[str, object]], seconds: float) -> None:
    merged: dict[tuple, tuple[list[float], list[float]]] = {}
    for r in results:
        key = (r["target"], r["shots"], f"{r['family']}/{r['variant']}")
        got = merged.setdefault(key, ([], []))
        got[0].extend(r["accuracies"])  # type: ignore[arg-type]
        got[1].extend(r["seconds"])  # type: ignore[arg-type]
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d")
    print(
        f"\n`python -m bench.learners --tasks {args.tasks} --shots "
        f"{' '.join(map(str, args.shots))} --targets {' '.join(args.targets)}` — {now}, "
        f"{platform.machine()}, {os.cpu_count()} CPUs, {args.workers} workers, "
        f"torch {torch.__version__}; this run {seconds / 60:.0f} min\n"
    )
    print("| target | shots | family/variant | accuracy % (95% interval) | s per task |")
    print("| --- | --- | --- | --- | --- |")
    for (target, shots, name), (accuracies, times) in sorted(merged.items()):
        values = np.asarray(accuracies)
        half = 1.96 * values.std(ddof=1) / np.sqrt(values.size) if values.size > 1 else np.nan
        print(
            f"| {target} | {shots} | {name} | {100 * values.mean():.1f} ± {100 * half:.1f} "
            f"(n={values.size}) | {np.mean(times):.2f} |"
        )


if __name__ == "__main__":
    main()
