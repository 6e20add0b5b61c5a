"""The advisor, measured: honest evaluation, recommendation latency, tuned runs.

    .venv/bin/python -m bench.advisor evaluate          # leave-one-domain-out, vs baselines
                                                        # (--workers N: folds in N processes)
    .venv/bin/python -m bench.advisor latency           # seconds per recommendation
    .venv/bin/python -m bench.advisor runs --tasks 12   # tuned runs on new tasks (images;
                                                        # --modality vector: tabular ones)
    .venv/bin/python -m bench.advisor floor             # regret that measurement noise costs
    .venv/bin/python -m bench.advisor choice            # what the family choice learned
    .venv/bin/python -m bench.advisor demo --runs 3     # wall time of `advisor demo`
    .venv/bin/python -m bench.advisor kb                # the KB's accuracies and winners
                                                        # (--against OLD.parquet: what moved)
    .venv/bin/python -m bench.advisor real              # the advice on real tables
                                                        # (bench/real_tables.py says how)
    .venv/bin/python -m bench.advisor edge              # held-out tasks past the KB's edge
                                                        # (bench/range_edge.py says how)
    .venv/bin/python -m bench.advisor reseed            # the learners' own randomness
                                                        # (--queries: the floor from every
                                                        # query's answer; bench/reseed.py)
    .venv/bin/python -m bench.advisor learn --tasks 1   # what learning own runs costs
                                                        # (bench/own_runs.py says how)

``evaluate`` runs :func:`advisor.kb.evaluate.evaluate` on the shipped knowledge base and prints
the overall table and the table per held-out domain. ``latency`` times
:meth:`advisor.Advisor.recommend` on 5-way 5-shot glyph tasks, after a warm-up; the first call
of a fresh process, which reads the recommender's fit shipped with the knowledge base (its own
cache emptied first, as on a fresh installation); and ``advisor recommend`` on the command line
(a fresh process, imports included). ``runs``
draws new tasks (seeds the KB never used) from the KB's domains, runs the advisor's
recommendation with a 20-trial study, and compares the test accuracy with the best default
learner measured on the same task.
``floor`` estimates, per domain, the regret of an oracle that knows every learner's expected
accuracy (:mod:`advisor.kb.noise`): no recommender can be expected to do better. With
``bench/results/reseed.parquet`` (written by ``reseed``) it adds the learners' own randomness;
it ends with the advice in hindsight of :mod:`bench.hindsight`.
``choice`` prints the family choice fitted on the shipped KB: its inputs' cross-validated
regret, and the family and variant it picks, with every family's predicted lead and its track
record there (out-of-fold regret and share of best picks on the nearest KB tasks), for each
kind of data and number of shots per class (5 classes). ``demo`` times the README's main
command, ``advisor demo``, as a fresh process each run, the first on a new, empty
``ADVISOR_HOME`` (a first-time user's run), the others on that home.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import optuna
import pandas as pd

from advisor import Advisor
from advisor.kb.domains import KB_DOMAINS, domain_modality, draw_task, kb_source, load_domain
from advisor.kb.evaluate import evaluate, markdown
from advisor.kb.noise import noise_floor
from advisor.kb.runner import ALL_VARIANTS, run_learner
from advisor.kb.store import read_kb
from advisor.recommender import task_table
from advisor.schemas import TrackRecord
from advisor.settings import get_settings
from bench import hindsight, own_runs, range_edge, real_tables, reseed

optuna.logging.set_verbosity(optuna.logging.WARNING)


def header(command: str) -> None:
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d")
    print(
        f"`python -m bench.advisor {command}` — {now}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}\n"
    )


def run_evaluation(held_out: list[str], workers: int) -> None:
    header(
        "evaluate"
        + (f" --workers {workers}" if workers > 1 else "")
        + (f" --held-out {' '.join(held_out)}" if held_out else "")
    )
    per_domain, overall = evaluate(read_kb(), held_out=held_out or None, workers=workers)
    print(markdown(overall))
    print()
    print(
        markdown(per_domain[per_domain["method"].isin(["advisor", "single best", "rule of thumb"])])
    )


FIRST_CALL = """
import time, sys
from advisor import Advisor
from advisor.kb.domains import draw_task
start = time.perf_counter()
task = draw_task("glyphs:greek", ways=5, shots=5, queries=5, seed=1000)
Advisor("glyphs").recommend(task.X_support, task.y_support)
print(time.perf_counter() - start)
"""


def run_latency(tasks: int) -> None:
    header(f"latency --tasks {tasks}")
    forget_fitted_trees()  # as on a fresh installation: only the fit shipped with the KB
    first_process = first_call_seconds()
    adv = Advisor("glyphs")
    first = draw_task("glyphs:greek", ways=5, shots=5, queries=5, seed=1000)
    adv.recommend(first.X_support, first.y_support)
    seconds = []
    for seed in range(tasks):
        task = draw_task("glyphs:greek", ways=5, shots=5, queries=5, seed=1001 + seed)
        began = time.perf_counter()
        adv.recommend(task.X_support, task.y_support)
        seconds.append(time.perf_counter() - began)
    forget_fitted_trees()
    wall = command_line_seconds(first.X_support, first.y_support)
    rows = [
        ("first recommendation in a process (the fit shipped with the KB read)", first_process),
        (f"a 5-way 5-shot recommendation, mean of {tasks}", float(np.mean(seconds))),
        ("— 90th percentile", float(np.quantile(seconds, 0.9))),
        ("`advisor recommend support.npz`, wall (a new process)", wall),
    ]
    print("| what | seconds |\n| --- | --- |")
    for what, value in rows:
        print(f"| {what} | {value:.2f} |")


def forget_fitted_trees() -> None:
    """Remove the recommender's cached fitted trees (``forest-*``, ``leads-*``).

    A process then reads the trees shipped beside the knowledge base
    (:mod:`advisor.recommender.shipped`), as on a fresh installation.
    """
    trees = get_settings().cache_dir / "recommender"
    for path in [*trees.glob("forest-*.npz"), *trees.glob("leads-*.npz")]:
        path.unlink()


def first_call_seconds() -> float:
    """Seconds of a fresh process's first recommendation, imports not counted."""
    done = subprocess.run(
        [sys.executable, "-c", FIRST_CALL], check=True, capture_output=True, text=True
    )
    return float(done.stdout.strip().splitlines()[-1])


