"""The report's parameter importances: PED-ANOVA where the trials can tell, the reason where not."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import optuna
import pytest

from advisor.reports.parameter_importance import (
    best_group_size,
    parameter_importances,
    top_share,
)
from advisor.reports.parts import Report
from advisor.reports.render import to_markdown
from advisor.reports.run_sections import _history_section

optuna.logging.set_verbosity(optuna.logging.WARNING)


def study_of(objective: Callable[[optuna.Trial], float], trials: int) -> optuna.Study:
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(objective, n_trials=trials)
    return study


def matters_and_noise(trial: optuna.Trial) -> float:
    """The score follows ``lr`` closely; ``noise`` is drawn but unused."""
    lr = trial.suggest_float("lr", 1e-4, 1.0, log=True)
    trial.suggest_float("noise", 0.0, 1.0)
    return 1.0 - abs(np.log10(lr) + 2) / 4


def constant(trial: optuna.Trial) -> float:
    """Every trial scores 100 %, whatever its parameters."""
    trial.suggest_float("a", 0.0, 1.0)
    trial.suggest_int("b", 1, 5)
    return 1.0


def test_the_best_group_is_a_tenth_but_at_least_five_and_at_most_half() -> None:
    assert top_share(4) == 0.5 and top_share(10) == 0.5
    assert top_share(20) == 0.25
    assert top_share(50) == pytest.approx(0.1) and top_share(400) == pytest.approx(0.1)


def test_ties_at_the_cut_join_the_best_group() -> None:
    assert best_group_size(np.array([0.9, 0.8, 0.7, 0.6]), 0.5) == 2
    assert best_group_size(np.array([0.9, 0.8, 0.8, 0.8, 0.6]), 0.25) == 4


def test_the_parameter_that_drives_the_score_comes_first() -> None:
    found = parameter_importances(study_of(matters_and_noise, 30))
    assert next(iter(found.shares)) == "lr"
    assert found.shares["lr"] > 5 * found.shares["noise"]
    assert sum(found.shares.values()) == pytest.approx(1.0)
    assert found.trials == 30 and found.top >= 5 and found.reason == ""


def test_trials_that_all_score_the_same_give_a_reason_not_equal_shares() -> None:
    """Optuna's normalisation gives 1/n to every parameter here: a table that means nothing."""
    study = study_of(constant, 8)
    shares = optuna.importance.get_param_importances(study)
    assert set(shares.values()) == {0.5}  # what the report used to print
    found = parameter_importances(study)
    assert found.shares == {}
    assert "Every complete trial scored 100.0 %" in found.reason


def test_a_best_group_tied_with_the_rest_says_so() -> None:
    scores = iter([1.0] + [0.9] * 7)

    def one_best_then_ties(trial: optuna.Trial) -> float:
        trial.suggest_float("a", 0.0, 1.0)
        return next(scores)

    study = study_of(one_best_then_ties, 8)
    found = parameter_importances(study)
    assert found.shares == {}
    assert "7 of the 8 complete trials tie at 90.0 %" in found.reason


def test_too_few_trials_give_a_reason() -> None:
    found = parameter_importances(study_of(matters_and_noise, 3))
    assert found.shares == {} and "3 complete trials are too few" in found.reason


def test_pruned_and_failed_trials_are_not_counted() -> None:
    def objective(trial: optuna.Trial) -> float:
        value = matters_and_noise(trial)
        if trial.number % 2:
            raise optuna.TrialPruned()
        return value

    found = parameter_importances(study_of(objective, 12))
    assert found.trials == 6


def test_the_history_section_gives_the_reason_instead_of_a_table(tmp_path: Path) -> None:
    study = study_of(constant, 6)
    text = to_markdown(Report("r", [_history_section(study)], {}), tmp_path)
    assert "| parameter | importance |" not in text
    assert "Every complete trial scored 100.0 %" in text


def test_the_history_section_names_the_method_and_leaves_out_negligible_parameters(
    tmp_path: Path,
) -> None:
    def objective(trial: optuna.Trial) -> float:
        trial.suggest_float("inert", 0.0, 1.0)
        return matters_and_noise(trial)

    study = study_of(objective, 30)
    found = parameter_importances(study)
    text = to_markdown(Report("r", [_history_section(study)], {}), tmp_path)
    assert "PED-ANOVA" in text and f"best {found.top} of the 30 complete trials" in text
    assert f"| lr | {found.shares['lr']:.2f} |" in text
    for name, share in found.shares.items():
        assert (f"| {name} |" in text) == (share >= 0.005)
