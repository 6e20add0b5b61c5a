"""The advisor on real tables, which its knowledge base (whose tables are synthetic) does not cover.

    .venv/bin/python -m bench.advisor real            # both parts, about 8 min on 2 cores

**With a source of the user's own.** scikit-learn's handwritten digits (Alpaydin & Kaynak,
UCI; 1,797 images of 8 × 8 pixels) read as a 64-column table, split four ways into source
classes and target classes (0–4 | 5–9, 5–9 | 0–4, even | odd, odd | even). A source is built
from the source classes the way ``advisor sources build-from`` does (its default settings);
target tasks of 2 and 5 classes with 1, 2, 5, 10 and 20 shots per class (three seeds each) are
drawn from the target classes, every other row of those classes is the query set. On each task
the advisor recommends, and every learner runs with its defaults. Beside the advisor: each
family always, and the *rule of thumb* of the usual guidance (at most 5 shots → meta, more →
transfer). *Distance alone* is what the advice would be were a table's range judged by its
distance to the KB's tables alone, as before the source rule (``Recommender._unmeasured_source``):
the family choice within the limit, the prior beyond it.

**Without a source.** iris, wine, breast cancer and digits (scikit-learn's bundled copies):
``shots`` rows per class as training data, the rest as test data; the advisor is asked with
the built-in image source, which cannot take a table, so only scratch can run and the advisor
picks its variant. Each scratch variant is measured beside it, and *distance alone* is again
the advice without the source rule: the variant choice within the distance limit.
"""

from __future__ import annotations

import math
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine

from advisor import Advisor
from advisor.datasets.dataset import make_dataset
from advisor.datasets.tasks import sample_task
from advisor.kb.evaluate import markdown
from advisor.kb.runner import ALL_VARIANTS, run_learner
from advisor.recommender.recommend import RANGE_FACTOR
from advisor.schemas import Recommendation
from learners import build_source

SPLITS = ("0-4", "5-9", "even", "odd")
WAYS = (2, 5)
SHOTS = (1, 2, 5, 10, 20)
FAMILIES = ("transfer", "meta", "hybrid", "scratch")
TABLES = {
    "iris": load_iris,
    "wine": load_wine,
    "breast cancer": load_breast_cancer,
    "digits": load_digits,
}
SCRATCH = ("logreg", "gbm", "cnn")


def _source_classes(split: str, y: np.ndarray) -> np.ndarray:
    return {
        "0-4": y < 5,
        "5-9": y >= 5,
        "even": y % 2 == 0,
        "odd": y % 2 == 1,
    }[split]


def _one_split(job: tuple[str, int]) -> list[dict[str, Any]]:
    """Every task of one split: the advice, and each learner's accuracy (percent)."""
    split, seeds = job
    X, y = load_digits(return_X_y=True)
    X = X.astype(np.float64)
    mask = _source_classes(split, y)
    source = build_source(
        make_dataset(X[mask], y[mask]),
        name=f"digits-{split}",
        pretrain_epochs=10,
        meta_episodes=200,
    )
    target = make_dataset(X[~mask], y[~mask])
    advisor = Advisor(source)
    rows = []
    for ways in WAYS:
        for shots in SHOTS:
            for seed in range(seeds):
                task = sample_task(target, ways=ways, shots=shots, queries=None, seed=seed)
                advice = advisor.recommend(task.X_support, task.y_support)
                row: dict[str, Any] = {
                    "split": split,
                    "ways": ways,
                    "shots": shots,
                    "seed": seed,
                    "advice": f"{advice.family}/{advice.variant}",
                    "in range": advice.explanation.in_range,
                    "edges away": _edges_away(advisor, advice),
                    "choice": _family_choice(advisor, advice),
                }
                for family, variant in ALL_VARIANTS:
                    learner_source = None if family == "scratch" else source
                    measured = run_learner(
                        family, variant, seed=seed, source=learner_source, task=task
                    )
                    row[f"{family}/{variant}"] = 100 * measured["accuracy"]
                rows.append(row)
    return rows


def _edges_away(advisor: Advisor, advice: Recommendation) -> float:
    """The nearest KB task's distance in units of the KB's 99th-percentile neighbour distance."""
    return advice.explanation.neighbours[0].distance / advisor.recommender.edge


def _choice_row(advisor: Advisor, advice: Recommendation) -> pd.DataFrame:
    values = {k: math.nan if v is None else v for k, v in advice.meta_features.items()}
    return advisor.recommender._row(values, "vector")  # what the prior overrode


def _family_choice(advisor: Advisor, advice: Recommendation) -> str:
    """The family the family choice would pick, were the task inside the range."""
    return str(advisor.recommender.choice.leads(_choice_row(advisor, advice)).iloc[0].idxmax())


def _variant_choice(advisor: Advisor, advice: Recommendation) -> str:
    """The scratch variant the variant choice would pick, were the task inside the range."""
    row = _choice_row(advisor, advice)
    return str(advisor.recommender.choice.choose_variant(row, "scratch")[0])


