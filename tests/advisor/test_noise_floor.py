"""The measurement-noise floor: closed forms where they exist, and its table on a KB."""

from __future__ import annotations

import math

import numpy as np
import pytest

from advisor.kb.noise import noise_floor, oracle_regret


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


def test_noise_floor_table_has_a_row_per_domain_and_overall() -> None:
    from tests.advisor.recommender.test_recommender import synthetic_kb

    kb = synthetic_kb(n_domains=3, tasks_per_domain=10, seed=4)
    table = noise_floor(kb, draws=50)
    assert list(table["domain"]) == ["d0", "d1", "d2", "all"]
    assert int(table.set_index("domain").loc["all", "tasks"]) == 30
    assert (table["floor"] >= 0).all()
    assert (table["family floor"] <= table["floor"] + 1e-9).all()
