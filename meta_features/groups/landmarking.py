"""Landmarking: how well simple, fast learners do (Pfahringer, Bensusan & Giraud-Carrier 2000).

Each landmark is scored by its accuracy on every fold of a stratified ``k``-fold
cross-validation, summarised by mean and sd over the folds; ``k = min(cv_folds, smallest
class)`` (at least 2: one example per class leaves nothing to validate on). As in PyMFE:

* ``one_nn``: 1-nearest neighbour (Euclidean) on all attributes;
* ``best_node``: a decision stump (depth-1 CART) on all attributes — it picks the best split;
* ``random_node``: a stump on one attribute drawn at random (``RandomState(seed).randint``);
* ``worst_node``: a stump on the least important attribute, and ``elite_nn``: 1-NN on the most
  important one, importances from a full CART tree grown on the fold's training part;
* ``linear_discr``: linear discriminant analysis; ``naive_bayes``: Gaussian naive Bayes.

Documented deviations from PyMFE 0.4.4 in the default settings (all off in
:meth:`ExtractConfig.pymfe_compatible`): folds are cut after a seeded shuffle (PyMFE's depend
on the row order of the file); on more than ``landmarking_max_rows`` rows the landmarks run on
a seeded stratified subsample of that size (1-NN costs ``O(N²)``); LDA uses the least-squares
solver (the same rule when the pooled covariance has full rank).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.model_selection import StratifiedKFold
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier

from meta_features.context import Context
from meta_features.groups._common import Value
from meta_features.result import Missing

LANDMARKS = (
    "one_nn",
    "best_node",
    "random_node",
    "worst_node",
    "linear_discr",
    "naive_bayes",
    "elite_nn",
)


@dataclass(frozen=True, eq=False)
class Folds:
    """The cross-validation shared by every landmark: data, splits and importance ranks."""

    X: np.ndarray
    y: np.ndarray
    splits: list[tuple[np.ndarray, np.ndarray]]
    importance_ranks: list[np.ndarray]
    random_attribute: int


def stratified_subsample(y: np.ndarray, cap: int, seed: int) -> np.ndarray:
    """Sorted row indices of a seeded sample of about ``cap`` rows, class shares kept."""
    rng = np.random.default_rng(seed)
    share = cap / y.shape[0]
    keep = [
        rng.permutation(rows)[: max(int(np.ceil(share * rows.size)), min(rows.size, 2))]
        for rows in (np.flatnonzero(y == k) for k in np.unique(y))
    ]
    return np.sort(np.concatenate(keep))


def make_folds(ctx: Context) -> Folds | Missing:
    """The folds of the landmarking cross-validation, or why there can be none."""
    X, y = ctx.X, ctx.codes
    cap = ctx.config.landmarking_max_rows
    if cap is not None and X.shape[0] > cap:
        rows = stratified_subsample(y, cap, ctx.random_state)
        X, y = X[rows], y[rows]
    present = np.bincount(y)
    present = present[present > 0]
    if present.size < 2:
        return Missing("landmarking needs at least two classes")
    smallest = int(present.min())
    folds = min(ctx.config.cv_folds, smallest)
    if folds < 2:
        return Missing("cross-validation needs at least 2 examples in every class")
    shuffle = ctx.config.cv_shuffle
    splitter = StratifiedKFold(
        n_splits=folds, shuffle=shuffle, random_state=ctx.random_state if shuffle else None
    )
    splits = list(splitter.split(X, y))
    ranks = [
        np.argsort(
            DecisionTreeClassifier(random_state=ctx.random_state)
            .fit(X[train], y[train])
            .feature_importances_
        )
        for train, _ in splits
    ]
    attribute = int(np.random.RandomState(ctx.random_state).randint(0, X.shape[1], size=1)[0])
    return Folds(X, y, splits, ranks, attribute)


Columns = Callable[[Folds, int], np.ndarray | slice]


def _all(folds: Folds, fold: int) -> slice:
    return slice(None)


def _random(folds: Folds, fold: int) -> np.ndarray:
    return np.array([folds.random_attribute])


def _least_important(folds: Folds, fold: int) -> np.ndarray:
    return folds.importance_ranks[fold][:1]


def _most_important(folds: Folds, fold: int) -> np.ndarray:
    return folds.importance_ranks[fold][-1:]


def _models(ctx: Context) -> dict[str, tuple[Callable[[], ClassifierMixin], Columns]]:
    config, seed = ctx.config, ctx.random_state

    def stump() -> ClassifierMixin:
        return DecisionTreeClassifier(max_depth=1, random_state=seed)

    def one_nn() -> ClassifierMixin:
        return KNeighborsClassifier(n_neighbors=1, algorithm=config.knn_algorithm)

    def linear_discr() -> ClassifierMixin:
        return LinearDiscriminantAnalysis(solver=config.lda_solver)

    return {
        "one_nn": (one_nn, _all),
        "best_node": (stump, _all),
        "random_node": (stump, _random),
        "worst_node": (stump, _least_important),
        "linear_discr": (linear_discr, _all),
        "naive_bayes": (GaussianNB, _all),
        "elite_nn": (one_nn, _most_important),
    }


def fold_accuracies(
    folds: Folds, factory: Callable[[], ClassifierMixin], columns: Columns
) -> np.ndarray:
    """Accuracy of a fresh model on each fold's held-out part."""
    scores = np.empty(len(folds.splits))
    for fold, (train, test) in enumerate(folds.splits):
        chosen = columns(folds, fold)
        model = factory().fit(folds.X[train][:, chosen], folds.y[train])
        scores[fold] = np.mean(model.predict(folds.X[test][:, chosen]) == folds.y[test])
    return scores


def compute(ctx: Context, wanted: frozenset[str]) -> dict[str, Value]:
    """The landmarking group's features for ``ctx``."""
    folds = make_folds(ctx)
    if isinstance(folds, Missing):
        return dict.fromkeys(LANDMARKS, folds)
    results: dict[str, Value] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # LDA on collinear or few-shot data warns, by design
        for name, (factory, columns) in _models(ctx).items():
            try:
                results[name] = fold_accuracies(folds, factory, columns)
            except Exception as error:
                results[name] = Missing(f"{name} could not be fitted: {error}")
    return results
