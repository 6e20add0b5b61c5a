"""The measurement-noise floor: closed forms where they exist, and its table on a KB."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest

from advisor.kb.noise import noise_floor, oracle_regret, oracle_selection


def test_learners_far_apart_cost_nothing() -> None:
    expected = np.array([[0.9, 0.1], [0.2, 0.8]])
    learner, family = oracle_regret(expected, np.array([1000.0, 1000.0]), np.array(["a", "b"]))
    assert learner == pytest.approx([0.0, 0.0], abs=1e-9)
    assert family == pytest.approx([0.0, 0.0], abs=1e-9)


def test_two_equal_learners_match_the_closed_form() -> None:
    # m1, m2 i.i.d. N(p, s²): E[max(m1, m2) − m1] = E[max(0, m2 − m1)] = s·√2/√(2π) = s/√π.
    n = 100.0
    s = math.sqrt(0.5 * 0.5 / n)
    learner, family = oracle_regret(
        np.array([[0.5, 0.5]]), np.array([n]), np.array(["a", "b"]), draws=40_000, seed=1
    )
    assert learner[0] == pytest.approx(s / math.sqrt(math.pi), rel=0.03)
    assert family[0] == pytest.approx(learner[0])


def test_a_family_floor_is_no_larger_than_its_learners_floor_when_variants_share_a_family() -> None:
    # Three equal variants of one family against a far worse family: every loss is within the
    # family, so the family floor is zero while the learner floor is not.
    expected = np.array([[0.7, 0.7, 0.7, 0.2]])
    learner, family = oracle_regret(
        expected, np.array([75.0]), np.array(["meta", "meta", "meta", "scratch"]), seed=2
    )
    assert learner[0] > 0.01
    assert family[0] == pytest.approx(0.0, abs=1e-9)


def test_a_learner_that_did_not_run_is_left_out() -> None:
    expected = np.array([[0.6, np.nan]])
    learner, family = oracle_regret(expected, np.array([50.0]), np.array(["a", "b"]))
    assert learner[0] == 0.0
    assert family[0] == 0.0


def test_selection_ceiling_of_two_families_matches_the_closed_form() -> None:
    # D = m1 − m2 ~ N(δ, s1² + s2²): clear when |D| > g, right when D > g.
    n, p1, p2, gap = 75.0, 0.8, 0.75, 0.02
    s = math.sqrt((p1 * (1 - p1) + p2 * (1 - p2)) / n)
    phi = NormalDist().cdf
    right = phi((p1 - p2 - gap) / s)
    clear = right + phi((p2 - p1 - gap) / s)
    got_clear, got_right = oracle_selection(
        np.array([[p1, p2]]), np.array([n]), np.array(["a", "b"]), draws=40_000, seed=3
    )
    assert got_clear[0] == pytest.approx(clear, abs=0.01)
    assert got_right[0] == pytest.approx(right, abs=0.01)
    assert got_right[0] / got_clear[0] < 0.85  # 5 points apart on 75 queries: the ceiling bites


def test_selection_is_sure_when_families_are_far_apart_and_never_clear_when_alone() -> None:
    expected = np.array([[0.9, 0.2, 0.1], [0.6, np.nan, np.nan]])
    clear, right = oracle_selection(expected, np.array([1000.0, 1000.0]), np.array(["a", "b", "b"]))
    assert clear.tolist() == [1.0, 0.0]
    assert right.tolist() == [1.0, 0.0]


def test_noise_floor_table_has_a_row_per_domain_and_overall() -> None:
    from tests.advisor.recommender.test_recommender import synthetic_kb

    kb = synthetic_kb(n_domains=3, tasks_per_domain=10, seed=4)
    table = noise_floor(kb, draws=50)
    assert list(table["domain"]) == ["d0", "d1", "d2", "all"]
    assert int(table.set_index("domain").loc["all", "tasks"]) == 30
    assert (table["floor"] >= 0).all()
    assert (table["family floor"] <= table["floor"] + 1e-9).all()
    ceiling = table["selection ceiling (clear)"].dropna()
    assert ((ceiling >= 0) & (ceiling <= 1)).all()
    assert ((table["clear"] >= 0) & (table["clear"] <= 1)).all()


def test_more_query_examples_lower_the_floor_and_raise_the_ceiling() -> None:
    from tests.advisor.recommender.test_recommender import synthetic_kb

    kb = synthetic_kb(n_domains=2, tasks_per_domain=20, seed=5)
    now, later = (noise_floor(kb, draws=100, query_scale=k).iloc[-1] for k in (1.0, 16.0))
    assert later["query examples"] == pytest.approx(16 * now["query examples"])
    assert later["floor"] < now["floor"]
    assert later["family floor"] <= now["family floor"]
