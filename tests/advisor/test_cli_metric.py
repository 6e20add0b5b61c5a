"""``advisor run --metric balanced_accuracy``: the JSON summary, the text output, the runs
list, an unknown metric refused, and the recommendation's risk for imbalanced classes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.metrics import balanced_accuracy_score

from advisor.cli import cli

IMBALANCED = "The classes are imbalanced"


def write_csv(path: Path, counts: dict[str, int], seed: int, shift: float = 1.0) -> Path:
    """Three numeric columns and a ``kind`` label; the second class is shifted by ``shift``
    standard deviations: learnable, with a few mistakes."""
    rng = np.random.default_rng(seed)
    rows = ["x1,x2,x3,kind"]
    for position, (kind, count) in enumerate(counts.items()):
        for values in rng.normal(position * shift, 1.0, size=(count, 3)):
            rows.append(",".join(f"{v:.4f}" for v in values) + f",{kind}")
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def train(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "train.csv", {"a": 40, "b": 8}, seed=1)


@pytest.fixture
def test_file(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "test.csv", {"a": 20, "b": 6}, seed=2)


def run_args(train: Path, *extra: str) -> list[str]:
    return ["run", str(train), "--label", "kind", "--family", "scratch", "--trials", "3", *extra]


def test_json_summary_scores_the_test_set_by_balanced_accuracy(
    runner: CliRunner, own_home: Path, train: Path, test_file: Path
) -> None:
    args = run_args(train, "--metric", "balanced_accuracy", "--test", str(test_file), "--json")
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)  # nothing but JSON
    assert summary["metric"] == "balanced_accuracy"
    assert summary["class_prior"] in ("training", "equal")
    assert 0.0 <= summary["cv_score"] <= 1.0
    confusion = np.asarray(summary["confusion"], dtype=float)  # rows: truth; columns: predicted
    assert summary["labels"] == ["a", "b"] and confusion.sum() == 26
    recalls = np.diag(confusion) / confusion.sum(axis=1)
    assert summary["test_score"] == pytest.approx(float(recalls.mean()), abs=1e-9)
    truth = np.repeat(np.arange(2), confusion.sum(axis=1).astype(int))
    predicted = np.concatenate([np.repeat(np.arange(2), row.astype(int)) for row in confusion])
    assert summary["test_score"] == pytest.approx(balanced_accuracy_score(truth, predicted), 1e-9)
    accuracy = np.trace(confusion) / confusion.sum()
    assert summary["test_score"] != pytest.approx(accuracy)  # the data makes the two differ
    saved = json.loads((own_home / "runs" / summary["run_id"] / "run.json").read_text())
    assert saved["metric"] == "balanced_accuracy" and saved["class_prior"] == summary["class_prior"]


def test_text_output_and_runs_list_name_balanced_accuracy(
    runner: CliRunner, own_home: Path, train: Path
) -> None:
    result = runner.invoke(cli, run_args(train, "--metric", "balanced_accuracy"))
    assert result.exit_code == 0, result.output
    assert "CV balanced " in result.output and "CV accuracy" not in result.output
    recall_line = next(line for line in result.output.splitlines() if line.startswith("CV recall"))
    assert recall_line.split()[2] == "a" and recall_line.split()[5] == "b"  # CV recall  a N %, b
    assert "balanced accuracy: the mean of the classes' recalls" in result.output
    lines = result.output.splitlines()
    run_id = next(line.split()[1].rstrip(":") for line in lines if line.startswith("Run "))
    summary = json.loads((own_home / "runs" / run_id / "run.json").read_text())
    shows_priors = any(line.startswith("Priors       equal") for line in lines)
    assert shows_priors == (summary["class_prior"] == "equal")
    plain = runner.invoke(cli, run_args(train))
    assert plain.exit_code == 0, plain.output
    assert "CV accuracy " in plain.output and "CV balanced" not in plain.output
    assert "Priors" not in plain.output
    listed = runner.invoke(cli, ["runs", "list"])
    assert listed.exit_code == 0, listed.output
    assert "metric" in listed.output.splitlines()[0]
    row = next(line for line in listed.output.splitlines() if line.startswith(run_id))
    assert row.rstrip().endswith("balanced accuracy")
    assert sum("balanced accuracy" in line for line in listed.output.splitlines()) == 1
    as_json = json.loads(runner.invoke(cli, ["runs", "list", "--json"]).output)
    assert sorted(r["metric"] for r in as_json) == ["accuracy", "balanced_accuracy"]


def test_an_unknown_metric_is_a_usage_error(runner: CliRunner, own_home: Path, train: Path) -> None:
    result = runner.invoke(cli, run_args(train, "--metric", "f1"))
    assert result.exit_code == 2
    assert "'f1' is not one of" in result.output and "balanced_accuracy" in result.output
    assert not (own_home / "runs").exists()


def test_the_recommendation_names_imbalanced_classes(
    runner: CliRunner, own_home: Path, train: Path, tmp_path: Path
) -> None:
    def risks(path: Path) -> list[str]:
        result = runner.invoke(cli, ["recommend", str(path), "--label", "kind", "--json"])
        assert result.exit_code == 0, result.output
        found: list[str] = json.loads(result.output)["explanation"]["risks"]
        return found

    imbalanced = [r for r in risks(train) if r.startswith(IMBALANCED)]
    assert len(imbalanced) == 1 and "5.0 times" in imbalanced[0], imbalanced
    assert "--metric balanced_accuracy" in imbalanced[0]
    balanced = write_csv(tmp_path / "balanced.csv", {"a": 20, "b": 20}, seed=3)
    assert not [r for r in risks(balanced) if r.startswith(IMBALANCED)]


def test_a_continued_study_keeps_its_metric(runner: CliRunner, own_home: Path, train: Path) -> None:
    first = runner.invoke(
        cli, run_args(train, "--metric", "balanced_accuracy", "--study", "s1", "--json")
    )
    assert first.exit_code == 0, first.output
    args = ["run", str(train), "--label", "kind", "--family", "scratch", "--trials", "5"]
    again = runner.invoke(cli, [*args, "--study", "s1", "--json"])  # no --metric given
    assert again.exit_code == 0, again.output
    summary = json.loads(again.output)
    assert summary["metric"] == "balanced_accuracy" and summary["trials"] == 5
    other = runner.invoke(cli, [*args, "--study", "s1", "--metric", "accuracy"])
    assert other.exit_code != 0 and "learners.study_mismatch" in other.output


def test_predict_scores_labeled_rows_by_both_measures(
    runner: CliRunner, own_home: Path, train: Path, test_file: Path
) -> None:
    ran = runner.invoke(cli, run_args(train, "--metric", "balanced_accuracy", "--json"))
    run_id = json.loads(ran.output)["run_id"]
    answer = runner.invoke(cli, ["predict", run_id, str(test_file), "--label", "kind", "--json"])
    assert answer.exit_code == 0, answer.output
    document = json.loads(answer.output)
    truth = [row["label"] for row in document["predictions"]]
    guesses = [row["prediction"] for row in document["predictions"]]
    assert document["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(truth, guesses))
    assert document["accuracy"] == pytest.approx(np.mean(np.asarray(truth) == guesses))
    text = runner.invoke(cli, ["predict", run_id, str(test_file), "--label", "kind"])
    assert f"(balanced accuracy {100 * document['balanced_accuracy']:.1f} %)" in text.output


def test_runs_show_tells_what_a_saved_run_found(
    runner: CliRunner, own_home: Path, train: Path, test_file: Path
) -> None:
    args = run_args(train, "--metric", "balanced_accuracy", "--test", str(test_file), "--json")
    summary = json.loads(runner.invoke(cli, args).output)
    shown = runner.invoke(cli, ["runs", "show", summary["run_id"]])
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert lines[0].startswith(f"Run {summary['run_id']}: scratch")
    assert f"Test         {100 * summary['test_score']:.1f} % (95 % interval" in shown.output
    assert any(line.startswith("CV recall    a ") for line in lines)
    assert any(line.startswith("Calibration  ") for line in lines)
    as_json = json.loads(runner.invoke(cli, ["runs", "show", summary["run_id"], "--json"]).output)
    assert as_json["cv_score"] == summary["cv_score"] and as_json["metric"] == "balanced_accuracy"
    missing = runner.invoke(cli, ["runs", "show", "nope"])
    assert missing.exit_code != 0 and "run.not_found" in missing.output
