"""Few-shot tasks and class/domain splits: how benchmarks are cut out of a dataset.

An *N-way K-shot task* (Vinyals et al. 2016; Snell et al. 2017) draws ``N`` classes of a
dataset, then ``K`` *support* examples (to learn from) and ``Q`` *query* examples (to score on)
of each, all distinct. Class splits put whole classes on one side only — the source side
(what a backbone is pretrained or meta-trained on) or the held-out side (where tasks are drawn)
— so no class leaks from training into evaluation; domain splits do the same with whole
domains. Every draw takes a seed and is reproducible.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from advisor import errors
from advisor.datasets.dataset import Dataset, Modality
from advisor.errors import TaskError


@dataclass(frozen=True, eq=False)
class Task:
    """One few-shot task: support and query sets over ``ways`` classes.

    Labels are the dataset's original labels; ``classes`` lists the task's classes in episode
    order, and :meth:`episode_labels` turns labels into episode codes ``0..ways-1``.
    ``support_index`` and ``query_index`` are the rows of the source dataset.
    """

    X_support: np.ndarray
    y_support: np.ndarray
    X_query: np.ndarray
    y_query: np.ndarray
    classes: np.ndarray
    support_index: np.ndarray
    query_index: np.ndarray
    ways: int
    shots: int
    queries: int | None
    seed: int
    modality: Modality

    def episode_labels(self, labels: np.ndarray) -> np.ndarray:
        """Episode codes (position in :attr:`classes`) of original ``labels``."""
        order = np.argsort(self.classes)
        positions = np.searchsorted(self.classes[order], labels)
        return order[positions].astype(np.int64)


def sample_task(
    dataset: Dataset,
    *,
    ways: int = 5,
    shots: int = 5,
    queries: int | None = 15,
    seed: int = 0,
    classes: Sequence[Any] | None = None,
) -> Task:
    """Draw an N-way K-shot task with ``queries`` query examples per class.

    Args:
        dataset: the dataset to draw from.
        ways: number of classes ``N`` (≥ 2).
        shots: support examples per class ``K`` (≥ 1).
        queries: query examples per class ``Q`` (≥ 0), or ``None`` for all remaining examples
            of the drawn classes (at least one per class).
        seed: seed of the draw; the same seed on the same dataset gives the same task.
        classes: draw the ways among these classes only (default: all classes with enough
            examples).

    Raises:
        TaskError: ``task.bad_option``, ``task.too_many_ways``, ``task.not_enough_examples``.
    """
    _check_counts(ways=ways, shots=shots, queries=queries)
    pool = dataset.classes if classes is None else np.asarray(classes)
    unknown = np.setdiff1d(pool, dataset.classes)
    if unknown.size:
        raise TaskError(
            f"Classes {unknown[:10].tolist()} are not in the dataset.", code=errors.TASK_BAD_OPTION
        )
    if ways > pool.shape[0]:
        raise TaskError(
            f"A {ways}-way task needs {ways} classes; there are {pool.shape[0]}.",
            code=errors.TASK_TOO_MANY_WAYS,
            ways=ways,
            classes=int(pool.shape[0]),
        )
    needed = shots + (1 if queries is None else queries)
    counts = dict(zip(*np.unique(dataset.y, return_counts=True), strict=True))
    eligible = np.sort(np.array([c for c in pool if counts.get(c, 0) >= needed]))
    if eligible.shape[0] < ways:
        raise TaskError(
            f"Only {eligible.shape[0]} classes have the {needed} examples a {shots}-shot task "
            f"with {queries if queries is not None else 'at least 1'} queries needs; "
            f"{ways} are needed.",
            code=errors.TASK_NOT_ENOUGH_EXAMPLES,
            eligible=int(eligible.shape[0]),
            ways=ways,
            needed=needed,
        )
    rng = np.random.default_rng(seed)
    chosen = eligible[rng.choice(eligible.shape[0], size=ways, replace=False)]
    support, query = [], []
    for label in chosen:
        rows = rng.permutation(np.flatnonzero(dataset.y == label))
        support.append(rows[:shots])
        query.append(rows[shots:] if queries is None else rows[shots : shots + queries])
    support_index = np.concatenate(support)
    query_index = np.concatenate(query)
    return Task(
        X_support=dataset.X[support_index],
        y_support=dataset.y[support_index],
        X_query=dataset.X[query_index],
        y_query=dataset.y[query_index],
        classes=chosen,
        support_index=support_index,
        query_index=query_index,
        ways=ways,
        shots=shots,
        queries=queries,
        seed=seed,
        modality=dataset.modality,
    )


def _check_counts(*, ways: int, shots: int, queries: int | None) -> None:
    problems = []
    if ways < 2:
        problems.append(f"ways={ways} (at least 2)")
    if shots < 1:
        problems.append(f"shots={shots} (at least 1)")
    if queries is not None and queries < 0:
        problems.append(f"queries={queries} (at least 0)")
    if problems:
        raise TaskError(f"Invalid task: {', '.join(problems)}.", code=errors.TASK_BAD_OPTION)


@dataclass(frozen=True, eq=False)
class ClassSplit:
    """A split of a dataset's classes: ``source`` and ``heldout`` share no class."""

    source: Dataset
    heldout: Dataset
    source_classes: np.ndarray
    heldout_classes: np.ndarray