def command_line_seconds(X: np.ndarray, y: np.ndarray) -> float:
    """Wall seconds of ``advisor recommend`` on this support set in a fresh process."""
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "support.npz"
        np.savez(data, X=X, y=y)
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "advisor", "recommend", str(data), "--json"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return time.perf_counter() - start


def run_floor() -> None:
    header("floor")
    kb = read_kb()
    table = noise_floor(kb, draws=400)
    print(markdown(table))
    print("\nThe same oracle if every task had been measured on more query examples:\n")
    rows = []
    for scale in (1, 2, 4, 10):
        scaled = table if scale == 1 else noise_floor(kb, draws=400, query_scale=scale)
        rows.append(scaled.iloc[[-1]].assign(domain=f"all, {scale}× the queries"))
    print(markdown(pd.concat(rows, ignore_index=True)))
    if reseed.RESULTS.is_file():
        print(
            "\nThe same oracle when each learner's own randomness is added, as measured by "
            f"`reseed` ({reseed.RESULTS.relative_to(Path.cwd())}):\n"
        )
        residuals = reseed.residuals(pd.read_parquet(reseed.RESULTS))
        both = noise_floor(kb, draws=400, residuals=residuals)
        print(markdown(both))
        print(
            "\nThe two noises alone and together (each learner's query noise is drawn "
            "independently, though all learners answer the same queries: errors they share "
            "cancel in their differences, so the truth lies between the rows):\n"
        )
        seeds_only = noise_floor(kb, draws=400, residuals=residuals, query_scale=np.inf)
        print(
            markdown(
                pd.concat(
                    [
                        table.iloc[[-1]].assign(domain="all, the queries' noise only"),
                        seeds_only.iloc[[-1]].assign(domain="all, the learners' own only"),
                        both.iloc[[-1]].assign(domain="all, both, independent"),
                    ],
                    ignore_index=True,
                )
            )
        )
    print(
        "\nAdvice in hindsight (bench/hindsight.py): each task's family picked from other tasks\n"
    )
    print(markdown(hindsight.table(kb)))


