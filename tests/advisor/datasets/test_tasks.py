"""Properties of the few-shot task sampler and of class/domain splits (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from advisor.datasets import (
    Dataset,
    leave_one_domain_out,
    make_dataset,
    sample_task,
    split_classes,
    split_domains,
)
from advisor.errors import TaskError


def _dataset(counts: list[int]) -> Dataset:
    y = np.repeat([f"c{i:02d}" for i in range(len(counts))], counts)
    X = np.arange(y.shape[0], dtype=float).reshape(-1, 1)  # row i holds the value i
    return make_dataset(X, y)


class_counts = st.lists(st.integers(min_value=2, max_value=12), min_size=2, max_size=12)


@settings(max_examples=150, deadline=None)
@given(
    counts=class_counts,
    ways=st.integers(2, 8),
    shots=st.integers(1, 6),
    queries=st.one_of(st.none(), st.integers(0, 6)),
    seed=st.integers(0, 2**32 - 1),
)
def test_task_has_exact_ways_and_shots_and_disjoint_sets(
    counts: list[int], ways: int, shots: int, queries: int | None, seed: int
) -> None:
    ds = _dataset(counts)
    needed = shots + (1 if queries is None else queries)
    eligible = sum(c >= needed for c in counts)
    if ways > len(counts) or eligible < ways:
        with pytest.raises(TaskError) as caught:
            sample_task(ds, ways=ways, shots=shots, queries=queries, seed=seed)
        expected = "task.too_many_ways" if ways > len(counts) else "task.not_enough_examples"
        assert caught.value.code == expected
        return
    task = sample_task(ds, ways=ways, shots=shots, queries=queries, seed=seed)
    # exact ways, distinct classes
    assert len(set(task.classes.tolist())) == ways
    assert set(task.y_support.tolist()) == set(task.classes.tolist())
    # exact shots per class, exact (or "all remaining") queries per class
    support_labels, support_counts = np.unique(task.y_support, return_counts=True)
    assert (support_counts == shots).all() and len(support_labels) == ways
    for label in task.classes:
        n_query = int((task.y_query == label).sum())
        total = int((ds.y == label).sum())
        assert n_query == (total - shots if queries is None else queries)
    # support and query are disjoint rows of the dataset, and the arrays match the rows
    assert not set(task.support_index.tolist()) & set(task.query_index.tolist())
    assert len(set(task.support_index.tolist())) == task.support_index.size
    assert (task.X_support[:, 0] == task.support_index).all()
    assert (task.y_query == ds.y[task.query_index]).all()
    assert (task.classes[task.episode_labels(task.y_support)] == task.y_support).all()


@settings(max_examples=50, deadline=None)
@given(counts=class_counts, seed=st.integers(0, 1000))
def test_same_seed_same_task(counts: list[int], seed: int) -> None:
    ds = _dataset(counts)
    first = sample_task(ds, ways=2, shots=1, queries=1, seed=seed)
    second = sample_task(ds, ways=2, shots=1, queries=1, seed=seed)
    assert (first.support_index == second.support_index).all()
    assert (first.query_index == second.query_index).all()


@settings(max_examples=100, deadline=None)
@given(
    counts=class_counts,
    heldout=st.one_of(st.floats(0.01, 0.99), st.integers(-1, 14)),
    seed=st.integers(0, 1000),
)
def test_class_split_never_leaks_a_class(counts: list[int], heldout: float, seed: int) -> None:
    ds = _dataset(counts)
    n = len(counts)
    if isinstance(heldout, int) and not 1 <= heldout <= n - 1:
        with pytest.raises(TaskError) as caught:
            split_classes(ds, heldout=heldout, seed=seed)
        assert caught.value.code == "task.bad_option"
        return
    split = split_classes(ds, heldout=heldout, seed=seed)
    source, held = set(split.source_classes.tolist()), set(split.heldout_classes.tolist())
    assert source and held and not source & held
    assert source | held == set(ds.classes.tolist())
    assert set(split.source.y.tolist()) == source and set(split.heldout.y.tolist()) == held
    assert len(split.source) + len(split.heldout) == len(ds)
    # a task drawn from the held-out side only ever sees held-out classes
    if len(held) >= 2:
        task = sample_task(split.heldout, ways=2, shots=1, queries=1, seed=seed)
        assert set(task.classes.tolist()) <= held


@settings(max_examples=60, deadline=None)
@given(
    names=st.lists(st.sampled_from("abcdefghij"), min_size=2, max_size=10, unique=True),
    seed=st.integers(0, 1000),
)
def test_domain_splits_are_disjoint_and_complete(names: list[str], seed: int) -> None:
    source, held = split_domains(names, heldout=0.3, seed=seed)
    assert source and held and not set(source) & set(held)
    assert sorted(source + held) == sorted(names)
    folds = list(leave_one_domain_out(names))
    assert [h for _, h in folds] == names
    assert all(h not in train and len(train) == len(names) - 1 for train, h in folds)


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"ways": 1}, "task.bad_option"),
        ({"shots": 0}, "task.bad_option"),
        ({"queries": -1}, "task.bad_option"),
        ({"classes": ["nope"]}, "task.bad_option"),
        ({"ways": 4}, "task.too_many_ways"),
        ({"ways": 2, "shots": 5, "queries": 5}, "task.not_enough_examples"),
    ],
)
def test_invalid_task_requests(kwargs: dict, code: str) -> None:
    with pytest.raises(TaskError) as caught:
        sample_task(_dataset([3, 3, 3]), **kwargs)
    assert caught.value.code == code


def test_restricting_classes() -> None:
    ds = _dataset([4, 4, 4, 4])
    task = sample_task(ds, ways=2, shots=1, queries=2, classes=["c01", "c03"], seed=1)
    assert sorted(task.classes.tolist()) == ["c01", "c03"]
