"""The test score's interval: Wilson's for accuracy, the posterior's for balanced accuracy."""

from __future__ import annotations

import math

import numpy as np
import pytest

from advisor.scores import (
    balanced_accuracy_interval,
    calibration,
    held_out_recalls,
    score_interval,
    wilson_interval,
)


def test_wilson_matches_its_published_values() -> None:
    # Newcombe (Statistics in Medicine 17, 1998), table I: 81/263 → 0.2553–0.3662 at 95 %;
    # 15/148 → 0.0624–0.1605.
    assert wilson_interval(81, 263) == pytest.approx((0.2553, 0.3662), abs=5e-5)
    assert wilson_interval(15, 148) == pytest.approx((0.0624, 0.1605), abs=5e-5)


def test_wilson_stays_within_zero_and_one_and_widens_for_fewer_rows() -> None:
    low, high = wilson_interval(20, 20)
    assert high == pytest.approx(1.0) and 0.8 < low < 0.9  # all right: still not certain
    assert wilson_interval(0, 5)[0] == pytest.approx(0.0)
    few, many = wilson_interval(18, 20), wilson_interval(900, 1000)
    assert few[1] - few[0] > 3 * (many[1] - many[0])
    assert all(math.isnan(bound) for bound in wilson_interval(0, 0))


def test_wilson_covers_about_its_level() -> None:
    rng = np.random.default_rng(0)
    truth, n = 0.85, 40
    hits = rng.binomial(n, truth, size=4000)
    covered = [low <= truth <= high for low, high in (wilson_interval(int(k), n) for k in hits)]
    assert 0.93 <= np.mean(covered) <= 0.97


def test_balanced_interval_is_the_mean_of_the_class_posteriors() -> None:
    truth = np.array([0] * 200 + [1] * 10)
    right = np.concatenate([np.ones(200, dtype=bool), np.zeros(10, dtype=bool)])
    low, high = balanced_accuracy_interval(right, truth)
    # recall 1 on 200 rows (posterior mean 201/202) and 0 on 10 (mean 1/12): about 0.54
    assert low < (201 / 202 + 1 / 12) / 2 < high
    assert high < 0.7  # far below the 95 % accuracy that the common class alone gives
    again = balanced_accuracy_interval(right, truth)
    assert again == (low, high)  # seeded


def test_balanced_interval_covers_about_its_level() -> None:
    rng = np.random.default_rng(1)
    recalls, sizes = np.array([0.9, 0.6]), np.array([60, 12])
    covered = []
    for draw in range(300):
        truth = np.repeat([0, 1], sizes)
        right = rng.random(truth.size) < recalls[truth]
        low, high = balanced_accuracy_interval(right, truth, draws=4000, seed=draw)
        covered.append(low <= recalls.mean() <= high)
    assert 0.9 <= np.mean(covered) <= 0.99


def test_score_interval_picks_the_metrics_interval() -> None:
    truth = np.array(["a"] * 30 + ["b"] * 6)
    right = np.ones(36, dtype=bool)
    right[30:33] = False
    assert score_interval(right, truth, "accuracy") == wilson_interval(33, 36)
    assert score_interval(right, truth, "balanced_accuracy") == balanced_accuracy_interval(
        right, truth
    )


def test_held_out_recalls_count_each_class_held_out_answers() -> None:
    y = np.array(["a", "b", "a", "b", "a", "c"])
    answers = "1011-0"  # a: right, right, -… ; the 5th was never held out
    recalls = held_out_recalls(answers, y)
    assert [(c.label, c.held_out, c.right) for c in recalls] == [
        ("a", 2, 2),
        ("b", 2, 1),
        ("c", 1, 0),
    ]
    assert recalls[1].recall == pytest.approx(0.5)
    assert held_out_recalls("------", y) == []  # 1-shot: validated on copies only
    assert held_out_recalls("101", y) == []  # answers of other data


def test_calibration_is_the_binned_gap_between_probability_and_share_right() -> None:
    confidence = np.array([0.95, 0.95, 0.55, 0.65, 0.62])
    right = np.array([True, False, True, True, False])
    found = calibration(confidence, right)
    assert found is not None
    assert [(b.low, b.rows) for b in found.bins] == [(0.5, 1), pytest.approx((0.6, 2)), (0.9, 2)]
    # bins: {0.55 → right}, {0.65, 0.62 → half right}, {0.95 ×2 → half right}
    expected = (1 * abs(1 - 0.55) + 2 * abs(0.5 - 0.635) + 2 * abs(0.5 - 0.95)) / 5
    assert found.ece == pytest.approx(expected)
    assert calibration(np.array([]), np.array([], dtype=bool)) is None


def test_calibrated_probabilities_score_near_zero_and_overconfident_ones_do_not() -> None:
    rng = np.random.default_rng(5)
    p = rng.uniform(0.3, 1.0, size=20_000)
    honest = calibration(p, rng.random(p.size) < p)
    assert honest is not None and honest.ece < 0.02
    assert sum(b.rows for b in honest.bins) == p.size
    overconfident = calibration(np.full(1000, 0.99), rng.random(1000) < 0.7)
    assert overconfident is not None and overconfident.ece == pytest.approx(0.29, abs=0.04)