def run_tuned(tasks: int, trials: int, modality: str) -> None:
    header(
        f"runs --tasks {tasks} --trials {trials}"
        + ("" if modality == "image" else f" --modality {modality}")
    )
    rng = np.random.default_rng(0)
    print(
        "| task | recommended | its defaults | tuned run | tuned test accuracy | "
        "best default learner | its accuracy | regret (points) |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    regrets = []
    domains = [d for d in KB_DOMAINS if d.modality == modality]
    queries = 15 if modality == "image" else 100  # synthetic data is drawn at will
    advisors: dict[str, Advisor] = {}
    for index in range(tasks):
        domain = domains[int(rng.integers(len(domains)))]
        ways, shots = int(rng.choice([2, 5, 10])), int(rng.choice([1, 5, 10]))
        ways = min(ways, load_domain(domain.name).n_classes)  # held-out classes can be few
        task = draw_task(domain.name, ways=ways, shots=shots, queries=queries, seed=5000 + index)
        if domain.source not in advisors:
            advisors[domain.source] = Advisor(kb_source(domain.source))
        adv = advisors[domain.source]
        result = adv.run(
            task.X_support,
            task.y_support,
            n_trials=trials,
            X_test=task.X_query,
            y_test=task.y_query,
            storage=optuna.storages.InMemoryStorage(),
        )
        defaults = {
            f"{f}/{v}": run_learner(
                f, v, seed=0, task=task, source=None if f == "scratch" else kb_source(domain.source)
            )["accuracy"]
            for f, v in ALL_VARIANTS
        }
        best = max(defaults, key=lambda k: defaults[k])
        regret = 100 * (defaults[best] - (result.test_score or 0.0))
        regrets.append(regret)
        recommended = (
            f"{result.recommendation.family}/{result.recommendation.variant}"
            if result.recommendation is not None
            else "—"
        )
        print(
            f"| {domain.name} {ways}-way {shots}-shot | {recommended} | "
            f"{100 * defaults.get(recommended, np.nan):.1f} % | "
            f"{result.family}/{result.variant} | "
            f"{100 * (result.test_score or 0):.1f} % | {best} | {100 * defaults[best]:.1f} % | "
            f"{regret:+.1f} |",
            flush=True,
        )
    print(
        f"\nMean regret of the tuned recommendation against the best default learner: "
        f"{np.mean(regrets):+.1f} points (negative: the tuned run did better)."
    )


def _record_columns(record: TrackRecord | None) -> dict[str, str]:
    """The choice's track record on the task's neighbourhood, as two table cells."""
    if record is None:
        return {"record: regret": "—", "record: best picks": "—"}
    return {
        "record: regret": f"{record.mean_regret:.2f}",
        "record: best picks": f"{100 * record.best_share:.0f} %",
    }


def run_kb(against: Path | None) -> None:
    """The shipped KB's default accuracies, who wins, and how it differs from another KB file."""
    header("kb" + (f" --against {against}" if against else ""))
    kb = read_kb()
    defaults = kb[~kb["tuned"].astype(bool)].assign(modality=kb["domain"].map(domain_modality))
    mean = defaults.pivot_table(
        index=["modality", "shots"], columns="variant", values="accuracy", aggfunc="mean"
    )
    print("Mean accuracy (%) of each variant with its defaults, 5-way and other tasks together:\n")
    print(markdown((100 * mean).reset_index()))
    tasks, accuracy = task_table(kb)
    best = accuracy.T.groupby(level=0).max().T.idxmax(axis=1)
    wins = pd.crosstab(tasks["modality"], best).reset_index()
    print("\nTasks on which each family is the best (its best variant's accuracy):\n")
    print(markdown(wins.astype(dict.fromkeys(wins.columns, str))))
    if against is None:
        return
    keys = ["task_id", "family", "variant", "tuned"]
    both = kb.merge(pd.read_parquet(against)[[*keys, "accuracy"]], on=keys, suffixes=("", "_then"))
    both["modality"] = both["domain"].map(domain_modality)
    points = 100 * (both["accuracy"] - both["accuracy_then"])
    change = (
        both.assign(change=points, moved=points.abs())
        .groupby(["modality", "tuned", "variant"])
        .agg(rows=("moved", "size"), mean_change=("change", "mean"), most=("moved", "max"))
        .reset_index()
    )
    print(f"\nAccuracy now minus in {against} (points), rows of the same task and learner:\n")
    print(markdown(change.astype({"rows": str, "tuned": str})))
    print(f"\nMeta-features now against {against}, default rows of the same task and learner:\n")
    print(markdown(_feature_moves(kb, pd.read_parquet(against))))


def _feature_moves(kb: pd.DataFrame, then: pd.DataFrame) -> pd.DataFrame:
    """Per kind of data, each meta-feature that moved: the share of rows, the largest move."""
    keys = ["task_id", "family", "variant"]
    columns = [c for c in kb.columns if c.startswith("mf.") and c in then.columns]
    now = kb[~kb["tuned"].astype(bool)].set_index(keys)
    old = then[~then["tuned"].astype(bool)].set_index(keys).reindex(now.index)
    rows = []
    for modality, part in now.groupby(now["domain"].map(domain_modality)):
        a = part[columns].to_numpy(dtype=np.float64)
        b = old.loc[part.index, columns].to_numpy(dtype=np.float64)
        same = np.isclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True)
        with np.errstate(invalid="ignore", divide="ignore"):  # |a − b| / max(|a|, |b|) ≤ 2
            relative = np.abs(a - b) / np.maximum(np.abs(a), np.abs(b))
        for j in np.flatnonzero(~same.all(axis=0)):
            moved = ~same[:, j]
            rows.append(
                {
                    "modality": modality,
                    "meta-feature": columns[j].removeprefix("mf."),
                    "rows moved": f"{100 * moved.mean():.1f} %",
                    "largest move": f"{np.nanmax(np.abs(a - b)[moved, j]):.3g}",
                    "largest relative move": f"{np.nanmax(relative[moved, j]):.3g}",
                }
            )
    return pd.DataFrame(rows)


