"""Two models on the same labeled rows: which scores higher, and could it be chance?

Both models answer the same rows, so the comparison is *paired*: only the rows one model gets
right and the other wrong (the discordant rows) tell them apart. With ``d_i = [A right] −
[B right]`` and each row's share ``w_i`` of the metric (``1/n`` for accuracy, ``1/(|C| n_c)``
for balanced accuracy; :func:`learners.tuning.example_weights`), the difference of the two
scores is ``D = Σ w_i d_i``. Under the hypothesis that neither model is better, each
discordant row was as likely to favour either, and the two-sided p-value is the chance of a
``|D|`` at least as large:

* **accuracy** — McNemar's test in its exact (binomial) form: with ``a`` rows favouring A and
  ``b`` favouring B, ``p = min(1, 2 Σ_{k ≤ min(a, b)} C(a + b, k) / 2^{a + b})`` (Q. McNemar,
  Psychometrika 12, 1947; T. G. Dietterich, "Approximate statistical tests for comparing
  supervised classification learning algorithms", Neural Computation 10(7), 1998, recommends
  it for two classifiers on one test set);
* **balanced accuracy** — the same test with each discordant row weighted: the randomization
  (sign-flip) test of ``D`` (R. A. Fisher, *The Design of Experiments*, 1935), over every
  assignment of signs up to 16 discordant rows, else over 20,000 seeded draws. With equal
  weights it is McNemar's exact test.

A large p says the rows cannot tell the two apart, not that they are equal.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from advisor.errors import InvalidInputError, define_code
from advisor.prediction import judge, label_texts
from advisor.schemas import Comparison
from learners.tuning import Metric, example_weights, fold_score

UNLABELED = define_code(
    "compare.unlabeled", "The rows to compare two runs on carry no labels to score them with."
)
ROWS_DIFFER = define_code(
    "compare.rows_differ", "The two runs read the data into different rows (not comparable)."
)
EXACT_UP_TO = 16
DRAWS = 20_000


def reading_warnings(warnings_a: list[str], warnings_b: list[str]) -> list[str]:
    """What reading the rows noticed for the two models, each reading them its own way.

    Notes both made come once, in order; a note of one model alone is marked ``A:`` or ``B:``.
    """
    found = [w if w in warnings_b else f"A: {w}" for w in warnings_a]
    return found + [f"B: {w}" for w in warnings_b if w not in warnings_a]


def compare_predictions(
    truth: Any, predicted_a: Any, predicted_b: Any, metric: Metric = "accuracy"
) -> Comparison:
    """The paired comparison of two models' predictions of the labels ``truth``.

    A prediction is right when it is the row's label by the rule of
    :func:`advisor.prediction.label_key` (``1`` is ``1.0``, ``True`` is not ``1``), the rule
    ``advisor run``'s test score and ``advisor predict`` follow; a row whose label a model
    has no class for counts as wrong for it (in balanced accuracy, a class of its own).

    Raises:
        InvalidInputError: ``compare.rows_differ`` when the three do not have one row each.
    """
    sizes = [len(label_texts(v)) for v in (truth, predicted_a, predicted_b)]
    if len(set(sizes)) != 1:
        raise InvalidInputError(
            f"{sizes[0]} labels, {sizes[1]} and {sizes[2]} predictions.", code=ROWS_DIFFER
        )
    right_a, labels = judge(truth, predicted_a)
    right_b, _ = judge(truth, predicted_b)
    d = right_a.astype(np.float64) - right_b
    score_a, score_b = fold_score(right_a, labels, metric), fold_score(right_b, labels, metric)
    if metric == "accuracy":
        p, test = mcnemar_exact(int(np.sum(d > 0)), int(np.sum(d < 0))), "McNemar's exact test"
    else:
        weighted = example_weights(labels, metric) * d
        p, test = sign_flip_p(weighted[d != 0]), "sign-flip randomization test"
    return Comparison(
        metric=metric,
        rows=int(labels.size),
        score_a=score_a,
        score_b=score_b,
        difference=score_a - score_b,
        only_a=int(np.sum(d > 0)),
        only_b=int(np.sum(d < 0)),
        p_value=p,
        test=test,
    )


def mcnemar_exact(only_a: int, only_b: int) -> float:
    """McNemar's exact two-sided p-value from the discordant counts (module docstring)."""
    n = only_a + only_b
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(min(only_a, only_b) + 1)) / 2**n
    return float(min(1.0, 2 * tail))


def sign_flip_p(
    differences: np.ndarray, *, exact_up_to: int = EXACT_UP_TO, draws: int = DRAWS, seed: int = 0
) -> float:
    """The two-sided randomization p-value of ``Σ differences`` under random signs."""
    values = np.abs(np.asarray(differences, dtype=np.float64))
    if values.size == 0:
        return 1.0
    observed = abs(float(np.sum(differences))) - 1e-12  # ties count as at least as large
    if values.size <= exact_up_to:  # every assignment, the observed one among them
        signs = np.array(list(itertools.product((-1.0, 1.0), repeat=values.size)))
        return float(np.mean(np.abs(signs @ values) >= observed))
    signs = np.random.default_rng(seed).choice((-1.0, 1.0), size=(draws, values.size))
    hits = int(np.sum(np.abs(signs @ values) >= observed))
    return (hits + 1) / (draws + 1)  # the observed assignment counted (Phipson & Smyth 2010)


def unlabeled(what: str) -> InvalidInputError:
    """The error for rows without labels."""
    return InvalidInputError(
        f"{what} carries no labels: give the label column (--label) or images in class "
        "folders, so that both runs' answers can be scored.",
        code=UNLABELED,
    )
