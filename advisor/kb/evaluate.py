"""Leave-one-domain-out evaluation of the recommender against the usual baselines.

For each domain of the knowledge base, the recommender is fitted on every *other* domain and
asked about every task of the held-out one — so it is judged on data it has never seen, the
user's situation. Per held-out domain and overall:

* **selection accuracy** — the recommended family is a best family (a family's accuracy on a
  task is its best variant's; a family tied with the best counts as best), over all tasks, and
  over the *clear* tasks where the best and the second-best family differ by more than 2 points;
* **regret** — accuracy points lost against the best learner of the task (the recommended
  variant's accuracy against the best accuracy of any variant): mean and 90th percentile;
* **family regret** — points lost at the level the recommendation is made: the best family's
  accuracy minus the recommended family's (each family's accuracy its best variant's);
* **Spearman** correlation between predicted and measured accuracy over every (task, learner);
* **coverage** of the 80 % intervals.

Baselines, each judged on the same tasks: *always transfer* (fine-tuning), *always meta*
(ProtoNet), the *single best* learner on the training domains, the *rule of thumb* of the usual
guidance (at most 5 shots → meta/ProtoNet; more → transfer/fine-tuning), and *random* — the
expected regret of a family drawn at random with its default variant.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from advisor.errors import KB_TOO_FEW_DOMAINS, InvalidInputError
from advisor.kb.runner import FEATURE_PREFIX
from advisor.recommender import Recommender, task_table
from learners import FAMILIES, default_variant

CLEAR_GAP = 0.02
PERCENT_COLUMNS = frozenset(
    {"selection", "selection (clear)", "coverage", "clear", "selection ceiling (clear)"}
)
Key = tuple[str, str]
METHODS = ("advisor", "always transfer", "always meta", "single best", "rule of thumb", "random")


@dataclass(frozen=True)
class Outcome:
    """What a method chose on one task, and what it cost."""

    domain: str
    method: str
    correct: bool
    clear: bool
    regret: float
    family_regret: float


def _family_accuracy(row: pd.Series) -> pd.Series:
    return row.groupby(level=0).max()


def _choices(train: pd.DataFrame) -> dict[str, Callable[[pd.Series], Key]]:
    _, accuracy = task_table(train)
    means = accuracy.mean()
    best = means.index[int(np.argmax(means.to_numpy()))]
    best_key: Key = (str(best[0]), str(best[1]))
    return {
        "always transfer": lambda _task: ("transfer", default_variant("transfer")),
        "always meta": lambda _task: ("meta", default_variant("meta")),
        "single best": lambda _task: best_key,
        "rule of thumb": lambda task: (
            ("meta", "protonet") if task["shots"] <= 5 else ("transfer", "finetune")
        ),
    }


Scored = tuple[str, float, float, bool]  # domain, predicted, measured, covered


def evaluate(
    kb: pd.DataFrame,
    *,
    seed: int = 0,
    held_out: Sequence[str] | None = None,
    workers: int = 1,
    progress: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(per_domain, overall)`` tables of the metrics in the module docstring.

    Every domain is held out in turn, or only those of ``held_out`` (each still against a
    recommender trained on all the other domains). The folds are independent: ``workers``
    processes share them (one thread each), and the tables do not depend on how many;
    ``progress`` shows a bar of held-out domains on standard error.

    Raises:
        InvalidInputError: ``kb.too_few_domains``: ``kb`` holds fewer than 2 domains (the
            recommender of each fold learns from the domains not held out).
    """
    present = sorted(kb["domain"].unique())
    if len(present) < 2:
        raise InvalidInputError(
            f"Leave-one-domain-out evaluation needs a knowledge base of at least 2 domains; "
            f"this one has {len(present)} ({', '.join(map(str, present)) or 'none'}).",
            code=KB_TOO_FEW_DOMAINS,
            domains=[str(d) for d in present],
        )
    domains = sorted(held_out or present)
    folds: dict[str, tuple[list[Outcome], list[Scored]]] = {}
    with tqdm(total=len(domains), unit="domain", disable=not progress) as bar:
        if workers > 1:
            with ProcessPoolExecutor(max_workers=workers, initializer=_one_thread) as pool:
                pending = {pool.submit(_fold, kb, held, seed): held for held in domains}
                for done in as_completed(pending):
                    folds[pending[done]] = done.result()
                    bar.update()
        else:
            for held in domains:
                folds[held] = _fold(kb, held, seed)
                bar.update()
    outcomes = [o for held in domains for o in folds[held][0]]
    predictions = [p for held in domains for p in folds[held][1]]
    table = pd.DataFrame([o.__dict__ for o in outcomes])
    scored = pd.DataFrame(predictions, columns=["domain", "predicted", "measured", "covered"])
    per_domain = _summarise(table, scored, by_domain=True)
    overall = _summarise(table, scored, by_domain=False)
    return per_domain, overall