def run_choice() -> None:
    header("choice")
    advisor = Advisor("glyphs")
    choice = advisor.recommender.choice
    inputs = pd.DataFrame(
        {
            "inputs": list(choice.cv_regret),
            "grouped 5-fold family regret (points)": [100 * r for r in choice.cv_regret.values()],
            "kept": ["yes" if n == choice.feature_set else "" for n in choice.cv_regret],
        }
    )
    print(markdown(inputs))
    print()
    rows = []
    for modality in ("image", "vector"):
        for shots in (1, 2, 5, 10, 20, 50):
            row = pd.DataFrame([{"modality": modality, "mf.shots_min": shots, "mf.nr_class": 5}])
            leads = choice.leads(row).iloc[0]
            family = str(leads.idxmax())
            rows.append(
                {
                    "data": modality,
                    "shots": str(shots),
                    "choice": f"{family}/{choice.choose_variant(row, family)[0]}",
                    **{f"{f} lead": f"{100 * leads[f]:+.2f}" for f in choice.families},
                    **_record_columns(choice.track_record(row)),
                }
            )
    print(markdown(pd.DataFrame(rows)))


def run_demo(runs: int) -> None:
    """``advisor demo`` in fresh processes: the first on a new, empty ``ADVISOR_HOME`` (as a
    first-time user runs it: the glyphs rendered, nothing cached), the others on that home."""
    header(f"demo --runs {runs}")
    rows = []
    with tempfile.TemporaryDirectory() as out, tempfile.TemporaryDirectory() as home:
        for index in range(runs):
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "advisor", "demo", "--out", out],
                check=True,
                stdout=subprocess.DEVNULL,
                env={**os.environ, "ADVISOR_HOME": home},
            )
            seconds = time.perf_counter() - start
            where = "a new, empty ADVISOR_HOME" if index == 0 else "the same home again"
            rows.append({"run": str(index + 1), "home": where, "wall seconds": f"{seconds:.1f}"})
    print(markdown(pd.DataFrame(rows)))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "what",
        choices=[
            "evaluate",
            "latency",
            "runs",
            "floor",
            "choice",
            "demo",
            "kb",
            "real",
            "edge",
            "reseed",
            "learn",
        ],
    )
    parser.add_argument(
        "--against", type=Path, default=None, help="kb: another KB file (Parquet) to compare with."
    )
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--runs", type=int, default=2, help="demo: how many times to run it.")
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument(
        "--held-out", nargs="*", default=[], help="Only hold out these domains (default: all)."
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="evaluate: folds in this many processes."
    )
    parser.add_argument(
        "--image-tasks",
        type=int,
        default=100,
        help="reseed: how many image tasks to measure again (all tabular ones are).",
    )
    parser.add_argument(
        "--queries",
        action="store_true",
        help="reseed: price the floor from every query's answer (measures again, keeps nothing).",
    )
    parser.add_argument(
        "--modality",
        choices=["image", "vector"],
        default="image",
        help="runs: draw the tasks from the image domains or from the synthetic tabular ones.",
    )
    args = parser.parse_args()
    if args.what == "evaluate":
        run_evaluation(args.held_out, args.workers)
    elif args.what == "latency":
        run_latency(args.tasks)
    elif args.what == "floor":
        run_floor()
    elif args.what == "choice":
        run_choice()
    elif args.what == "kb":
        run_kb(args.against)
    elif args.what == "demo":
        run_demo(args.runs)
    elif args.what == "learn":
        header(f"learn --tasks {args.tasks}")
        own_runs.run_learn(args.tasks)
    elif args.what == "edge":
        header("edge")
        range_edge.run_edge(workers=args.workers)
    elif args.what == "reseed" and args.queries:
        header(f"reseed --queries --image-tasks {args.image_tasks} --workers {args.workers}")
        print(markdown(reseed.query_floor(workers=args.workers, image_tasks=args.image_tasks)))
    elif args.what == "reseed":
        reseed.run(workers=args.workers, image_tasks=args.image_tasks)
    elif args.what == "real":
        header("real")
        real_tables.with_own_source(workers=args.workers)
        print()
        real_tables.without_source()
    else:
        run_tuned(args.tasks, args.trials, args.modality)


if __name__ == "__main__":
    main()
