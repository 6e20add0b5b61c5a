"""Which columns a fitted model relies on: permutation importance on the test rows.

For each input column, its values are shuffled among the test rows (a one-hot encoded
column's encoded columns together, as one), and the model's score is measured again. The
importance of column ``j`` is the score lost,

    I_j = s − (1/R) Σ_r s_{j,r},

``s`` the score on the rows as they are and ``s_{j,r}`` on the ``r``-th of ``R`` shuffles —
L. Breiman, "Random forests", Machine Learning 45 (2001); A. Fisher, C. Rudin, F. Dominici,
"All models are wrong, but many are useful: learning a variable's importance by studying an
entire class of prediction models simultaneously", JMLR 20 (2019), *model reliance*. It is
measured in the run's metric, on held-out rows only: on its training rows an overfitted model
relies on noise. Read it for what it is: a shuffled column keeps its distribution but loses
its link to the label *and to the other columns*, so two columns that carry the same
information share it, and each alone may look unimportant; and a column that helps only a
few rows moves the score by little on a small test set (the spread over the shuffles says
how little).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from advisor.schemas import ColumnImportance
from learners.tuning import Metric, fold_score

REPEATS = 5
MOST_COLUMNS = 200
"""Wider data is not measured: each column costs ``REPEATS`` predictions of the test set."""


def permutation_importance(
    predict: Callable[[np.ndarray], Any],
    X: Any,
    y: Any,
    groups: Mapping[str, Sequence[int]],
    *,
    metric: Metric = "accuracy",
    repeats: int = REPEATS,
    seed: int = 0,
) -> list[ColumnImportance]:
    """Each column's importance for ``predict`` on the rows ``(X, y)``, largest first.

    ``groups`` maps each input column to its encoded columns of ``X`` (shuffled together).
    """
    inputs = np.asarray(X)
    truth = np.asarray(y)
    baseline = fold_score(np.asarray(predict(inputs)) == truth, truth, metric)
    rng = np.random.default_rng(seed)
    found = []
    for name, group in groups.items():
        columns = np.asarray(group, dtype=np.intp)
        losses = []
        for _ in range(repeats):
            shuffled = inputs.copy()
            shuffled[:, columns] = inputs[np.ix_(rng.permutation(len(inputs)), columns)]
            score = fold_score(np.asarray(predict(shuffled)) == truth, truth, metric)
            losses.append(baseline - score)
        found.append(
            ColumnImportance(
                column=name, drop=float(np.mean(losses)), spread=float(np.std(losses, ddof=1))
            )
        )
    return sorted(found, key=lambda item: -item.drop)


def column_groups(encoder: Any, width: int) -> dict[str, list[int]] | None:
    """The input columns of a table's encoded rows (``None`` for data too wide to measure).

    With the table's encoder (``TabularEncoder``), its columns; without one (arrays), each
    column is its own, named ``column 1`` … .
    """
    if encoder is not None:
        groups = dict(encoder.column_groups_)
    else:
        groups = {f"column {i + 1}": [i] for i in range(width)}
    return groups if len(groups) <= MOST_COLUMNS else None
