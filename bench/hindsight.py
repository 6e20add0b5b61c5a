"""Advice in hindsight: each task's family picked from the other tasks of its own domain.

Leave-one-domain-out denies the recommender the one thing this rule has: the outcomes of the
held-out domain's *other* tasks. For each knowledge-base task, the rule picks the family with
the best mean accuracy (a family's accuracy being its best variant's) over the other tasks
that share its domain and

- its number of classes and of shots per class (the same grid cell, drawn with another seed), or
- its number of shots per class (any number of classes);

and, for comparison, over the other tasks of *every* domain of its kind of data with the same
classes and shots (what the descriptors alone tell, with the task's own domain included).
It is scored as ``python -m bench.advisor evaluate`` scores the advisor: family regret in
points against the task's best family, and selection on the clear tasks (best and second
family more than 2 points apart; a family tied with the best counts). The same-cell rule
sees a single other task, so its advice carries that task's noise; pooling over the classes
(the second rule) averages more of it away.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from advisor.kb.evaluate import CLEAR_GAP
from advisor.recommender import task_table

RULES = {
    "same domain, classes and shots": ["domain", "ways", "shots"],
    "same domain and shots": ["domain", "shots"],
    "any domain of its kind, same classes and shots": ["modality", "ways", "shots"],
}


def family_accuracy(kb: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(tasks, families)``: the task rows and each family's accuracy (its best variant's).

    The families are ordered by their mean accuracy over the knowledge base, so that a tie
    between families' means goes to the one best on average (``argmax`` takes the first).
    """
    tasks, accuracy = task_table(kb)
    families = accuracy.T.groupby(level=0).max().T
    # ties (frequent between two tasks) go to the family best on average over the whole KB
    return tasks, families[families.mean().sort_values(ascending=False).index]


def hindsight_picks(families: pd.DataFrame, groups: pd.Series) -> np.ndarray:
    """Per task, the family best on average over the *other* tasks of its group (−1: none)."""
    picks = np.full(len(families), -1)
    values = families.to_numpy(dtype=np.float64)
    for rows in groups.groupby(groups.to_numpy()).indices.values():
        if len(rows) < 2:
            continue
        block = values[rows]
        known = np.isfinite(block)
        totals, counts = np.where(known, block, 0.0).sum(0), known.sum(0)
        for position, row in enumerate(rows):
            others = counts - known[position]
            mean = (totals - np.where(known[position], block[position], 0.0)) / np.maximum(
                others, 1
            )
            picks[row] = int(np.argmax(np.where(others > 0, mean, -np.inf)))
    return picks


def scores(families: pd.DataFrame, picks: np.ndarray) -> tuple[float, float]:
    """Family regret (points) and selection on the clear tasks of ``picks`` (−1 left out)."""
    values = families.to_numpy(dtype=np.float64)
    keep = picks >= 0
    values, picks = values[keep], picks[keep]
    best = np.nanmax(values, axis=1)
    lost = best - values[np.arange(len(picks)), picks]
    ordered = -np.sort(-np.nan_to_num(values, nan=-np.inf), axis=1)
    clear = ordered[:, 0] - ordered[:, 1] > CLEAR_GAP
    return float(100 * np.mean(lost)), float(np.mean(lost[clear] <= 0.0))


def table(kb: pd.DataFrame) -> pd.DataFrame:
    """One row per rule and kind of data (and ``all``): tasks, family regret, selection."""
    tasks, families = family_accuracy(kb)
    rows = []
    for name, keys in RULES.items():
        groups = tasks[keys].astype(str).agg("|".join, axis=1)
        picks = hindsight_picks(families, groups)
        for kind in [*sorted(tasks["modality"].dropna().unique()), "all"]:
            mine = np.ones(len(tasks), bool) if kind == "all" else (tasks["modality"] == kind)
            mine = np.asarray(mine)
            regret, selection = scores(families[mine], picks[mine])
            rows.append(
                {
                    "rule": name,
                    "kind": kind,
                    "tasks": int(np.sum(mine & (picks >= 0))),
                    "family regret": regret,
                    "selection (clear)": selection,
                }
            )
    return pd.DataFrame(rows)
