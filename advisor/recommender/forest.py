"""Fitted gradient-boosted regressors as plain arrays: kept on disk and read back without pickle.

Fitting the recommender's regressors (the meta-model's and the family choice's, some twenty
:class:`~sklearn.ensemble.HistGradientBoostingRegressor` of 300 trees) takes most of the
seconds a fresh process spends before its first recommendation — every ``advisor recommend``
on the command line, every service worker. Once fitted, such a regressor is a sum of trees
(Friedman 2001, *Greedy function approximation: a gradient boosting machine*, §4):

    ŷ(x) = b + Σ_t v_t(leaf_t(x)),

with ``b`` the baseline (the mean of the training targets, for the squared error) and
``leaf_t(x)`` the leaf tree ``t`` sends ``x`` to: at each split node, left when
``x_j ≤ θ``, and, where ``x_j`` is undefined, to the side the split sent the training's
missing values (or its larger side when training had none; Ke et al. 2017, *LightGBM*, §3.2,
as scikit-learn does). :class:`TreeEnsemble` holds exactly that — per node its feature,
threshold, missing-value side, children, leaf flag and value, every tree's nodes in one set of
arrays — and predicts with it, adding the trees in scikit-learn's order so that the sums are
the same to the last bit. :func:`save_ensembles` and :func:`load_ensembles` keep named
ensembles in one ``.npz`` file, read with ``allow_pickle=False``: a damaged or foreign file
is refused and the caller fits again. :func:`stored_or_fitted` is what the recommender calls:
the stored ensembles if a file of that name holds them, else a fit, kept for the next process.

Numerical splits only: an ensemble with a categorical split (the recommender fits none) is
refused by :meth:`TreeEnsemble.from_regressor`.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor

_DTYPES: dict[str, type] = {
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
_FORMAT = "automl-advisor/tree-ensembles"


class Regressor(Protocol):
    """What the recommender asks of a fitted regressor."""

    def predict(self, X: np.ndarray) -> np.ndarray:
        """One prediction per row of ``X``."""
        ...


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
        nodes = [iteration[0].nodes for iteration in regressor._predictors]
        if any(n["is_categorical"].any() for n in nodes):
            raise ValueError("categorical splits are not supported")
        offsets = np.cumsum([0] + [len(n) for n in nodes[:-1]]).astype(np.int64)
        every = np.concatenate(nodes)
        shift = np.repeat(offsets, [len(n) for n in nodes])
        return cls(
            baseline=float(np.asarray(regressor._baseline_prediction).ravel()[0]),
            n_features=int(regressor.n_features_in_),
            feature=every["feature_idx"].astype(np.int64),
            threshold=every["num_threshold"].astype(np.float64),
            missing_left=every["missing_go_to_left"].astype(bool),
            left=every["left"].astype(np.int64) + shift,
            right=every["right"].astype(np.int64) + shift,
            leaf=every["is_leaf"].astype(bool),
            value=every["value"].astype(np.float64),
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

    def _arrays(self) -> dict[str, np.ndarray]:
        return {name: np.asarray(getattr(self, name)) for name in _DTYPES}


def save_ensembles(path: Path, ensembles: dict[str, TreeEnsemble]) -> None:
    """Write named ensembles to the ``.npz`` file ``path``.

    Atomically: a process reading the cache never sees half a file.
    """
    names = list(ensembles)
    arrays: dict[str, np.ndarray] = {
        "manifest": np.array(json.dumps({"format": _FORMAT, "names": names})),
        "baselines": np.array([ensembles[n].baseline for n in names], dtype=np.float64),
        "widths": np.array([ensembles[n].n_features for n in names], dtype=np.int64),
    }
    for index, name in enumerate(names):
        for field, values in ensembles[name]._arrays().items():
            arrays[f"{index}.{field}"] = values
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            np.savez_compressed(stream, allow_pickle=False, **arrays)
        Path(temporary).chmod(0o644)  # as the cache's other files (mkstemp makes it private)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load_ensembles(path: Path) -> dict[str, TreeEnsemble] | None:
    """The ensembles :func:`save_ensembles` wrote to ``path``; ``None`` if absent or unreadable.

    Read without pickle, and checked for consistency (array lengths, child and root indices
    in range), so a damaged file is never half-used: the caller fits again.
    """
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            manifest = json.loads(str(stored["manifest"]))
            if manifest.get("format") != _FORMAT:
                return None
            baselines, widths = stored["baselines"], stored["widths"]
            ensembles = {}
            for index, name in enumerate(manifest["names"]):
                parts = {field: stored[f"{index}.{field}"] for field in _DTYPES}
                ensembles[str(name)] = _checked(float(baselines[index]), int(widths[index]), parts)
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
        return None
    return ensembles


def _checked(baseline: float, n_features: int, parts: dict[str, np.ndarray]) -> TreeEnsemble:
    """A :class:`TreeEnsemble` of ``parts``, or ``ValueError`` when they do not make trees.

    Every child comes after its parent (as scikit-learn grows them), so that no damaged file
    can send :meth:`TreeEnsemble.predict` round a cycle.
    """
    size = len(parts["value"])
    if any(parts[f].ndim != 1 or len(parts[f]) != size for f in _DTYPES if f != "roots"):
        raise ValueError("node arrays of different lengths")
    ensemble = TreeEnsemble(
        baseline=baseline,
        n_features=n_features,
        **{field: parts[field].astype(dtype) for field, dtype in _DTYPES.items()},
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


KEEP = 4
"""Ensemble files kept per cache folder and kind (the newest): a knowledge base that grows with
every regret check leaves one file per state behind."""


def stored_or_fitted(
    name: str,
    expected: list[str] | None,
    fit: Callable[[], dict[str, HistGradientBoostingRegressor]],
    *,
    cache: Path | None,
    shipped: Path | None = None,
) -> dict[str, Regressor]:
    """The ensembles of file ``name`` in ``shipped`` or ``cache``, else ``fit()``'s, kept there.

    ``name`` must identify everything the fit depends on (data, settings, library version);
    a stored file that does not hold exactly the ``expected`` names (if given) is ignored. A
    cache that cannot be written (read-only, full) only costs the next process the same fit.
    Older files of the same kind (``name``'s prefix before its first ``-``) beyond the newest
    :data:`KEEP` are removed.
    """
    for folder in (shipped, cache):
        if folder is None:
            continue
        stored = load_ensembles(folder / name)
        if stored is not None and (expected is None or sorted(stored) == sorted(expected)):
            return dict(stored)
    fitted = fit()
    if cache is not None:
        try:
            save_ensembles(
                cache / name, {k: TreeEnsemble.from_regressor(r) for k, r in fitted.items()}
            )
            _prune(cache, name.split("-", 1)[0])
        except OSError:
            pass  # fitted again next time
    return dict(fitted)


def _prune(folder: Path, kind: str) -> None:
    files = sorted(folder.glob(f"{kind}-*.npz"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in files[KEEP:]:
        old.unlink(missing_ok=True)
