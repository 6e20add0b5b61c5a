"""Speed and memory of the meta-feature extractor, against PyMFE 0.4.4.

    .venv/bin/python -m bench.meta_features                  # everything (PyMFE capped at 10 min)
    .venv/bin/python -m bench.meta_features --skip-pymfe     # ours only

1. The four classic groups (general, statistical, info-theory, landmarking; summaries mean and
   sd) on synthetic classification data of 1k×20, 10k×50 and 100k×100 (5 classes,
   ``sklearn.datasets.make_classification``), ours and PyMFE's, each run in a fresh process:
   wall time of the extraction and peak resident memory of the process.
2. The transferability scores on 10k×512 features (20 classes, 1,000 source classes).
3. Every meta-feature (all six groups, with a source profile) of a 5-way 5-shot task of 28×28
   glyph images — the advisor's hot path.

Prints Markdown tables for docs/BENCHMARKS.md, with the machine and the date.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import subprocess
import sys
import time
import warnings

import numpy as np

CLASSIC = ["general", "statistical", "info-theory", "landmarking"]
SIZES = ((1_000, 20), (10_000, 50), (100_000, 100))


def _data(rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_classification

    return make_classification(
        n_samples=rows,
        n_features=cols,
        n_informative=min(10, cols),
        n_redundant=0,
        n_classes=5,
        n_clusters_per_class=1,
        random_state=0,
    )


def worker(tool: str, rows: int, cols: int) -> None:
    """Run one extraction in this process and print {seconds, peak_mb, features} as JSON."""
    X, y = _data(rows, cols)
    start = time.perf_counter()
    if tool == "ours":
        import meta_features as mf

        count = len(mf.extract(X, y, groups=CLASSIC))
    else:
        from pymfe.mfe import MFE

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            extractor = MFE(groups=CLASSIC, summary=["mean", "sd"], random_state=0)
            extractor.fit(X, y)
            count = len(extractor.extract()[0])
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "features": count}))


def run_worker(tool: str, rows: int, cols: int, timeout: int) -> str:
    command = [sys.executable, "-m", "bench.meta_features", "--worker", tool, str(rows), str(cols)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return f"> {timeout} s (stopped at the cap) | — "
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return f"{result['seconds']:.2f} s | {result['peak_mb']:,.0f} MB"


def classic_table(timeout: int, skip_pymfe: bool) -> None:
    print(
        "| data (rows × attributes) | ours: time | ours: peak RSS | PyMFE 0.4.4: time | "
        "PyMFE: peak RSS |\n| --- | --- | --- | --- | --- |"
    )
    for rows, cols in SIZES:
        ours = run_worker("ours", rows, cols, timeout)
        theirs = "not run | —" if skip_pymfe else run_worker("pymfe", rows, cols, timeout)
        print(f"| {rows:,} × {cols} | {ours} | {theirs} |", flush=True)


def transferability_table() -> None:
    import meta_features as mf

    rng = np.random.default_rng(0)
    rows, dims, classes, source_classes = 10_000, 512, 20, 1_000
    y = rng.integers(0, classes, rows)
    features = rng.normal(size=(rows, dims)) + rng.normal(size=(classes, dims))[y]
    logits = rng.normal(size=(rows, source_classes)) + 3 * (
        np.arange(source_classes) % classes == y[:, None]
    )
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    scores = {
        "logme": lambda: mf.transferability.logme(features, y),
        "h_score": lambda: mf.transferability.h_score(features, y),
        "h_score_shrinkage": lambda: mf.transferability.h_score_shrinkage(features, y),
        "gbc": lambda: mf.transferability.gbc(features, y),
        "transrate": lambda: mf.transferability.transrate(features, y),
        "leep (1,000 source classes)": lambda: mf.transferability.leep(probs, y),
        "nce": lambda: mf.transferability.nce(np.argmax(probs, axis=1), y),
    }
    print("\n| score on 10,000 × 512 features, 20 classes | time (best of 3) |\n| --- | --- |")
    for name, score in scores.items():
        print(f"| {name} | {best_of(3, score) * 1000:,.0f} ms |", flush=True)


def few_shot_table() -> None:
    import meta_features as mf
    from advisor.datasets import load_builtin, sample_task

    source = load_builtin("glyphs", "latin_upper", seed=0)
    rng = np.random.default_rng(0)
    weights = rng.normal(size=(784, 64)) / 28.0
    head = rng.normal(size=(64, source.n_classes))

    def embed(images: np.ndarray) -> np.ndarray:
        return np.tanh(images.reshape(len(images), -1).astype(np.float64) / 255.0 @ weights)

    def predict_proba(images: np.ndarray) -> np.ndarray:
        logits = embed(images) @ head
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        return exp / exp.sum(axis=1, keepdims=True)

    profile = mf.SourceProfile.from_embeddings(
        embed(source.X), source.y_encoded, embed=embed, predict_proba=predict_proba
    )
    task = sample_task(load_builtin("glyphs", "greek", seed=0), ways=5, shots=5, queries=15)
    mf.extract(task.X_support, task.y_support, source=profile)  # warm-up: lazy imports
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        result = mf.extract(task.X_support, task.y_support, source=profile)
        runs.append((time.perf_counter() - start, result))
    seconds, fastest = min(runs, key=lambda run: run[0])
    print("\n| 5-way 5-shot glyph task (25 images 28×28), all groups with a source | time |")
    print("| --- | --- |")
    print(
        f"| all {len(fastest)} meta-features (best of 5, after a warm-up) | "
        f"{seconds * 1000:,.0f} ms |"
    )
    for group, taken in fastest.timings.items():
        print(f"| — of which {group} | {taken * 1000:,.1f} ms |")


def best_of(repeat: int, action) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--worker", nargs=3, metavar=("TOOL", "ROWS", "COLS"))
    parser.add_argument("--pymfe-timeout", type=int, default=600)
    parser.add_argument("--skip-pymfe", action="store_true")
    parser.add_argument("--only", choices=["classic", "transferability", "few-shot"])
    args = parser.parse_args()
    if args.worker:
        tool, rows, cols = args.worker
        worker(tool, int(rows), int(cols))
        return
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d")
    print(
        f"`python -m bench.meta_features` — {now}, {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}\n"
    )
    if args.only in (None, "classic"):
        classic_table(args.pymfe_timeout, args.skip_pymfe)
    if args.only in (None, "transferability"):
        transferability_table()
    if args.only in (None, "few-shot"):
        few_shot_table()


if __name__ == "__main__":
    main()
