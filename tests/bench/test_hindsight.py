"""Advice in hindsight: each task's family from the other tasks of its group, scored."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench.hindsight import hindsight_picks, scores


def test_each_task_is_advised_by_the_others_of_its_group_never_by_itself() -> None:
    families = pd.DataFrame(
        {"transfer": [0.9, 0.9, 0.5, 0.7], "meta": [0.8, 0.6, 0.95, 0.1]},
    )
    groups = pd.Series(["a", "a", "a", "b"])
    picks = hindsight_picks(families, groups)
    # Task 0 sees tasks 1 and 2: transfer 0.70, meta 0.775 -> meta, though transfer wins it.
    # Task 1 sees 0 and 2: transfer 0.70, meta 0.875 -> meta. Task 2 sees 0 and 1: transfer.
    assert picks.tolist() == [1, 1, 0, -1]  # task 3 is alone in its group: no advice


def test_a_tie_goes_to_the_first_family_and_a_missing_run_is_left_out() -> None:
    families = pd.DataFrame({"transfer": [0.8, 0.8, np.nan], "meta": [0.8, 0.8, 0.9]})
    picks = hindsight_picks(families, pd.Series(["g", "g", "g"]))
    # Task 0 sees transfer 0.8 (task 2 did not run it) and meta 0.85: meta.
    # Task 2 sees transfer 0.8 and meta 0.8, a tie: transfer, the first column.
    assert picks.tolist() == [1, 1, 0]


def test_scores_are_the_evaluations_family_regret_and_clear_selection() -> None:
    families = pd.DataFrame({"transfer": [0.9, 0.80, 0.7], "meta": [0.8, 0.81, 0.7]})
    regret, selection = scores(families, np.array([1, 0, 0]))
    # Losses 10, 1 and 0 points; only task 0 is clear (gap 10 > 2 points), and it was missed.
    assert regret == pytest.approx(11 / 3)
    assert selection == 0.0
    regret, _ = scores(families, np.array([0, -1, -1]))  # tasks without advice left out
    assert regret == 0.0