def _family_regrets(runs: pd.DataFrame) -> pd.DataFrame:
    """Per task, the family regret of the advisor and of each baseline (points)."""
    learners = [f"{f}/{v}" for f, v in ALL_VARIANTS]
    family = pd.DataFrame(
        {f: runs[[c for c in learners if c.startswith(f + "/")]].max(axis=1) for f in FAMILIES}
    )
    best = family.max(axis=1)
    chosen = [family.at[i, advice.split("/")[0]] for i, advice in runs["advice"].items()]
    choice = [family.at[i, pick] for i, pick in runs["choice"].items()]
    rule = np.where(runs["shots"] <= 5, family["meta"], family["transfer"])
    near = (runs["edges away"] <= RANGE_FACTOR).to_numpy()
    return pd.DataFrame(
        {
            "shots": runs["shots"],
            "advisor": best - np.asarray(chosen),
            "family choice": best - np.asarray(choice),
            "distance alone": best - np.where(near, np.asarray(choice), family["scratch"]),
            **{f"always {f}": best - family[f] for f in FAMILIES},
            "rule of thumb": best - rule,
        }
    )


def with_own_source(seeds: int = 3, workers: int = 2) -> None:
    """Part one (module docstring): print the regret and accuracy tables."""
    with ProcessPoolExecutor(max_workers=workers) as pool:
        parts = list(pool.map(_one_split, [(split, seeds) for split in SPLITS]))
    runs = pd.DataFrame([row for part in parts for row in part])
    regrets = _family_regrets(runs)
    by_shots = regrets.groupby("shots").mean()
    by_shots.loc["all"] = regrets.drop(columns="shots").mean()
    away = runs["edges away"]
    print(
        f"{len(runs)} tasks, {int(runs['in range'].sum())} inside the knowledge base's range, "
        f"{int((away <= RANGE_FACTOR).sum())} within its distance limit; nearest KB task "
        f"{away.min():.1f}–{away.max():.1f} (median {away.median():.1f}) times the KB's "
        "99th-percentile neighbour distance away\n"
    )
    print("Family regret (points lost against the best family of each task), by shots:\n")
    print(markdown(by_shots.round(2).reset_index()))
    learners = [f"{f}/{v}" for f, v in ALL_VARIANTS]
    accuracy = runs.groupby("shots")[learners].mean().T
    accuracy.columns = [f"{shots} shots" for shots in accuracy.columns]
    accuracy["all"] = runs[learners].mean()
    accuracy = accuracy.sort_values("all", ascending=False).round(1)
    print("\nMean accuracy (%) of each learner, by shots:\n")
    print(markdown(accuracy.rename_axis("learner").reset_index()))
    advice = runs.groupby(["shots", "advice"]).size().unstack(fill_value=0)
    advice.columns = [str(c) for c in advice.columns]
    print("\nThe advice, by shots (tasks):\n")
    print(markdown(advice.reset_index()))


def without_source(seeds: int = 5) -> None:
    """Part two (module docstring): the scratch variant the advisor picks, against each."""
    advisor = Advisor("glyphs")
    rows = []
    for name, load in TABLES.items():
        X, y = load(return_X_y=True)
        for shots in (2, 5, 10, 20):
            for seed in range(seeds):
                rng = np.random.default_rng(seed)
                train = np.concatenate(
                    [rng.choice(np.flatnonzero(y == c), shots, replace=False) for c in np.unique(y)]
                )
                test = np.setdiff1d(np.arange(len(y)), train)
                advice = advisor.recommend(X[train], y[train])
                measured = {}
                for variant in SCRATCH:
                    outcome = run_learner(
                        "scratch",
                        variant,
                        seed=seed,
                        source=None,
                        task=_Split(X[train], y[train], X[test], y[test]),
                    )
                    measured[variant] = 100 * outcome["accuracy"]
                best = max(measured.values())
                edges = _edges_away(advisor, advice)
                alone = _variant_choice(advisor, advice) if edges <= RANGE_FACTOR else "logreg"
                rows.append(
                    {
                        "table": name,
                        "advisor": best - measured[advice.variant],
                        "distance alone": best - measured[alone],
                        **{f"always {v}": best - measured[v] for v in SCRATCH},
                        "advice": advice.variant,
                        "edges away": edges,
                    }
                )
    table = pd.DataFrame(rows)
    away = table.pop("edges away")
    regret = table.drop(columns="advice").groupby("table").mean()
    regret.loc["all"] = table.drop(columns=["table", "advice"]).mean()
    print(
        "Regret against the best scratch variant (points), shots 2, 5, 10, 20 pooled; nearest KB "
        f"task {away.min():.1f}–{away.max():.1f} times the 99th-percentile distance away, "
        f"{int((away <= RANGE_FACTOR).sum())} of {len(away)} tasks within the limit:\n"
    )
    print(markdown(regret.round(2).reset_index()))
    counts = {str(k): int(v) for k, v in table["advice"].value_counts().items()}
    print("\nThe advice (tasks):", counts)


class _Split:
    """A task-shaped train/test split for :func:`~advisor.kb.runner.run_learner`."""

    def __init__(self, X: np.ndarray, y: np.ndarray, X_test: np.ndarray, y_test: np.ndarray):
        self.X_support, self.y_support, self.X_query, self.y_query = X, y, X_test, y_test
