"""The learners benchmark's bookkeeping: which task each seed is, and what a rerun skips.

The benchmark runs for hours and resumes from its results file, so a wrong seed schedule or
done-set would silently double-count tasks or leave holes; these tests pin both down without
fitting a learner.
"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path

from bench.learners import (
    FIRST_SEED,
    POOLED,
    cross_glyph_scripts,
    jobs,
    measurements,
    read_results,
    script_of,
    seeds_of,
)


def _record(target: str, seeds: list[int], accuracy: float = 0.5) -> dict[str, object]:
    return {
        "target": target,
        "shots": 1,
        "family": "meta",
        "variant": "protonet",
        "seeds": seeds,
        "accuracies": [accuracy] * len(seeds),
        "seconds": [0.1] * len(seeds),
    }


def test_a_scripts_first_tasks_are_the_pooled_targets_tasks_of_that_script() -> None:
    scripts = cross_glyph_scripts()
    pooled = range(FIRST_SEED, FIRST_SEED + 20 * len(scripts))
    for script in scripts:
        own = seeds_of(script, range(20))
        assert own == [seed for seed in pooled if script_of(seed) == script]
        assert {script_of(seed) for seed in seeds_of(script, range(200))} == {script}
    every = [seed for script in scripts for seed in seeds_of(script, range(200))]
    assert len(set(every)) == len(every)  # no two scripts share a seed


def test_other_targets_count_seeds_from_the_first() -> None:
    assert seeds_of("digits", range(3, 6)) == [FIRST_SEED + 3, FIRST_SEED + 4, FIRST_SEED + 5]


def test_a_pooled_task_counts_once_for_the_pool_and_once_for_its_script() -> None:
    seed = seeds_of(cross_glyph_scripts()[2], range(1))[0]
    found = measurements([_record(POOLED, [seed], 0.8), _record(POOLED, [seed], 0.1)])
    assert found == {
        (POOLED, 1, "meta", "protonet", seed): (0.8, 0.1),
        (script_of(seed), 1, "meta", "protonet", seed): (0.8, 0.1),
    }


def test_a_rerun_skips_the_tasks_already_measured_and_only_those() -> None:
    script = cross_glyph_scripts()[0]
    args = argparse.Namespace(
        tasks=30, chunk=25, targets=[script], shots=[1], variants=["meta/protonet"], from_end=False
    )
    pooled_seeds = seeds_of(script, range(20))
    done = set(measurements([_record(POOLED, pooled_seeds)]))
    todo = list(jobs(args, done))
    assert [job.seeds for job in todo] == [
        tuple(seeds_of(script, range(20, 25))),
        tuple(seeds_of(script, range(25, 30))),
    ]
    args.from_end = True
    assert [job.seeds for job in jobs(args, done)] == [job.seeds for job in reversed(todo)]


def test_results_files_are_read_plain_or_gzipped_and_a_torn_last_line_is_dropped(
    tmp_path: Path,
) -> None:
    lines = [json.dumps(_record("digits", [FIRST_SEED])), json.dumps(_record("digits", [1]))]
    plain = tmp_path / "results.jsonl"
    plain.write_text("\n".join([*lines, lines[1][:30]]))
    packed = tmp_path / "results.jsonl.gz"
    packed.write_bytes(gzip.compress("\n".join(lines).encode()))
    assert len(read_results(plain)) == 2
    assert read_results(packed) == read_results(plain)
    assert read_results(tmp_path / "missing.jsonl") == []
