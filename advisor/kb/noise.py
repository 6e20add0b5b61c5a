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
estimate errs low on that account. It errs high on another: each learner's ``ε`` is drawn
independently, though all learners answer the same queries, and the errors they share cancel
in their differences. The floor is an estimate, not a bound; :func:`paired_bootstrap` prices
it without either assumption for a task whose every answer, in two runs, is kept.

A measurement carries a second noise: the learner's own randomness (its seeded
initialisation, shuffling, subsampling), which a second run on the very same support and query
sets would draw afresh. Measured by running tasks twice (``python -m bench.advisor reseed``),
it is added as an independent term on the binomial scale, ``m_k ≈ p_k + ε_k + η_k`` with
``η_k = √(p_k (1 − p_k)) · z``, ``z`` resampled from the learner's measured seed-to-seed
differences (:func:`seed_residuals`, :class:`SeedNoise`); the oracle then knows the
expectation over both.

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

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

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
    seed_noise: SeedNoise | None = None,
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
        seed_noise: each learner's own randomness (seeded initialisation, shuffling…),
            added to the query sets' binomial noise as an independent term; none if ``None``.

    Returns:
        ``(learner_floor, group_floor)``, each ``(tasks,)``, in accuracy (not points).
    """
    simulation = _Simulation(expected, queries, groups, seed_noise)
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
    seed_noise: SeedNoise | None = None,
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
    simulation = _Simulation(expected, queries, groups, seed_noise)
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


def _members(groups: np.ndarray) -> list[np.ndarray]:
    """One boolean mask over the learners per group, in order of first appearance."""
    names = list(dict.fromkeys(np.asarray(groups).tolist()))
    return [np.asarray(groups) == name for name in names]


class _Simulation:
    """Fresh measurements ``m = p + ε`` of expected accuracies ``p`` (module docstring)."""

    def __init__(
        self,
        expected: np.ndarray,
        queries: np.ndarray,
        groups: np.ndarray,
        seed_noise: SeedNoise | None = None,
    ) -> None:
        self.p = np.asarray(expected, dtype=np.float64)
        self.known = np.isfinite(self.p)
        variance = np.clip(np.where(self.known, self.p * (1.0 - self.p), 0.0), 0.0, None)
        self.sd = np.sqrt(variance / np.asarray(queries, dtype=np.float64)[:, None])
        self.seed_noise = seed_noise
        self.members = _members(groups)

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
            measured = self.p + self.sd * rng.standard_normal(self.p.shape)
            if self.seed_noise is not None:  # the learners' own, independent of the queries'
                measured = measured + self.seed_noise.draw(rng)
            yield np.where(self.known, measured, -np.inf)


SHOT_BANDS = (3, 15)


def shot_band(shots: float) -> str:
    """``1-2``, ``3-14`` or ``15+`` shots per class: how far a learner's randomness is pooled.

    A learner's seed matters more with fewer examples to fit (and its effect does not scale
    with the binomial term alone), so its measured differences are pooled within a band of
    shots rather than over every task of a kind.
    """
    return ("1-2", "3-14", "15+")[int(np.digitize(float(shots), SHOT_BANDS))]


def seed_residuals(first: pd.DataFrame, second: pd.DataFrame) -> dict[Any, np.ndarray]:
    """Each learner's seed-to-seed differences, on the binomial scale, from paired runs.

    ``first`` and ``second`` hold the accuracies (tasks × learners) of two runs that share the
    task — support set, query set, source — and differ only in the learner's seed. A learner
    that is nearly always right (or wrong) can vary little from seed to seed, so a difference
    is standardised by the binomial scale of the task's mean accuracy, as the query noise is:

        z_t = (m_1 − m_2) / √(2 p̄_t (1 − p̄_t)),     p̄_t = (m_1 + m_2) / 2,

    so that with ``m_r = μ + η_r``, ``Var(η) = c² p (1 − p)`` gives ``E[z²] = c²`` (the
    paired-replicates estimate of a measurement's variance; e.g. ISO 5725-2, repeatability
    from duplicates). Tasks where either run failed (NaN), or where ``p̄`` is 0 or 1 (both
    runs exact: no information on ``c``), are left out. Returns ``z`` per learner (column).
    """
    second = second.loc[first.index, first.columns]
    out: dict[Any, np.ndarray] = {}
    for column in first.columns:
        one = first[column].to_numpy(dtype=np.float64)
        two = second[column].to_numpy(dtype=np.float64)
        middle = (one + two) / 2.0
        scale = np.sqrt(2.0 * middle * (1.0 - middle))
        usable = np.isfinite(one) & np.isfinite(two) & (scale > 0)
        out[column] = (one[usable] - two[usable]) / scale[usable]
    return out


@dataclass(frozen=True)
class SeedNoise:
    """The learners' own randomness, resampled from measured seed-to-seed differences.

    For learner ``k`` on a task of accuracy ``p``, ``η = √(p (1 − p)) · s · z`` with ``z``
    drawn from that learner's standardised differences (:func:`seed_residuals`) and ``s`` a
    random sign: the measured distribution rather than a normal one of the same variance,
    since most seeds change nothing and a few change much.

    ``pool`` is ``(tasks, learners)``: the index in ``pools`` to draw from, −1 for none.
    """

    scale: np.ndarray
    pools: tuple[np.ndarray, ...]
    pool: np.ndarray
    _cells: list[tuple[np.ndarray, np.ndarray]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # each pool's (differences, flat cells), found once rather than on every draw
        cells = [(values, np.flatnonzero(self.pool == i)) for i, values in enumerate(self.pools)]
        object.__setattr__(self, "_cells", [(v, c) for v, c in cells if v.size and c.size])

    @classmethod
    def from_residuals(
        cls,
        expected: np.ndarray,
        kinds: Iterable[object],
        shots: Iterable[float],
        learners: Iterable[Any],
        residuals: Mapping[tuple[str, str, str, str], np.ndarray],
    ) -> SeedNoise:
        """The noise of tasks (rows: kind of data, shots) × ``learners`` ((family, variant) pairs).

        ``expected`` holds their accuracies; ``residuals`` is keyed as in :func:`noise_floor`.
        """
        names = list(residuals)
        where = {name: index for index, name in enumerate(names)}
        columns = [(str(family), str(variant)) for family, variant in learners]
        p = np.asarray(expected, dtype=np.float64)
        return cls(
            scale=np.sqrt(np.clip(p * (1.0 - p), 0.0, None)),
            pools=tuple(np.asarray(residuals[name], dtype=np.float64) for name in names),
            pool=np.array(
                [
                    [where.get((str(kind), shot_band(count), *key), -1) for key in columns]
                    for kind, count in zip(kinds, shots, strict=True)
                ]
            ),
        )

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        """One ``(tasks, learners)`` draw of ``η``."""
        noise = np.zeros(self.scale.size)
        for values, cells in self._cells:
            signs = rng.choice(np.array([-1.0, 1.0]), size=cells.size)
            noise[cells] = values[rng.integers(values.size, size=cells.size)] * signs
        drawn: np.ndarray = noise.reshape(self.scale.shape) * self.scale
        return drawn


def replicate_regret(first: pd.DataFrame, second: pd.DataFrame) -> tuple[float, float]:
    """How well one run of a task tells the best family of another run of the same task.

    Arguments as :func:`seed_residuals`, with ``(family, variant)`` columns; a family's
    accuracy is its best variant's. Returns the share of tasks whose best family is the same
    in both runs, and the mean regret (in points) of picking the family that was best in one
    run, scored on the other — both directions averaged. It is the regret of a recommender
    that knew one complete measurement of the very task it advises on; being one noisy
    measurement itself, it errs high as an estimate of the oracle's floor.
    """
    one = first.T.groupby(level=0).max().T.to_numpy(dtype=np.float64)
    two = second.loc[first.index, first.columns].T.groupby(level=0).max().T.to_numpy()
    rows = np.arange(one.shape[0])
    best_one, best_two = np.nanargmax(one, axis=1), np.nanargmax(two, axis=1)
    regret = (np.nanmax(two, axis=1) - two[rows, best_one]) + (
        np.nanmax(one, axis=1) - one[rows, best_two]
    )
    return float(np.mean(best_one == best_two)), float(100 * np.mean(regret) / 2)


def paired_bootstrap(
    first: np.ndarray,
    second: np.ndarray,
    groups: np.ndarray,
    *,
    draws: int = 200,
    gap: float = 0.02,
    seed: int = 0,
) -> tuple[float, float, float, float]:
    """One task's oracle regret and selection, both noises drawn from the task's own answers.

    ``first`` and ``second`` are ``(learners, queries)`` right-or-wrong answers of two runs
    that differ only by the learners' seeds; ``groups`` the family of each learner. Unlike
    :func:`oracle_regret`, nothing is assumed about the noise's shape or independence. A
    fresh measurement resamples the *queries* with replacement, the same ones for every
    learner (so errors the learners share stay shared), and one of the two runs per learner
    (independently: their seeds are); since one of two runs deviates from their mean by half
    their difference, that deviation is scaled by √2 to carry a whole run's variance:

        m_k = b_k + √2 (a_k − b_k),   b_k = mean over the drawn queries of both runs' answers,
                                       a_k = the same for the drawn run alone.

    The oracle picks by ``p̄_k``, each learner's mean over both runs and all queries (which, as
    in :func:`oracle_regret`, spreads learners a little wider than they are). Returns
    ``(learner_floor, group_floor, clear, right)``: mean regrets in accuracy, the share of
    draws whose best group leads by more than ``gap``, and the share that are clear with the
    oracle's group a measured best (:func:`oracle_selection`).
    """
    rng = np.random.default_rng(seed)
    one, two = np.asarray(first, dtype=np.float64), np.asarray(second, dtype=np.float64)
    both = (one + two) / 2.0
    members = _members(groups)
    expected = both.mean(axis=1)
    best = int(np.argmax(expected))
    best_group = int(np.argmax([expected[m].max() for m in members]))
    queries = one.shape[1]
    learner = group = clear = right = 0.0
    for _ in range(draws):
        drawn = rng.integers(queries, size=queries)
        pick = rng.integers(2, size=one.shape[0]).astype(bool)
        run = np.where(pick[:, None], one[:, drawn], two[:, drawn]).mean(axis=1)
        mean = both[:, drawn].mean(axis=1)
        measured = mean + np.sqrt(2.0) * (run - mean)
        by_group = np.array([measured[m].max() for m in members])
        learner += measured.max() - measured[best]
        group += by_group.max() - by_group[best_group]
        ordered = np.sort(by_group)
        is_clear = len(ordered) > 1 and ordered[-1] - ordered[-2] > gap
        clear += is_clear
        right += is_clear and by_group[best_group] >= ordered[-1]
    return learner / draws, group / draws, clear / draws, right / draws


def noise_floor(
    kb: pd.DataFrame,
    *,
    draws: int = 200,
    seed: int = 0,
    query_scale: float = 1.0,
    residuals: Mapping[tuple[str, str, str, str], np.ndarray] | None = None,
) -> pd.DataFrame:
    """The oracle's mean regret in points per domain and overall (module docstring).

    ``query_scale`` asks what a knowledge base measured on that many times more query examples
    per task would allow (the binomial noise shrinks as ``1/√n``). ``residuals`` maps
    ``(modality, shot band, family, variant)`` (:func:`shot_band`) to that learner's
    standardised seed-to-seed differences on such tasks (:func:`seed_residuals`), which add
    its own randomness (:class:`SeedNoise`) to the binomial noise; learners (or tasks) it does
    not name add none.

    Columns: ``domain``, ``tasks``, ``query examples`` (mean per task), ``floor`` (learner
    level, points), ``family floor`` (points), ``clear`` (expected share of tasks whose
    measured best family leads by more than 2 points) and ``selection ceiling (clear)`` (the
    oracle's selection accuracy on them); the last row is ``all``.
    """
    tasks, accuracy = task_table(kb)
    queries = query_scale * (tasks["ways"] * tasks["queries"]).to_numpy(dtype=np.float64)
    families = np.asarray([str(key[0]) for key in accuracy.columns])
    expected = accuracy.to_numpy(dtype=np.float64)
    seed_noise = (
        None
        if residuals is None
        else SeedNoise.from_residuals(
            expected, tasks["modality"], tasks["shots"], accuracy.columns, residuals
        )
    )
    learner, family = oracle_regret(
        expected, queries, families, draws=draws, seed=seed, seed_noise=seed_noise
    )
    clear, right = oracle_selection(
        expected, queries, families, draws=draws, seed=seed, seed_noise=seed_noise
    )
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
