"""Few-shot accuracy and time of every learner family and variant, with default settings.

    .venv/bin/python -m bench.learners --tasks 200                       # the full table
    .venv/bin/python -m bench.learners --tasks 20 --targets in-domain    # a quick look

For each target, each shot count and each variant, ``--tasks`` seeded 5-way K-shot tasks
(15 queries per class) are drawn with :func:`advisor.datasets.sample_task`; the learner is
fitted on the support set and scored on the queries. Reported: mean accuracy with its 95 %
interval (normal approximation, ``1.96 · sd / √n``) and the mean wall time per task (fit and
predict). Targets:

* ``in-domain`` — the held-out classes of the ``glyphs`` source's scripts;
* ``glyphs:<script>`` — each glyph script the source never saw;
* ``digits`` — scikit-learn's real handwritten digits;
* ``tabular:<domain>`` — the synthetic tabular targets, against a vector source built here
  from ``synthetic_source`` (MLP backbone).

Tasks run in ``--workers`` processes with one torch thread each. Prints a Markdown table with
the machine and the date.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from advisor.datasets import Dataset, builtin_domains, load_builtin, sample_task
from advisor.sources import GLYPH_SOURCE_DOMAINS, concatenate, get_source, glyph_source_split
from learners import FAMILIES, Source, build_source, make_learner

WAYS, QUERIES = 5, 15


@dataclass(frozen=True)
class Job:
    target: str
    shots: int
    family: str
    variant: str
    seeds: tuple[int, ...]


@lru_cache(maxsize=4)
def tabular_source() -> Source:
    data = load_builtin("tabular", "synthetic_source", seed=0, examples_per_class=100)
    return build_source(data, name="synthetic", pretrain_epochs=30, meta_episodes=200, seed=0)


@lru_cache(maxsize=32)
def target_data(target: str) -> Dataset:
    if target == "in-domain":
        parts = [glyph_source_split(d).heldout for d in GLYPH_SOURCE_DOMAINS]
        return concatenate(parts, name="in-domain held-out classes")
    if target == "digits":
        return load_builtin("digits", "handwritten", seed=0)
    family, domain = target.split(":")
    options = {"examples_per_class": 100} if family == "tabular" else {}
    return load_builtin("glyphs" if family == "glyphs" else family, domain, seed=1, **options)


def source_for(target: str) -> Source:
    return tabular_source() if target.startswith("tabular:") else get_source("glyphs")


def run_job(job: Job) -> tuple[Job, list[float], list[float]]:
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
    return job, accuracies, seconds


def targets(names: list[str]) -> list[str]:
    chosen = []
    for name in names:
        if name == "glyphs":
            chosen += [
                f"glyphs:{d}" for d in builtin_domains()["glyphs"] if d not in GLYPH_SOURCE_DOMAINS
            ]
        elif name == "tabular":
            chosen += ["tabular:synthetic_covariate", "tabular:synthetic_concept"]
        else:
            chosen.append(name)
    return chosen


def jobs(args: argparse.Namespace) -> Iterator[Job]:
    chunks = [
        tuple(range(i, min(i + args.chunk, args.tasks))) for i in range(0, args.tasks, args.chunk)
    ]
    for target in targets(args.targets):
        for shots in args.shots:
            for family, names in FAMILIES.items():
                for variant in names:
                    if args.variants and f"{family}/{variant}" not in args.variants:
                        continue
                    for seeds in chunks:
                        yield Job(target, shots, family, variant, seeds)


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
    args = parser.parse_args()
    tabular_source()  # build once in the parent, inherited by forked workers
    results: dict[tuple[str, int, str], tuple[list[float], list[float]]] = {}
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        for job, accuracies, seconds in pool.map(run_job, list(jobs(args))):
            key = (job.target, job.shots, f"{job.family}/{job.variant}")
            got = results.setdefault(key, ([], []))
            got[0].extend(accuracies)
            got[1].extend(seconds)
    total = time.perf_counter() - started
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d")
    print(
        f"`python -m bench.learners --tasks {args.tasks} --shots {' '.join(map(str, args.shots))}"
        f" --targets {' '.join(args.targets)}` — {now}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, {args.workers} workers, torch {torch.__version__}; "
        f"{total / 60:.0f} min in all\n"
    )
    print("| target | shots | family/variant | accuracy (95% interval) | s per task |")
    print("| --- | --- | --- | --- | --- |")
    for (target, shots, name), (accuracies, seconds) in results.items():
        values = np.asarray(accuracies)
        half = 1.96 * values.std(ddof=1) / np.sqrt(values.size) if values.size > 1 else np.nan
        print(
            f"| {target} | {shots} | {name} | {100 * values.mean():.1f} ± {100 * half:.1f} "
            f"(n={values.size}) | {np.mean(seconds):.2f} |"
        )


if __name__ == "__main__":
    main()
