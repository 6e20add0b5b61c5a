"""The regret that measurement noise alone costs: a floor under any recommender's regret.

A knowledge-base accuracy is measured on ``n = ways × queries`` query examples, so it is the
mean of ``n`` right-or-wrong outcomes: if learner ``k``'s expected accuracy on the task is
``p_k``, its measurement is ``m_k ≈ p_k + ε_k`` with ``ε_k ~ N(0, p_k (1 − p_k) / n)``
(binomial standard error, normal approximation). Even an *oracle* that knows every ``p_k``
exactly — the best any meta-model can hope to predict — picks ``k* = argmax_k p_k`` and is
scored against the best *measurement*, so its expected regret is

    floor = E[ max_k m_k − m_{k*} ]  > 0  whenever learners are within noise of each other.

This module estimates it by simulation, taking each task's measured accuracies as the
``p_k`` and drawing fresh ``ε``. The measured accuracies spread wider than the expected ones
(they carry the noise once already), so learners look farther apart than they are and the
estimate errs low: the true floor is at least about this high.

The same holds one level up: a family's accuracy is its best variant's, and the *family
floor* is the oracle's loss when the best family is picked by expected accuracy.

Reference: the winner's curse / optimiser's curse of picking the maximum of noisy estimates
(Smith & Winkler 2006, *The Optimizer's Curse*, Management Science 52(3)).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from advisor.recommender import task_table


def oracle_regret(
    expected: np.ndarray,
    queries: np.ndarray,
    groups: np.ndarray,
    *,
    draws: int = 200,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Per task, the oracle's expected regret over learners and over groups of learners.

    Args:
        expected: ``(tasks, learners)`` expected accuracies in [0, 1]; NaN where a learner
            did not run (left out of that task's choice).
        queries: ``(tasks,)`` number of query examples each accuracy is measured on.
        groups: ``(learners,)`` the group (family) of each learner; a group's measurement is
            its best member's.
        draws: simulated measurements per task.
        seed: seed of the simulation.

    Returns:
        ``(learner_floor, group_floor)``, each ``(tasks,)``, in accuracy (not points).
    """
    rng = np.random.default_rng(seed)
    p = np.asarray(expected, dtype=np.float64)
    known = np.isfinite(p)
    sd = np.sqrt(np.clip(np.where(known, p * (1.0 - p), 0.0), 0.0, None) / queries[:, None])
    names = list(dict.fromkeys(groups.tolist()))
    members = [np.asarray(groups) == name for name in names]

    def group_max(values: np.ndarray) -> np.ndarray:
        return np.stack(
            [np.where(member & known, values, -np.inf).max(axis=-1) for member in members],
            axis=-1,
        )

    true_p = np.where(known, p, -np.inf)
    best_learner = np.argmax(true_p, axis=1)
    best_group = np.argmax(group_max(true_p), axis=1)
    rows = np.arange(p.shape[0])
    learner_loss = np.zeros(p.shape[0])
    group_loss = np.zeros(p.shape[0])
    for _ in range(draws):
        measured = np.where(known, p + sd * rng.standard_normal(p.shape), -np.inf)
        learner_loss += measured.max(axis=1) - measured[rows, best_learner]
        by_group = group_max(measured)
        group_loss += by_group.max(axis=1) - by_group[rows, best_group]
    return learner_loss / draws, group_loss / draws


def noise_floor(kb: pd.DataFrame, *, draws: int = 200, seed: int = 0) -> pd.DataFrame:
    """The oracle's mean regret in points per domain and overall (module docstring).

    Columns: ``domain``, ``tasks``, ``query examples`` (mean per task), ``floor`` (learner
    level, points) and ``family floor`` (points); the last row is ``all``.
    """
    tasks, accuracy = task_table(kb)
    queries = (tasks["ways"] * tasks["queries"]).to_numpy(dtype=np.float64)
    families = np.asarray([str(key[0]) for key in accuracy.columns])
    learner, family = oracle_regret(
        accuracy.to_numpy(dtype=np.float64), queries, families, draws=draws, seed=seed
    )
    frame = pd.DataFrame(
        {
            "domain": tasks["domain"].to_numpy(),
            "query examples": queries,
            "floor": 100 * learner,
            "family floor": 100 * family,
        }
    )
    rows = [
        {"domain": str(domain), "tasks": len(part), **part.drop(columns="domain").mean()}
        for domain, part in frame.groupby("domain")
    ]
    rows.append({"domain": "all", "tasks": len(frame), **frame.drop(columns="domain").mean()})
    return pd.DataFrame(rows)[["domain", "tasks", "query examples", "floor", "family floor"]]