def split_classes(dataset: Dataset, *, heldout: float | int = 0.3, seed: int = 0) -> ClassSplit:
    """Split whole classes into a source part and a held-out part.

    Args:
        dataset: the dataset to split.
        heldout: the held-out share of classes (a float in (0, 1), rounded, at least one class
            on each side) or their number (an int).
        seed: seed of the random assignment.

    Raises:
        TaskError: ``task.bad_option`` when a side would be empty.
    """
    n_classes = dataset.n_classes
    n_heldout = _heldout_count(heldout, n_classes, what="classes")
    rng = np.random.default_rng(seed)
    order = rng.permutation(n_classes)
    heldout_classes = np.sort(dataset.classes[order[:n_heldout]])
    source_classes = np.sort(dataset.classes[order[n_heldout:]])
    name = dataset.info.name
    return ClassSplit(
        source=dataset.select_classes(source_classes, name=f"{name} (source classes)"),
        heldout=dataset.select_classes(heldout_classes, name=f"{name} (held-out classes)"),
        source_classes=source_classes,
        heldout_classes=heldout_classes,
    )


def split_domains(
    domains: Sequence[str], *, heldout: float | int = 0.3, seed: int = 0
) -> tuple[list[str], list[str]]:
    """Split domain names into ``(source_domains, heldout_domains)``, disjoint, order kept.

    ``heldout`` is a share in (0, 1) or a count, as in :func:`split_classes`.
    """
    names = list(dict.fromkeys(domains))
    n_heldout = _heldout_count(heldout, len(names), what="domains")
    chosen = set(np.random.default_rng(seed).permutation(len(names))[:n_heldout].tolist())
    source = [d for i, d in enumerate(names) if i not in chosen]
    held = [d for i, d in enumerate(names) if i in chosen]
    return source, held


def leave_one_domain_out(domains: Sequence[str]) -> Iterator[tuple[list[str], str]]:
    """Yield ``(training_domains, heldout_domain)`` once per domain, in order."""
    names = list(dict.fromkeys(domains))
    for held in names:
        yield [d for d in names if d != held], held


def _heldout_count(heldout: float | int, total: int, *, what: str) -> int:
    if isinstance(heldout, bool):
        raise TaskError(f"heldout must be a number, got {heldout!r}.", code=errors.TASK_BAD_OPTION)
    if isinstance(heldout, int):
        count = heldout
    elif 0.0 < heldout < 1.0:
        count = min(max(round(heldout * total), 1), total - 1)
    else:
        raise TaskError(
            f"heldout={heldout} must be a share in (0, 1) or a count of {what}.",
            code=errors.TASK_BAD_OPTION,
        )
    if not 1 <= count <= total - 1:
        raise TaskError(
            f"Holding out {count} of {total} {what} leaves a side empty; need 2 or more {what} "
            "and at least one on each side.",
            code=errors.TASK_BAD_OPTION,
            total=total,
            heldout=count,
        )
    return count
