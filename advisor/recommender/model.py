"""The meta-model: each learner's accuracy predicted from a task's meta-features.

For every (family, variant) of the knowledge base, a gradient-boosted regression forest
(scikit-learn's :class:`~sklearn.ensemble.HistGradientBoostingRegressor`, which handles
undefined meta-features natively) predicts the query accuracy from the task's meta-features.

**Intervals** are split-conformal (Vovk et al. 2005; Lei et al. 2018) with *grouped*
calibration: the residuals ``y − ŷ`` come from out-of-fold predictions where whole domains are
held out (``GroupKFold``), so they measure the error on domains the model has not seen — the
situation of a user's dataset. The 80 % interval of a prediction ``ŷ`` is
``[ŷ + r₁₀, ŷ + r₉₀]`` with ``r_q`` the q-th percentile of that variant's residuals, clipped
to [0, 1].

**This installation's own runs** (rows of ``kind`` :data:`LOCAL_KIND`, appended by the regret
check) are learned from as they come, without cross-validating the whole knowledge base again:
they are calibrated as one more held-out group, by the regressors fitted on the knowledge base
without them, and the knowledge base's own grouped residuals are kept (stored, or computed once
and cached). Every calibration residual is still an out-of-group one, and a new outcome costs
one fit of the regressors (tens of seconds on 2 cores) instead of the ``folds`` more of a
whole cross-validation (minutes).

**P(best)** is the family choice's (:mod:`advisor.recommender.choice`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.model_selection import GroupKFold
from threadpoolctl import threadpool_limits

from advisor.kb.domains import domain_modality
from advisor.kb.runner import FEATURE_PREFIX
from advisor.recommender.forest import Regressor, stored_or_fitted

Key = tuple[str, str]
"""A learner: ``(family, variant)``."""

_CALIBRATION_VERSION = 1
_MIN_DEFINED_SHARE = 0.5
LOCAL_KIND = "local"
"""The ``kind`` of the rows a run's regret check appends to the local knowledge base."""


def task_table(kb: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per task of its descriptor and meta-features, and each learner's accuracy.

    The rows that count are the default-settings ones (``tuned`` rows are left out) and the
    outcomes of this installation's own runs (``kind`` :data:`LOCAL_KIND`: the regret checks of
    :meth:`advisor.Advisor.run`, each family tuned and scored by cross-validation on the user's
    data), which the recommender learns from on top of the knowledge base's measurements. A
    task's ``modality`` (``image``, ``vector``) is the rows' own where they carry one, else its
    domain's (:func:`~advisor.kb.domains.domain_modality`); ``None`` where neither says.

    Returns ``(tasks, accuracy)``; the accuracy columns are ``(family, variant)`` pairs.
    """
    if "tuned" in kb.columns:
        local = kb["kind"] == LOCAL_KIND if "kind" in kb.columns else False
        kb = kb[~kb["tuned"].fillna(False).astype(bool) | local]
    feature_columns = [c for c in kb.columns if c.startswith(FEATURE_PREFIX)]
    descriptor = ["task_id", "domain", "source", "kind", "ways", "shots", "queries", "seed"]
    first = kb.drop_duplicates("task_id").set_index("task_id")
    tasks = first[descriptor[1:] + feature_columns].copy()
    own = first["modality"] if "modality" in first.columns else pd.Series(None, index=first.index)
    tasks.insert(
        3,
        "modality",
        [
            m if isinstance(m, str) else domain_modality(str(d))
            for m, d in zip(own, first["domain"], strict=True)
        ],
    )
    accuracy = kb.pivot_table(
        index="task_id", columns=["family", "variant"], values="accuracy", aggfunc="mean"
    )
    return tasks.loc[accuracy.index], accuracy


def usable_features(tasks: pd.DataFrame) -> list[str]:
    """Meta-feature columns defined for at least half the tasks and not constant."""
    columns = []
    for name in tasks.columns:
        if not name.startswith(FEATURE_PREFIX):
            continue
        values = tasks[name].astype(float)
        defined = values.notna().mean()
        if defined >= _MIN_DEFINED_SHARE and values.nunique(dropna=True) > 1:
            columns.append(name)
    return columns


def own_runs(rows: pd.DataFrame) -> np.ndarray:
    """A boolean mask of this installation's own runs (``kind`` :data:`LOCAL_KIND`).

    ``rows``: a knowledge base's rows or a :func:`task_table`'s.
    """
    if "kind" not in rows.columns:
        return np.zeros(len(rows), dtype=bool)
    return np.asarray(rows["kind"] == LOCAL_KIND, dtype=bool)


def _grouped_residuals(
    X: np.ndarray,
    *,
    accuracy: pd.DataFrame,
    keys: list[Key],
    groups: np.ndarray,
    folds: int,
    seed: int,
) -> np.ndarray:
    """Every learner's out-of-group residuals ``y − ŷ`` (``GroupKFold``), ``(tasks, keys)``."""
    residuals = np.full((len(X), len(keys)), np.nan)
    n_groups = len(np.unique(groups))
    if n_groups < 2:
        return residuals
    splitter = GroupKFold(n_splits=min(folds, n_groups))
    for j, key in enumerate(keys):
        y = accuracy[key].to_numpy(dtype=np.float64)
        known = np.isfinite(y)
        for fold_train, fold_test in splitter.split(X, y, groups):
            train = fold_train[known[fold_train]]
            test = fold_test[known[fold_test]]
            if train.size == 0 or test.size == 0:
                continue
            model = boosted_regressor(seed).fit(X[train], y[train])
            residuals[test, j] = y[test] - model.predict(X[test])
    return residuals


