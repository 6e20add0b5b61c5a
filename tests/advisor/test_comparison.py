"""Two runs on the same labeled rows: the paired tests and ``advisor compare``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from scipy.stats import binomtest

from advisor.cli import cli
from advisor.comparison import (
    ROWS_DIFFER,
    compare_predictions,
    mcnemar_exact,
    sign_flip_p,
)
from advisor.errors import InvalidInputError


@pytest.mark.parametrize(("only_a", "only_b"), [(10, 1), (4, 1), (7, 7), (0, 3), (25, 12)])
def test_mcnemars_exact_test_is_the_binomial_test_of_the_discordant_rows(
    only_a: int, only_b: int
) -> None:
    expected = binomtest(only_a, only_a + only_b, 0.5).pvalue
    assert mcnemar_exact(only_a, only_b) == pytest.approx(expected)
    assert mcnemar_exact(0, 0) == 1.0


def test_with_equal_weights_the_sign_flip_test_is_mcnemars() -> None:
    for only_a, only_b in ((6, 1), (3, 3), (9, 2)):
        d = np.array([1.0] * only_a + [-1.0] * only_b) / 50
        assert sign_flip_p(d) == pytest.approx(mcnemar_exact(only_a, only_b))
    many = np.array([1.0] * 30 + [-1.0] * 10)  # past the exact limit: Monte Carlo
    assert sign_flip_p(many) == pytest.approx(mcnemar_exact(30, 10), abs=0.003)
    assert sign_flip_p(np.array([])) == 1.0


def test_balanced_accuracy_weighs_a_rare_class_row_more() -> None:
    truth = np.array(["common"] * 200 + ["rare"] * 5)
    a = truth.copy()
    b = truth.copy()
    a[:10] = "rare"  # A misses 10 common rows
    b[200] = "common"  # B misses one rare row
    for_accuracy = compare_predictions(truth, a, b, "accuracy")
    assert for_accuracy.difference == pytest.approx(-9 / 205)
    assert (for_accuracy.only_a, for_accuracy.only_b) == (1, 10)
    assert for_accuracy.p_value < 0.05 and for_accuracy.verdict.startswith("B is better")
    balanced = compare_predictions(truth, a, b, "balanced_accuracy")
    assert balanced.difference == pytest.approx((190 / 200 + 1) / 2 - (1 + 4 / 5) / 2)
    assert balanced.difference > 0 and balanced.p_value > 0.05  # one rare row weighs 20 common
    assert "could well be chance" in balanced.verdict
    same = compare_predictions(truth, a, a)
    assert same.p_value == 1.0 and same.verdict == "the two models answered every row alike"


def test_rows_that_do_not_line_up_are_refused() -> None:
    with pytest.raises(InvalidInputError) as caught:
        compare_predictions(["a", "b"], ["a", "b"], ["a"])
    assert caught.value.code == ROWS_DIFFER


def _table(path: Path, n: int, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    kind = np.where(X[:, 0] + 0.5 * rng.normal(size=n) > 0, "up", "down")
    rows = ["x1,x2,x3,kind"] + [
        f"{a:.4f},{b:.4f},{c:.4f},{k}" for (a, b, c), k in zip(X, kind, strict=True)
    ]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_the_command_compares_two_runs_on_a_labeled_file(own_home: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    train, test = _table(tmp_path / "train.csv", 60, 0), _table(tmp_path / "test.csv", 80, 1)
    ids = []
    for metric in ("accuracy", "balanced_accuracy"):
        ran = runner.invoke(
            cli,
            [
                *("run", str(train), "--label", "kind", "--family", "scratch", "--trials", "2"),
                *("--metric", metric, "--json"),
            ],
        )
        assert ran.exit_code == 0, ran.output
        ids.append(json.loads(ran.output)["run_id"])
    answer = runner.invoke(cli, ["compare", *ids, str(test), "--label", "kind", "--json"])
    assert answer.exit_code == 0, answer.output
    found = json.loads(answer.output)
    assert found["rows"] == 80 and found["metric"] == "accuracy"  # RUN_A's metric
    assert found["difference"] == pytest.approx(found["score_a"] - found["score_b"])
    assert 0.0 < found["p_value"] <= 1.0 and found["verdict"]
    text = runner.invoke(cli, ["compare", *ids, str(test), "--label", "kind"])
    assert "Difference" in text.output and "McNemar's exact test" in text.output
    unlabeled = runner.invoke(cli, ["compare", *ids, str(test)])
    assert unlabeled.exit_code != 0 and "compare.unlabeled" in unlabeled.output