def _one_thread() -> None:
    """Each worker process computes on one thread (the folds are the parallelism)."""
    threadpool_limits(limits=1)


def _fold(kb: pd.DataFrame, held: str, seed: int) -> tuple[list[Outcome], list[Scored]]:
    """Every method's outcome on each task of domain ``held``, and the advisor's predictions.

    The recommender and the single-best baseline are trained on every other domain. A
    learner the training domains never measured (a table learner's rows on images, say) has
    no residuals: its intervals are NaN, expected, and NumPy's warnings about it are not shown.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "All-NaN slice encountered", RuntimeWarning)
        warnings.filterwarnings("ignore", "Mean of empty slice", RuntimeWarning)
        return _fold_outcomes(kb, held, seed)


def _fold_outcomes(kb: pd.DataFrame, held: str, seed: int) -> tuple[list[Outcome], list[Scored]]:
    outcomes: list[Outcome] = []
    predictions: list[Scored] = []
    train, test = kb[kb["domain"] != held], kb[kb["domain"] == held]
    recommender = Recommender(train, seed=seed)
    choices = _choices(train)
    tasks, accuracy = task_table(test)
    features = tasks[[c for c in tasks.columns if c.startswith(FEATURE_PREFIX)]]
    for position in range(len(tasks)):
        task = tasks.iloc[position]
        measured = accuracy.iloc[position]
        families = _family_accuracy(measured).sort_values(ascending=False)
        best, clear = (
            float(measured.max()),
            bool(families.iloc[0] - families.iloc[1] > CLEAR_GAP),
        )
        values = {str(k): float(v) for k, v in features.iloc[position].items()}
        modality = task["modality"] if isinstance(task["modality"], str) else None
        rec = recommender.recommend(values, source=str(task["source"]), modality=modality)
        chosen: dict[str, Key] = {"advisor": (str(rec.family), rec.variant)}
        chosen.update({name: choose(task) for name, choose in choices.items()})
        top = float(families.iloc[0])
        for method, key in chosen.items():
            realised = float(measured.get(key, np.nan))
            lost = top - float(families.get(key[0], np.nan))
            outcomes.append(Outcome(held, method, lost <= 0.0, clear, best - realised, lost))
        defaults = [float(measured.get((f, default_variant(f)), np.nan)) for f in FAMILIES]
        outcomes.append(
            Outcome(
                held,
                "random",
                False,
                clear,
                best - float(np.nanmean(defaults)),
                top - float(families.mean()),
            )
        )
        predicted = recommender.model.predict(recommender.model.features(values))[0]
        low, high = (b[0] for b in recommender.model.intervals(predicted[None, :]))
        for j, learner in enumerate(recommender.model.keys):
            truth = float(measured.get(learner, np.nan))
            if np.isfinite(truth):
                predictions.append((held, predicted[j], truth, low[j] <= truth <= high[j]))
    return outcomes, predictions


def _summarise(table: pd.DataFrame, scored: pd.DataFrame, *, by_domain: bool) -> pd.DataFrame:
    rows = []
    groups = table.groupby("domain") if by_domain else [("all", table)]
    for domain, part in groups:
        advisor_scores = scored if domain == "all" else scored[scored["domain"] == domain]
        for method in METHODS:
            mine = part[part["method"] == method]
            clear = mine[mine["clear"]]
            row = {
                "domain": domain,
                "method": method,
                "tasks": len(mine),
                "selection": np.nan if method == "random" else mine["correct"].mean(),
                "selection (clear)": np.nan
                if method == "random" or clear.empty
                else clear["correct"].mean(),
                "mean regret": 100 * mine["regret"].mean(),
                "p90 regret": 100 * mine["regret"].quantile(0.9),
                "family regret": 100 * mine["family_regret"].mean(),
            }
            if method == "advisor" and len(advisor_scores) > 2:
                row["spearman"] = float(
                    spearmanr(advisor_scores["predicted"], advisor_scores["measured"]).statistic
                )
                row["coverage"] = float(advisor_scores["covered"].mean())
            rows.append(row)
    return pd.DataFrame(rows)


def markdown(table: pd.DataFrame) -> str:
    """A Markdown table of an evaluation table (percentages and points rounded)."""
    columns = list(table.columns)
    lines = ["| " + " | ".join(columns) + " |", "| " + " | ".join("---" for _ in columns) + " |"]
    for _, row in table.iterrows():
        cells = []
        for column in columns:
            value = row[column]
            if isinstance(value, float):
                percent = column in PERCENT_COLUMNS
                cells.append(
                    "—"
                    if np.isnan(value)
                    else f"{100 * value:.0f} %"
                    if percent
                    else f"{value:.2f}"
                )
            else:
                cells.append(str(value))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
