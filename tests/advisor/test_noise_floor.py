"""The measurement-noise floor: closed forms where they exist, and its table on a KB."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

from advisor.kb.noise import (
    SeedNoise,
    noise_floor,
    oracle_regret,
    oracle_selection,
    paired_bootstrap,
    replicate_regret,
    seed_residuals,
    shot_band,
)

pytestmark = pytest.mark.usefixtures("quick_boosting")  # tests/conftest.py says why


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


def test_two_equal_learners_with_their_own_randomness_match_the_closed_form() -> None:
    # No query noise to speak of; each learner's own noise is ±σ, σ = z·√(p(1 − p)) = 0.5·z:
    # E[max(0, η2 − η1)] = P(η2 − η1 = 2σ)·2σ = 2σ/4 = σ/2.
    z = 0.06
    noise = SeedNoise(
        scale=np.full((1, 2), 0.5), pools=(np.array([z]),), pool=np.zeros((1, 2), int)
    )
    learner, _ = oracle_regret(
        np.array([[0.5, 0.5]]),
        np.array([1e12]),
        np.array(["a", "b"]),
        draws=40_000,
        seed=3,
        seed_noise=noise,
    )
    assert learner[0] == pytest.approx(0.5 * z / 2, rel=0.03)
    none = SeedNoise(scale=np.full((1, 2), 0.5), pools=(np.array([z]),), pool=np.full((1, 2), -1))
    learner, _ = oracle_regret(
        np.array([[0.5, 0.5]]), np.array([1e12]), np.array(["a", "b"]), seed=3, seed_noise=none
    )
    assert learner[0] == pytest.approx(0.0, abs=1e-5)


def test_seed_residuals_recover_a_known_spread_on_the_binomial_scale() -> None:
    rng = np.random.default_rng(0)
    mean = rng.uniform(0.5, 0.9, size=(4000, 1))
    columns = pd.MultiIndex.from_tuples([("transfer", "finetune"), ("meta", "protonet")])
    c = np.array([0.08, 0.0])  # a seeded fine-tune against a deterministic ProtoNet
    sd = c * np.sqrt(mean * (1 - mean))
    first = pd.DataFrame(mean + sd * rng.standard_normal((4000, 2)), columns=columns)
    second = pd.DataFrame(mean + sd * rng.standard_normal((4000, 2)), columns=columns)
    second.iloc[0, 0] = np.nan  # a failed run is left out, not propagated
    first.iloc[1, 0] = second.iloc[1, 0] = 1.0  # exact in both runs: no information, left out
    z = seed_residuals(first, second)
    assert z[("transfer", "finetune")].size == 3998
    assert np.sqrt(np.mean(z[("transfer", "finetune")] ** 2)) == pytest.approx(0.08, rel=0.05)
    assert not np.any(z[("meta", "protonet")])


def test_replicate_regret_scores_each_run_by_the_other() -> None:
    columns = pd.MultiIndex.from_tuples(
        [("transfer", "finetune"), ("transfer", "linear_probe"), ("meta", "protonet")]
    )
    # Task 1: transfer best in both runs. Task 2: meta best in the first run (0.80 against
    # 0.78), transfer in the second (0.90 against 0.70): 20 points one way, 2 the other.
    first = pd.DataFrame([[0.9, 0.5, 0.6], [0.78, 0.1, 0.80]], columns=columns)
    second = pd.DataFrame([[0.5, 0.95, 0.6], [0.90, 0.1, 0.70]], columns=columns)
    same, regret = replicate_regret(first, second)
    assert same == 0.5
    assert regret == pytest.approx((0 + 20 + 2) / 2 / 2)


def test_the_learners_randomness_raises_the_floor_of_the_kind_it_names_only() -> None:
    from tests.advisor.recommender.test_recommender import synthetic_kb

    kb = synthetic_kb(n_domains=2, tasks_per_domain=20, seed=6).assign(modality="vector")
    keys = kb[["family", "variant"]].drop_duplicates().itertuples(index=False)
    pool = np.array([-0.3, 0.0, 0.0, 0.3])  # most seeds change nothing, some change much
    noisy = {("vector", band, f, v): pool for f, v in keys for band in ("1-2", "3-14", "15+")}
    plain = noise_floor(kb, draws=200).iloc[-1]
    more = noise_floor(kb, draws=200, residuals=noisy).iloc[-1]
    elsewhere = noise_floor(kb, draws=200, residuals={("image", *k[1:]): pool for k in noisy})
    one_band = noise_floor(
        kb, draws=200, residuals={k: v for k, v in noisy.items() if k[1] == "15+"}
    ).iloc[-1]
    assert plain["floor"] < one_band["floor"] < more["floor"]  # only the tasks of 15+ shots
    assert more["floor"] > plain["floor"] + 0.5  # points
    assert more["family floor"] > plain["family floor"]
    assert elsewhere.iloc[-1]["floor"] == pytest.approx(plain["floor"])


def test_shot_bands() -> None:
    assert [shot_band(s) for s in (1, 2, 5, 10, 20, 50)] == [
        "1-2",
        "1-2",
        "3-14",
        "3-14",
        "15+",
        "15+",
    ]


def test_the_paired_bootstrap_keeps_shared_errors_shared() -> None:
    rng = np.random.default_rng(0)
    answers = rng.random(400) < 0.7
    same = np.stack([answers, answers])  # two learners that answer alike, in both runs
    learner, family, _, _ = paired_bootstrap(same, same, np.array(["a", "b"]), draws=200)
    assert learner == 0.0 and family == 0.0  # the independent simulation would say > 0
    expected = np.array([[answers.mean(), answers.mean()]])
    independent, _ = oracle_regret(expected, np.array([400.0]), np.array(["a", "b"]), seed=0)
    assert independent[0] > 0.005


def test_the_paired_bootstrap_matches_the_closed_form_for_independent_learners() -> None:
    # Two learners right on independent halves of 2,000 queries: their difference's standard
    # deviation is √(2 · 0.25 / n), and E[max(0, D)] = s/√π with s = √(0.25 / n).
    rng = np.random.default_rng(1)
    n = 2000
    answers = np.stack([rng.random(n) < 0.5, rng.random(n) < 0.5])
    learner, _, _, _ = paired_bootstrap(answers, answers, np.array(["a", "b"]), draws=3000)
    gap = abs(answers[0].mean() - answers[1].mean())  # the oracle's pick is this far ahead
    s = math.sqrt(0.25 / n)
    assert learner == pytest.approx(
        s
        * math.sqrt(2)
        * (
            NormalDist().pdf(gap / (s * math.sqrt(2)))
            - gap / (s * math.sqrt(2)) * (1 - NormalDist().cdf(gap / (s * math.sqrt(2))))
        ),
        rel=0.15,
    )


def test_the_paired_bootstrap_prices_the_seed_and_says_when_it_is_clear() -> None:
    rng = np.random.default_rng(2)
    right = rng.random(300) < 0.9
    wrong = np.zeros(300, bool)
    far = paired_bootstrap(np.stack([right, wrong]), np.stack([right, wrong]), np.array(["a", "b"]))
    assert far == (0.0, 0.0, 1.0, 1.0)  # far apart: no regret, always clear and right
    # A learner whose seed decides everything (all right in one run, all wrong in the other)
    # against a steady one at 50 %: its runs average 50 %, and every draw moves it far.
    half = np.arange(300) % 2 == 0
    first = np.stack([np.ones(300, bool), half])
    second = np.stack([np.zeros(300, bool), half])
    learner, _, _, _ = paired_bootstrap(first, second, np.array(["a", "b"]), draws=400)
    assert learner > 0.1
