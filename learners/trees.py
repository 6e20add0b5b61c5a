"""Fitted boosted trees as plain arrays: saved and read back without pickle, predicting exactly.

A fitted gradient-boosting model is a sum of trees (Friedman 2001, *Greedy function
approximation: a gradient boosting machine*, §4):

    F(x) = b + Σ_t v_t(leaf_t(x)),

with ``b`` the baseline (the initial raw prediction) and ``leaf_t(x)`` the leaf tree ``t`` sends
``x`` to: at each split node, left when ``x_j ≤ θ``, and, where ``x_j`` is undefined, to the
side the split sent the training's missing values (or its larger side when training had none;
Ke et al. 2017, *LightGBM*, §3.2, as scikit-learn does). :class:`TreeEnsemble` holds exactly
that — per node its feature, threshold, missing-value side, children, leaf flag and value,
every tree's nodes in one set of arrays — and predicts with it, adding the trees in
scikit-learn's order so that the sums are the same to the last bit. It is made from a
:class:`~sklearn.ensemble.HistGradientBoostingRegressor` (the advisor's recommender) or
``…Classifier``, or from the regression trees of a
:class:`~sklearn.ensemble.GradientBoostingClassifier` (one ensemble per output, the learning
rate folded into the leaf values; the scratch family's ``gbm``, histogram boosting on large
tables).
:meth:`TreeEnsemble.checked` rebuilds one from stored arrays and refuses arrays that do not make
trees, so that a damaged file is never half-used.

Numerical splits only: an ensemble with a categorical split is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import expit, softmax
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

NODE_DTYPES: dict[str, type] = {
    "feature": np.int64,
    "threshold": np.float64,
    "missing_left": bool,
    "left": np.int64,
    "right": np.int64,
    "leaf": bool,
    "value": np.float64,
    "roots": np.int64,
}
"""The node arrays of a :class:`TreeEnsemble` and their types, as stored and as read back."""
BLOCK_ROWS = 4096
"""Rows classified at a time by :func:`classifier_probabilities` (bounds its memory)."""


@dataclass(frozen=True, eq=False)
class TreeEnsemble:
    """A fitted regression ensemble of binary trees (module docstring).

    Node arrays run over every tree's nodes; ``left`` and ``right`` index into them, and
    ``roots[t]`` is tree ``t``'s root.
    """

    baseline: float
    n_features: int
    feature: np.ndarray  # int64, the split's input column (leaves: 0, unused)
    threshold: np.ndarray  # float64, θ: go left when x ≤ θ
    missing_left: np.ndarray  # bool, an undefined input goes left
    left: np.ndarray  # int64
    right: np.ndarray  # int64
    leaf: np.ndarray  # bool
    value: np.ndarray  # float64, a leaf's contribution
    roots: np.ndarray  # int64, one per tree, in the order the trees are added

    @classmethod
    def from_regressor(cls, regressor: HistGradientBoostingRegressor) -> TreeEnsemble:
        """The trees of a fitted single-output ``HistGradientBoostingRegressor``.

        Raises:
            ValueError: the regressor has several outputs or a categorical split.
        """
        if regressor.n_trees_per_iteration_ != 1:
            raise ValueError("only single-output regressors are supported")
        return cls.from_hist_predictors(regressor, 0)

    @classmethod
    def from_hist_predictors(cls, model: Any, output: int) -> TreeEnsemble:
        """Output ``output`` of a fitted histogram gradient-boosting model, as an ensemble.

        ``model`` is a ``HistGradientBoostingRegressor`` or ``…Classifier``: its baseline for
        that output and, from each iteration, that output's tree (the learning rate is already
        in its leaf values). The thresholds are real numbers, compared with the unbinned
        inputs, as scikit-learn's ``predict`` compares them.

        Raises:
            ValueError: a categorical split.
        """
        nodes = [iteration[output].nodes for iteration in model._predictors]
        if any(n["is_categorical"].any() for n in nodes):
            raise ValueError("categorical splits are not supported")
        offsets = np.cumsum([0] + [len(n) for n in nodes[:-1]]).astype(np.int64)
        every = np.concatenate(nodes)
        shift = np.repeat(offsets, [len(n) for n in nodes])
        return cls(
            baseline=float(np.asarray(model._baseline_prediction).ravel()[output]),
            n_features=int(model.n_features_in_),
            feature=every["feature_idx"].astype(np.int64),
            threshold=every["num_threshold"].astype(np.float64),
            missing_left=every["missing_go_to_left"].astype(bool),
            left=every["left"].astype(np.int64) + shift,
            right=every["right"].astype(np.int64) + shift,
            leaf=every["is_leaf"].astype(bool),
            value=every["value"].astype(np.float64),
            roots=offsets,
        )

    @classmethod
    def checked(
        cls, baseline: float, n_features: int, parts: dict[str, np.ndarray]
    ) -> TreeEnsemble:
        """A :class:`TreeEnsemble` of ``parts``, or ``ValueError`` when they do not make trees.

        Every child comes after its parent (as scikit-learn grows them), so that no damaged
        file can send :meth:`predict` round a cycle.
        """
        size = len(parts["value"])
        if any(parts[f].ndim != 1 or len(parts[f]) != size for f in NODE_DTYPES if f != "roots"):
            raise ValueError("node arrays of different lengths")
        ensemble = cls(
            baseline=baseline,
            n_features=n_features,
            **{field: parts[field].astype(dtype) for field, dtype in NODE_DTYPES.items()},
        )
        inner = np.flatnonzero(~ensemble.leaf)
        children = np.concatenate([ensemble.left[inner], ensemble.right[inner]])
        parents = np.concatenate([inner, inner])
        if ensemble.roots.size == 0 or ensemble.roots.min() < 0 or ensemble.roots.max() >= size:
            raise ValueError("a root out of range")
        if children.size and ((children <= parents).any() or children.max() >= size):
            raise ValueError("a child out of order or out of range")
        features = ensemble.feature[inner]
        if features.size and (features.min() < 0 or features.max() >= n_features):
            raise ValueError("a feature index out of range")
        return ensemble

    @classmethod
    def from_decision_trees(
        cls, trees: Sequence[Any], *, baseline: float, scale: float, n_features: int
    ) -> TreeEnsemble:
        """``baseline + Σ scale · tree(x)`` of fitted ``DecisionTreeRegressor`` objects.

        The form of one output of a ``GradientBoostingClassifier``: its ``estimators_[:, k]``,
        its learning rate and initial raw prediction. The leaf values are multiplied by
        ``scale`` once, as scikit-learn multiplies them before adding.
        """
        parts = [tree.tree_ for tree in trees]
        sizes = [part.node_count for part in parts]
        offsets = np.cumsum([0, *sizes[:-1]]).astype(np.int64)
        shift = np.repeat(offsets, sizes)
        left = np.concatenate([part.children_left for part in parts]).astype(np.int64)
        right = np.concatenate([part.children_right for part in parts]).astype(np.int64)
        leaf = left < 0
        return cls(
            baseline=float(baseline),
            n_features=int(n_features),
            feature=np.where(leaf, 0, np.concatenate([p.feature for p in parts])).astype(np.int64),
            threshold=np.concatenate([p.threshold for p in parts]).astype(np.float64),
            missing_left=np.concatenate(
                [getattr(p, "missing_go_to_left", np.zeros(p.node_count)) for p in parts]
            ).astype(bool),
            left=np.where(leaf, 0, left + shift),
            right=np.where(leaf, 0, right + shift),
            leaf=leaf,
            value=scale * np.concatenate([p.value[:, 0, 0] for p in parts]).astype(np.float64),
            roots=offsets,
        )

    def predict(self, X: np.ndarray) -> np.ndarray:
        """``ŷ`` per row of ``X`` (undefined inputs as NaN).

        Raises:
            ValueError: ``X`` has another number of columns than the training's.
        """
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(f"expected {self.n_features} columns, got shape {X.shape}")
        rows = np.arange(len(X))[:, None]
        node = np.broadcast_to(self.roots, (len(X), len(self.roots))).copy()
        while True:
            inner = ~self.leaf[node]
            if not inner.any():
                break
            x = X[rows, self.feature[node]]
            go_left = np.where(np.isnan(x), self.missing_left[node], x <= self.threshold[node])
            step = np.where(go_left, self.left[node], self.right[node])
            node = np.where(inner, step, node)
        contributions = self.value[node]
        total = np.full(len(X), self.baseline, dtype=np.float64)
        for tree in range(contributions.shape[1]):  # tree by tree, as scikit-learn adds them
            total += contributions[:, tree]
        return total

    def arrays(self) -> dict[str, np.ndarray]:
        """The node arrays by name (:data:`NODE_DTYPES`), for storage."""
        return {name: np.asarray(getattr(self, name)) for name in NODE_DTYPES}


def classifier_ensembles(model: Any) -> list[TreeEnsemble]:
    """One :class:`TreeEnsemble` per raw output of a fitted gradient-boosting classifier.

    One output for two classes (the log-odds of the second), one per class beyond. For a
    ``GradientBoostingClassifier``, each is the model's initial raw prediction plus its
    learning rate times its trees' values; for a ``HistGradientBoostingClassifier``, its
    baseline plus its trees (:meth:`TreeEnsemble.from_hist_predictors`).
    """
    if isinstance(model, HistGradientBoostingClassifier):
        return [
            TreeEnsemble.from_hist_predictors(model, k) for k in range(model.n_trees_per_iteration_)
        ]
    width = int(model.n_features_in_)
    initial = np.asarray(model._raw_predict_init(np.zeros((1, width))), dtype=np.float64)[0]
    return [
        TreeEnsemble.from_decision_trees(
            model.estimators_[:, k],
            baseline=float(initial[k]),
            scale=float(model.learning_rate),
            n_features=width,
        )
        for k in range(model.estimators_.shape[1])
    ]


def classifier_probabilities(
    ensembles: Sequence[TreeEnsemble], X: np.ndarray, *, float32_inputs: bool = True
) -> np.ndarray:
    """Class probabilities ``(rows, classes)`` of :func:`classifier_ensembles`' outputs.

    With ``float32_inputs`` the inputs are rounded to float32 first, as the trees of a
    ``GradientBoostingClassifier`` see them (a histogram model's compare float64, and take
    ``float32_inputs=False``); two classes take the logistic of the one output,
    ``[1 − σ(F), σ(F)]``, more take the softmax of theirs.
    """
    seen = np.asarray(X, dtype=np.float32 if float32_inputs else np.float64).astype(np.float64)
    raw = np.vstack(  # in blocks of rows: a node per row and tree is held while walking
        [
            np.column_stack([ensemble.predict(block) for ensemble in ensembles])
            for block in np.array_split(seen, max(1, -(-len(seen) // BLOCK_ROWS)))
        ]
    )
    if raw.shape[1] == 1:
        positive = expit(raw[:, 0])
        return np.column_stack([1.0 - positive, positive])
    return np.asarray(softmax(raw, axis=1))
