"""The learning curve of a run: subsets, the power law, the gain of twice the data, the output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.datasets import make_classification

from advisor import Advisor
from advisor.cli import cli
from advisor.core import load_run
from advisor.learning_curve import (
    doubling_gain,
    kept_rows,
    learning_curve,
    more_data_phrase,
    power_law,
    with_gain,
)
from advisor.reports.parts import Report
from advisor.reports.render import to_markdown
from advisor.reports.run_sections import run_sections
from advisor.schemas import CurvePoint, LearningCurve
from learners import learner_class
from learners.tensors import InputSpec
from learners.tuning import validation_splits


def curve_of(per_class: list[float], folds: list[list[float]], now: float) -> LearningCurve:
    points = [
        CurvePoint(share=(i + 1) / len(per_class), per_class=n, score=float(np.mean(f)), folds=f)
        for i, (n, f) in enumerate(zip(per_class, folds, strict=True))
    ]
    return LearningCurve(metric="accuracy", points=points, per_class=now)


def test_each_share_keeps_a_nested_stratified_subset_with_every_class() -> None:
    codes = np.repeat([0, 1, 2], [8, 4, 1])
    train = np.arange(codes.size)
    previous: set[int] = set()
    for share, expected in [(0.25, [2, 1, 1]), (0.5, [4, 2, 1]), (1.0, [8, 4, 1])]:
        kept = kept_rows(train, codes, share, seed=3)
        assert np.bincount(codes[kept], minlength=3).tolist() == expected
        assert previous <= set(kept.tolist())
        previous = set(kept.tolist())


def test_the_power_law_is_recovered_from_its_own_points() -> None:
    n = np.array([2.0, 4.0, 8.0, 16.0])
    b, c = power_law(n, 0.6 * n**-0.5)  # type: ignore[misc]
    assert b == pytest.approx(0.6) and c == pytest.approx(0.5)
    assert power_law(n, np.array([0.0, 0.0, 0.0, 0.1])) is None  # one point with errors left


def test_twice_the_data_removes_a_share_of_the_error() -> None:
    assert doubling_gain(0.5, 1.0, 10.0) == pytest.approx(0.05 - 0.025)
    assert doubling_gain(0.5, 0.5, 4.0) == pytest.approx(0.25 * (1 - 2**-0.5))
    assert doubling_gain(5.0, 1.0, 2.0) == pytest.approx(1.0 - 1.0)  # errors capped at 1
    assert doubling_gain(0.5, -0.2, 10.0) == 0.0


def test_a_growing_curve_gives_a_gain_inside_its_range() -> None:
    folds = [[0.70, 0.80, 0.75], [0.82, 0.86, 0.84], [0.88, 0.90, 0.89]]
    curve = with_gain(curve_of([2, 4, 8], folds, now=10))
    assert curve.exponent is not None and curve.exponent > 0
    assert curve.gain is not None and 0 < curve.gain < 0.11  # the error left is 0.11
    b, c = power_law(np.array([2.0, 4.0, 8.0]), np.array([0.25, 0.16, 0.11]))  # type: ignore[misc]
    assert curve.exponent == pytest.approx(c)
    assert curve.gain == pytest.approx(b * 10**-c - b * 20**-c)
    assert curve.note == ""
    assert "would add about" in more_data_phrase(curve) and "(10 → 20)" in more_data_phrase(curve)


@pytest.mark.parametrize(
    ("per_class", "folds", "said"),
    [
        ([4], [[0.8, 0.9]], "too few examples"),
        ([2, 4], [[1.0, 1.0], [1.0, 1.0]], "No errors left"),
        ([2, 4, 8], [[0.9, 0.9], [0.85, 0.87], [0.8, 0.84]], "did not grow"),
    ],
)
def test_no_gain_is_made_up_where_the_curve_cannot_give_one(
    per_class: list[float], folds: list[list[float]], said: str
) -> None:
    curve = with_gain(curve_of(per_class, folds, now=10))
    assert curve.gain in (None, 0.0) and said in curve.note
    assert said in more_data_phrase(curve)


def test_a_learnable_task_rises_with_its_data() -> None:
    X, y = make_classification(n_samples=200, n_features=10, n_informative=6, random_state=0)
    splits = validation_splits(X, y, InputSpec.from_data(X), seed=0)
    curve = learning_curve(lambda: learner_class("scratch", "logreg")(random_state=0), X, y, splits)
    assert [p.share for p in curve.points] == [0.25, 0.5, 0.75, 1.0]
    assert [round(p.per_class) for p in curve.points] == [20, 40, 60, 80]
    assert all(len(p.folds) == 5 for p in curve.points)
    assert curve.points[-1].score > curve.points[0].score
    assert curve.per_class == 100 and curve.gain is not None and curve.gain >= 0


def test_shares_that_keep_the_same_examples_are_measured_once() -> None:
    X, y = make_classification(n_samples=8, n_features=4, random_state=0)
    y = np.repeat([0, 1], 4)
    splits = validation_splits(X, y, InputSpec.from_data(X), seed=0)  # 4 folds of 3 per class
    curve = learning_curve(lambda: learner_class("scratch", "logreg")(random_state=0), X, y, splits)
    assert [round(p.per_class) for p in curve.points] == [1, 2, 3]


def test_a_run_keeps_its_curve_and_reports_it(own_home: Path, tmp_path: Path) -> None:
    X, y = make_classification(n_samples=80, n_features=6, random_state=1)
    result = Advisor().run(X, y, family="scratch", n_trials=2, learning_curve=True)
    curve = result.learning_curve
    assert curve is not None and len(curve.points) == 4
    assert curve.points[-1].score == pytest.approx(result.cv_score)  # the study's own folds
    assert load_run(result.run_id).learning_curve == curve
    text = to_markdown(Report("r", run_sections(result), {}), tmp_path)
    assert "## Would more data help?" in text and "| 100 % | 32 |" in text
    assert Advisor().run(X, y, family="scratch", n_trials=1).learning_curve is None


def test_the_command_line_says_what_more_data_would_do(own_home: Path, tmp_path: Path) -> None:
    X, y = make_classification(n_samples=80, n_features=4, random_state=2)
    table = tmp_path / "t.csv"
    rows = [
        ",".join(f"{v:.5f}" for v in row) + f",c{label}" for row, label in zip(X, y, strict=True)
    ]
    table.write_text("a,b,c,d,label\n" + "\n".join(rows) + "\n")
    args = ["run", str(table), "--family", "scratch", "--trials", "2", "--learning-curve"]
    answer = CliRunner().invoke(cli, args)
    assert answer.exit_code == 0, answer.output
    line = next(x for x in answer.output.splitlines() if x.startswith("More data"))
    assert "examples per class" in line and "at 32 examples" in line
