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

Selection accuracy has a ceiling for the same reason. A task is *clear* when its measured best
family leads the second by more than a gap (2 points in :mod:`advisor.kb.evaluate`); noise makes
tasks clear whose families are in truth level, and there the measured winner is a coin toss.
The oracle's share of clear tasks on which its family is a measured-best one,

    ceiling = P( m_{f*} = max_f m_f  |  m_(1) − m_(2) > gap ),   f* = argmax_f p_f,

is what no recommender can be expected to beat. Here the simulation errs the other way: with
the measured accuracies standing in for the expected ones, families look farther apart than
they are, the oracle looks surer than it can be, and the true ceiling is at most about this.

Reference: the winner's curse / optimiser's curse of picking the maximum of noisy estimates
(Smith & Winkler 2006, *The Optimizer's Curse*, Management Science 52(3)).
"""

from __future__ import annotations

from collections.abc import Iterator

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
    simulation = _Simulation(expected, queries, groups)
    true_p = np.where(simulation.known, simulation.p, -np.inf)
    best_learner = np.argmax(true_p, axis=1)
    best_group = np.argmax(simulation.group_max(true_p), axis=1)
    rows = np.arange(true_p.shape[0])
    learner_loss = np.zeros(true_p.shape[0])
    group_loss = np.zeros(true_p.shape[0])
    for measured in simulation.draws(draws, seed):
        learner_loss += measured.max(axis=1) - measured[rows, best_learner]
        by_group = simulation.group_max(measured)
        group_loss += by_group.max(axis=1) - by_group[rows, best_group]
    return learner_loss / draws, group_loss / draws


def oracle_selection(
    expected: np.ndarray,
    queries: np.ndarray,
    groups: np.ndarray,
    *,
    gap: float = 0.02,
    draws: int = 200,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Per task, how often the measurement is *clear* and how often the oracle is right then.

    Arguments as :func:`oracle_regret`; ``gap`` is the lead (in accuracy) that makes a task
    clear. The oracle picks the group of highest expected accuracy; it is right when that
    group's measurement ties the best one.

    Returns:
        ``(clear, right)``, each ``(tasks,)``: the share of draws in which the task is clear,
        and the share in which it is clear *and* the oracle's group is a measured best. Their
        sums' ratio over tasks is the oracle's selection accuracy on clear tasks.
    """
    simulation = _Simulation(expected, queries, groups)
    oracle = np.argmax(
        simulation.group_max(np.where(simulation.known, simulation.p, -np.inf)), axis=1
    )
    rows = np.arange(oracle.size)
    clear = np.zeros(oracle.size)
    right = np.zeros(oracle.size)
    for measured in simulation.draws(draws, seed):
        by_group = simulation.group_max(measured)
        ordered = np.sort(by_group, axis=1)
        is_clear = np.isfinite(ordered[:, -2]) & (ordered[:, -1] - ordered[:, -2] > gap)
        clear += is_clear
        right += is_clear & (by_group[rows, oracle] >= ordered[:, -1])
    return clear / draws, right / draws


class _Simulation:
    """Fresh measurements ``m = p + ε`` of expected accuracies ``p`` (module docstring)."""

    def __init__(self, expected: np.ndarray, queries: np.ndarray, groups: np.ndarray) -> None:
        self.p = np.asarray(expected, dtype=np.float64)
        self.known = np.isfinite(self.p)
        variance = np.clip(np.where(self.known, self.p * (1.0 - self.p), 0.0), 0.0, None)
        self.sd = np.sqrt(variance / np.asarray(queries, dtype=np.float64)[:, None])
        names = list(dict.fromkeys(np.asarray(groups).tolist()))
        self.members = [np.asarray(groups) == name for name in names]

    def group_max(self, values: np.ndarray) -> np.ndarray:
        """``(tasks, groups)``: each group's best member; ``-inf`` for a group that never ran."""
        return np.stack(
            [
                np.where(member & self.known, values, -np.inf).max(axis=-1)
                for member in self.members
            ],
            axis=-1,
        )

    def draws(self, count: int, seed: int) -> Iterator[np.ndarray]:
        rng = np.random.default_rng(seed)
        for _ in range(count):
            yield np.where(
                self.known, self.p + self.sd * rng.standard_normal(self.p.shape), -np.inf
            )


def noise_floor(
    kb: pd.DataFrame, *, draws: int = 200, seed: int = 0, query_scale: float = 1.0
) -> pd.DataFrame:
    """The oracle's mean regret in points per domain and overall (module docstring).

    ``query_scale`` asks what a knowledge base measured on that many times more query examples
    per task would allow (the binomial noise shrinks as ``1/√n``).

    Columns: ``domain``, ``tasks``, ``query examples`` (mean per task), ``floor`` (learner
    level, points), ``family floor`` (points), ``clear`` (expected share of tasks whose
    measured best family leads by more than 2 points) and ``selection ceiling (clear)`` (the
    oracle's selection accuracy on them); the last row is ``all``.
    """
    tasks, accuracy = task_table(kb)
    queries = query_scale * (tasks["ways"] * tasks["queries"]).to_numpy(dtype=np.float64)
    families = np.asarray([str(key[0]) for key in accuracy.columns])
    expected = accuracy.to_numpy(dtype=np.float64)
    learner, family = oracle_regret(expected, queries, families, draws=draws, seed=seed)
    clear, right = oracle_selection(expected, queries, families, draws=draws, seed=seed)
    frame = pd.DataFrame(
        {
            "domain": tasks["domain"].to_numpy(),
            "query examples": queries,
            "floor": 100 * learner,
            "family floor": 100 * family,
            "clear": clear,
            "right": right,
        }
    )
    parts = [(str(domain), part) for domain, part in frame.groupby("domain")] + [("all", frame)]
    rows = [
        {
            "domain": domain,
            "tasks": len(part),
            **part.drop(columns=["domain", "right"]).mean(),
            "selection ceiling (clear)": part["right"].sum() / part["clear"].sum()
            if part["clear"].sum() > 0
            else np.nan,
        }
        for domain, part in parts
    ]
    return pd.DataFrame(rows)
