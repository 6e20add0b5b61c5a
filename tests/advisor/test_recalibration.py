"""Temperature scaling: the formula, the fit, when it refuses, and a run that keeps it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.datasets import make_classification

from advisor import Advisor
from advisor.cli import cli
from advisor.core import load_run
from advisor.recalibration import (
    BOUNDS,
    FEWEST_ROWS,
    fit_temperature,
    negative_log_likelihood,
    out_of_fold_log_probabilities,
    recalibration,
    recalibration_phrase,
)
from advisor.reports.parts import Report
from advisor.reports.render import to_markdown
from advisor.reports.run_sections import run_sections
from learners import Learner, learner_class
from learners.families.base import tempered_log_probabilities, tempered_probabilities
from learners.tensors import InputSpec
from learners.tuning import validation_splits


def test_tempering_keeps_the_answer_and_moves_the_confidence() -> None:
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
    assert np.allclose(tempered_probabilities(p, 1.0), p)
    flat, sharp = tempered_probabilities(p, 2.0), tempered_probabilities(p, 0.5)
    assert np.allclose(flat.sum(axis=1), 1) and np.allclose(sharp.sum(axis=1), 1)
    assert (flat.argmax(axis=1) == p.argmax(axis=1)).all()
    assert (sharp.argmax(axis=1) == p.argmax(axis=1)).all()
    assert (flat.max(axis=1) < p.max(axis=1)).all() and (sharp.max(axis=1) > p.max(axis=1)).all()
    squared = p**2 / (p**2).sum(axis=1, keepdims=True)  # T = 1/2 squares, renormalised
    assert np.allclose(sharp, squared)


def overconfident(n: int, temperature: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Labels drawn from calibrated probabilities; the log-probabilities reported sharpened by
    ``1/temperature``."""
    rng = np.random.default_rng(seed)
    calibrated = rng.dirichlet([1.0, 1.0, 1.0], size=n)
    codes = np.array([rng.choice(3, p=row) for row in calibrated])
    return tempered_log_probabilities(np.log(calibrated), 1 / temperature), codes


@pytest.mark.parametrize("truth", [0.5, 2.0, 40.0])
def test_the_fitted_temperature_undoes_a_known_distortion(truth: float) -> None:
    reported, codes = overconfident(4000, truth)
    found = fit_temperature(reported, codes)
    assert found == pytest.approx(truth, rel=0.15)
    tempered = tempered_log_probabilities(reported, found)
    assert negative_log_likelihood(tempered, codes) < negative_log_likelihood(reported, codes)


def test_no_temperature_from_too_few_rows_or_a_flawless_fold() -> None:
    reported, codes = overconfident(FEWEST_ROWS - 1, 2.0)
    assert recalibration(reported, codes).temperature == 1.0
    assert "too few" in recalibration(reported, codes).note
    flawless = np.log(np.eye(3)[np.arange(60) % 3] * 0.8 + 0.2 / 3)
    found = recalibration(flawless, np.arange(60) % 3)
    assert found.temperature == 1.0 and "no mistake" in found.note
    fitted = recalibration(*overconfident(200, 2.0))
    assert fitted.note == "" and fitted.temperature > 1 and fitted.nll_after < fitted.nll_before


def test_no_temperature_where_none_removes_a_hundredth_of_the_log_loss() -> None:
    calibrated, codes = overconfident(600, 1.0)  # already calibrated: T near 1 gains nothing
    found = recalibration(calibrated, codes)
    assert found.temperature == 1.0 and "no temperature lowered" in found.note


def test_log_probabilities_hundreds_apart_are_softened() -> None:
    """ProtoNet's: probabilities of exactly 0 and 1, three answers of 60 wrong. Their
    logarithms are exact (−800 for the others), and a temperature of tens softens them."""
    codes = np.arange(60) % 3
    answers = np.r_[codes[:57], [1, 2, 0]]
    saturated = np.where(np.eye(3, dtype=bool)[answers], 0.0, -800.0)
    assert (np.exp(saturated) == np.eye(3)[answers]).all()
    found = recalibration(saturated, codes)
    assert found.note == "" and 100 < found.temperature < BOUNDS[1]  # about 800 / ln 38
    assert found.nll_before == pytest.approx(3 / 60 * 27.631, rel=1e-3)  # floored at 1e-12
    assert found.nll_after < found.nll_before / 3


def test_out_of_fold_log_probabilities_cover_every_held_out_row() -> None:
    X, y = make_classification(
        n_samples=90, n_features=5, n_classes=3, n_informative=3, random_state=0
    )
    splits = validation_splits(X, y, InputSpec.from_data(X), seed=0)

    def make() -> Learner:
        return learner_class("scratch", "logreg")(random_state=0)

    logs, truth = out_of_fold_log_probabilities(make, X, y, splits)
    assert logs.shape == (90, 3) and np.allclose(np.exp(logs).sum(axis=1), 1)
    assert sorted(truth.tolist()) == sorted(y.tolist())


def test_a_saved_model_keeps_its_temperature(tmp_path: Path) -> None:
    X, y = make_classification(n_samples=60, n_features=4, random_state=1)
    model = learner_class("scratch", "logreg")(random_state=0).fit(X, y)
    plain = model.predict_proba(X)
    model.calibration_temperature = 2.0
    tempered = model.predict_proba(X)
    assert np.allclose(tempered, tempered_probabilities(plain, 2.0))
    assert (model.predict(X) == plain.argmax(axis=1)).all()
    loaded = Learner.load(model.save(tmp_path / "m"))
    assert loaded.calibration_temperature == 2.0
    assert np.allclose(loaded.predict_proba(X), tempered)


def test_a_run_recalibrates_on_request_and_says_so(own_home: Path, tmp_path: Path) -> None:
    """Forty columns, four of them informative, 120 rows: logistic regression over-fits and is
    over-confident on held-out rows (``T`` near 1.8 at its defaults)."""
    X, y = make_classification(
        n_samples=120, n_features=40, n_informative=4, flip_y=0.05, random_state=3
    )
    table = tmp_path / "t.csv"
    header = ",".join(f"x{i}" for i in range(40)) + ",label"
    rows = [
        ",".join(f"{v:.5f}" for v in row) + f",c{label}" for row, label in zip(X, y, strict=True)
    ]
    table.write_text(header + "\n" + "\n".join(rows) + "\n")
    args = ["run", str(table), "--family", "scratch", "--trials", "1", "--recalibrate", "--json"]
    answer = CliRunner().invoke(cli, args)
    assert answer.exit_code == 0, answer.output
    run = load_run(json.loads(answer.output)["run_id"])
    assert run.recalibration is not None and run.recalibration.rows == 120
    assert run.recalibration.note == "" and run.recalibration.temperature > 1.2
    assert run.model.calibration_temperature == run.recalibration.temperature
    assert run.recalibration.nll_after < run.recalibration.nll_before
    assert Advisor().run(X, y, family="scratch", n_trials=1).model.calibration_temperature == 1.0
    text = to_markdown(Report("r", run_sections(run), {}), tmp_path)
    assert "Recalibration by temperature scaling (Guo et al. 2017), applied to the fitted" in text
    assert f"{run.recalibration.temperature:.2f}: log-loss" in text


def test_the_phrase_says_what_was_kept() -> None:
    kept = recalibration(*overconfident(200, 2.0))
    assert recalibration_phrase(kept).startswith(f"temperature {kept.temperature:.2f}: log-loss")
    refused = recalibration(*overconfident(10, 2.0))
    assert recalibration_phrase(refused).startswith("probabilities kept as fitted — 10 held-out")
