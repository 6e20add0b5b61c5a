"""Speed of the data layer: rendering built-in domains and loading files of each format.

    make bench                   # or: .venv/bin/python -m bench.data_layer [--repeat 3]

Prints a Markdown table for docs/BENCHMARKS.md with the machine and the date. Rendering is
timed with the built-in cache off (the cost a first user pays once); loading is timed on
files written to a temporary folder. Each figure is the best of --repeat runs.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from advisor.datasets import load_builtin, load_dataset, make_dataset
from advisor.datasets.builtin.glyphs.catalogue import build as build_catalogue
from advisor.datasets.writers import write_dataset
from advisor.settings import reset_settings


def best_of(repeat: int, action: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ["ADVISOR_CACHE_BUILTIN"] = "false"
    reset_settings()
    rows: list[tuple[str, str, str]] = []
    seconds = best_of(1, build_catalogue)
    rows.append(("glyph catalogue (all domains, 16 fonts)", "build", f"{seconds:.2f} s"))
    for domain in ("greek", "canadian_syllabics", "braille"):
        dataset = load_builtin("glyphs", domain)
        seconds = best_of(args.repeat, lambda d=domain: load_builtin("glyphs", d))
        per_image = seconds / len(dataset) * 1e6
        print(f"rendered {domain}: {seconds:.2f} s", file=sys.stderr, flush=True)
        rows.append(
            (
                f"render glyphs/{domain} ({len(dataset)} images)",
                "render",
                f"{seconds:.2f} s ({per_image:.0f} µs/image)",
            )
        )
    rng = np.random.default_rng(0)
    n_rows, n_features = 100_000, 50
    table = make_dataset(rng.normal(size=(n_rows, n_features)), rng.integers(0, 20, n_rows))
    images = load_builtin("glyphs", "math_operators")
    with tempfile.TemporaryDirectory() as folder:
        for fmt in ("csv", "parquet", "npz", "jsonl"):
            path = write_dataset(table, Path(folder) / f"table.{fmt}")
            label = None if fmt == "npz" else "label"
            seconds = best_of(args.repeat, lambda p=path, lab=label: load_dataset(p, label=lab))
            size = path.stat().st_size / 1e6
            rows.append(
                (
                    f"load {fmt} {n_rows:,}×{n_features} ({size:.0f} MB)",
                    "load",
                    f"{seconds:.2f} s ({n_rows / seconds:,.0f} rows/s)",
                )
            )
        path = write_dataset(images, Path(folder) / "images.zip")
        seconds = best_of(args.repeat, lambda: load_dataset(path))
        rows.append(
            (
                f"load zip of {len(images)} PNG images, 28×28",
                "load",
                f"{seconds:.2f} s ({len(images) / seconds:,.0f} images/s)",
            )
        )
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d")
    print(
        f"`python -m bench.data_layer --repeat {args.repeat}` — {now}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}\n"
    )
    print("| what | step | time (best of runs) |\n| --- | --- | --- |")
    for what, step, figure in rows:
        print(f"| {what} | {step} | {figure} |")


if __name__ == "__main__":
    main()