def _name(key: Key) -> str:
    return f"{key[0]}/{key[1]}"


def _known(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    known = np.isfinite(y)
    return X[known], y[known]


def _fingerprint(tasks: pd.DataFrame, accuracy: pd.DataFrame, folds: int, seed: int) -> str:
    """A hash of what the fit depends on: the :func:`task_table` and the calibration settings."""
    digest = hashlib.sha256()
    for frame in (tasks, accuracy):
        digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    digest.update(f"{folds}-{seed}-{_CALIBRATION_VERSION}".encode())
    return digest.hexdigest()[:20]


ROUNDS = 300
"""Boosting rounds (trees) of every regressor the recommender fits."""

LEARNING_RATE = 0.05
"""The shrinkage of each tree: ``ROUNDS × LEARNING_RATE`` is about how far the fit can go."""


def boosted_regressor(seed: int) -> HistGradientBoostingRegressor:
    """The gradient-boosted regressor both the meta-model and the family choice fit."""
    return HistGradientBoostingRegressor(
        max_iter=ROUNDS,
        learning_rate=LEARNING_RATE,
        max_leaf_nodes=15,
        min_samples_leaf=10,
        l2_regularization=1.0,
        random_state=seed,
    )


def fit_tag(seed: int) -> str:
    """What a fit depends on beyond the data: a hash of the regressor's settings.

    Part of the names of fitted trees, so that a changed setting fits again instead of reading
    trees it would not have grown (a cached file's name adds scikit-learn's release:
    :func:`~advisor.recommender.forest.cached_file`).
    """
    settings = json.dumps(boosted_regressor(seed).get_params(), sort_keys=True, default=str)
    return hashlib.sha256(settings.encode()).hexdigest()[:8]


@dataclass(eq=False)
class MetaModel:
    """Fitted regressors, their calibration residuals, and the feature columns they read."""

    columns: list[str]
    keys: list[Key]
    regressors: dict[Key, Regressor]
    residuals: np.ndarray  # (calibration tasks, len(keys)), NaN where a learner failed

    @classmethod
    def fit(
        cls,
        kb: pd.DataFrame,
        *,
        folds: int = 5,
        seed: int = 0,
        cache: Path | None = None,
        shipped: Path | None = None,
    ) -> MetaModel:
        """Fit on a knowledge base (rows of :mod:`advisor.kb.runner`), grouped by domain.

        The calibration residuals cost ``folds`` extra fits per learner; with a ``cache``
        folder they are computed once per knowledge base and settings, and kept there as an
        ``.npz`` file (read back without pickle), and so are the fitted regressors, as plain
        tree arrays (:mod:`advisor.recommender.forest`): a later process reads them in a
        fraction of a second instead of fitting for seconds. ``shipped`` is a read-only folder
        looked in first (the package ships the residuals of its knowledge base).

        The gradient-boosting models run on one OpenMP thread: the fit takes seconds either
        way, and several threads per process slow it down many times over when processes
        share the cores (gunicorn workers, parallel tests).
        """
        tasks, accuracy = task_table(kb)
        with threadpool_limits(limits=1, user_api="openmp"):
            return cls._fit(tasks, accuracy, folds=folds, seed=seed, cache=cache, shipped=shipped)

    @classmethod
    def _fit(
        cls,
        tasks: pd.DataFrame,
        accuracy: pd.DataFrame,
        *,
        folds: int,
        seed: int,
        cache: Path | None,
        shipped: Path | None,
    ) -> MetaModel:
        own = own_runs(tasks)
        calibrating = bool(own.any() and not own.all())  # own runs on top of a KB
        columns = usable_features(tasks[~own] if calibrating else tasks)
        X = tasks[columns].to_numpy(dtype=np.float64)
        keys: list[Key] = [(str(column[0]), str(column[1])) for column in accuracy.columns]
        fingerprint = _fingerprint(tasks, accuracy, folds, seed)
        fitted = stored_or_fitted(
            f"forest-{fingerprint}-{fit_tag(seed)}",
            [_name(key) for key in keys],
            lambda: {
                _name(key): boosted_regressor(seed).fit(
                    *_known(X, accuracy[key].to_numpy(dtype=np.float64))
                )
                for key in keys
            },
            cache=cache,
            shipped=shipped,
        )
        regressors = {key: fitted[_name(key)] for key in keys}
        name = f"residuals-{fingerprint}.npz"
        for folder in (shipped, cache):
            if folder is not None and (folder / name).is_file():
                with np.load(folder / name, allow_pickle=False) as stored:
                    residuals = stored["residuals"]
                return cls(columns=columns, keys=keys, regressors=regressors, residuals=residuals)
        base = (
            cls._fit(
                tasks[~own],
                accuracy[~own].dropna(axis=1, how="all"),
                folds=folds,
                seed=seed,
                cache=cache,
                shipped=shipped,
            )
            if calibrating
            else None
        )
        if base is not None and base.keys == keys and base.columns == columns:
            # The own runs as one more held-out group: residuals of the KB's regressors.
            unseen = np.column_stack([base.regressors[key].predict(X[own]) for key in keys])
            residuals = np.full((len(tasks), len(keys)), np.nan)
            residuals[~own] = base.residuals
            residuals[own] = accuracy[own].to_numpy(dtype=np.float64) - unseen
        else:
            groups = tasks["domain"].to_numpy()
            residuals = _grouped_residuals(
                X, accuracy=accuracy, keys=keys, groups=groups, folds=folds, seed=seed
            )
        if cache is not None:
            cache.mkdir(parents=True, exist_ok=True)
            np.savez(cache / name, residuals=residuals)
        return cls(columns=columns, keys=keys, regressors=regressors, residuals=residuals)

    def features(self, values: dict[str, float] | pd.DataFrame) -> np.ndarray:
        """The model's input matrix from meta-feature values (names with or without ``mf.``)."""
        if isinstance(values, pd.DataFrame):
            return values.reindex(columns=self.columns).to_numpy(dtype=np.float64)
        row = [
            values.get(c, values.get(c.removeprefix(FEATURE_PREFIX), np.nan)) for c in self.columns
        ]
        return np.asarray([row], dtype=np.float64)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Point predictions ``(rows, len(keys))``, clipped to [0, 1]."""
        with threadpool_limits(limits=1, user_api="openmp"):
            stacked = np.column_stack([self.regressors[key].predict(X) for key in self.keys])
        return np.asarray(np.clip(stacked, 0.0, 1.0))

    def intervals(
        self, predicted: np.ndarray, coverage: float = 0.8
    ) -> tuple[np.ndarray, np.ndarray]:
        """Conformal ``(low, high)`` of the same shape as ``predicted`` (module docstring)."""
        tail = (1.0 - coverage) / 2.0
        low = np.nanquantile(self.residuals, tail, axis=0)
        high = np.nanquantile(self.residuals, 1.0 - tail, axis=0)
        low = np.where(np.isfinite(low), low, -1.0)
        high = np.where(np.isfinite(high), high, 1.0)
        return np.clip(predicted + low, 0.0, 1.0), np.clip(predicted + high, 0.0, 1.0)
