"""The recommender's fitted regressors, kept on disk and read back without pickle.

Fitting the recommender's regressors (the meta-model's and the family choice's, some twenty
:class:`~sklearn.ensemble.HistGradientBoostingRegressor` of 300 trees) takes most of the
seconds a fresh process spends before its first recommendation — every ``advisor recommend``
on the command line, every service worker. Once fitted, each is a sum of trees, held as plain
arrays by :class:`learners.trees.TreeEnsemble` (the formula and the rules of a split are
there), which predicts exactly what scikit-learn predicts. :func:`save_ensembles` and
:func:`load_ensembles` keep named ensembles in one ``.npz`` file, read with
``allow_pickle=False``: a damaged or foreign file is refused and the caller fits again.
:func:`stored_or_fitted` is what the recommender calls: the stored ensembles if a file of that
name holds them, else a fit, kept for the next process.

**Shipped and cached files.** A fit cached under ``ADVISOR_HOME`` is named with scikit-learn's
version (``forest-<data>-<settings>-sklearn<version>.npz``): another release may grow other
trees, so a process on it fits again rather than read trees it would not have grown. The fit
shipped beside the built-in knowledge base (``forest-<data>-<settings>.npz``, written by
:mod:`advisor.recommender.shipped`) is read whatever the installed release: its trees are plain
arrays that :class:`~learners.trees.TreeEnsemble` predicts without scikit-learn, so every
installation recommends from the same trees, and none spends the first recommendation's tens of
seconds fitting them.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np
import sklearn
from sklearn.ensemble import HistGradientBoostingRegressor

from learners.trees import NODE_DTYPES, TreeEnsemble

_FORMAT = "automl-advisor/tree-ensembles"


class Regressor(Protocol):
    """What the recommender asks of a fitted regressor."""

    def predict(self, X: np.ndarray) -> np.ndarray:
        """One prediction per row of ``X``."""
        ...


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
        for field, values in ensembles[name].arrays().items():
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
                parts = {field: stored[f"{index}.{field}"] for field in NODE_DTYPES}
                ensembles[str(name)] = TreeEnsemble.checked(
                    float(baselines[index]), int(widths[index]), parts
                )
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
        return None
    return ensembles


KEEP = 4
"""Ensemble files kept per cache folder and kind (the newest): a knowledge base that grows with
every regret check leaves one file per state behind."""


def shipped_file(name: str) -> str:
    """The file of fit ``name`` shipped beside a knowledge base: ``<name>.npz``."""
    return f"{name}.npz"


def cached_file(name: str) -> str:
    """The file of fit ``name`` in a cache: ``<name>-sklearn<version>.npz``."""
    return f"{name}-sklearn{sklearn.__version__}.npz"


def stored_or_fitted(
    name: str,
    expected: list[str] | None,
    fit: Callable[[], dict[str, HistGradientBoostingRegressor]],
    *,
    cache: Path | None,
    shipped: Path | None = None,
) -> dict[str, Regressor]:
    """The ensembles of fit ``name`` shipped or cached, else ``fit()``'s, kept in ``cache``.

    ``name`` (``<kind>-…``, no suffix) must identify everything the fit depends on but the
    library's release (data, settings); the files are :func:`shipped_file` in ``shipped`` and
    :func:`cached_file` in ``cache`` (module docstring). A stored file that does not hold
    exactly the ``expected`` names (if given) is ignored. A cache that cannot be written
    (read-only, full) only costs the next process the same fit. Older files of the same kind
    beyond the newest :data:`KEEP` are removed.
    """
    for path in (
        None if shipped is None else shipped / shipped_file(name),
        None if cache is None else cache / cached_file(name),
    ):
        stored = None if path is None else load_ensembles(path)
        if stored is not None and (expected is None or sorted(stored) == sorted(expected)):
            return dict(stored)
    fitted = fit()
    if cache is not None:
        try:
            save_ensembles(
                cache / cached_file(name),
                {k: TreeEnsemble.from_regressor(r) for k, r in fitted.items()},
            )
            _prune(cache, name.split("-", 1)[0])
        except OSError:
            pass  # fitted again next time
    return dict(fitted)


def _prune(folder: Path, kind: str) -> None:
    files = sorted(folder.glob(f"{kind}-*.npz"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in files[KEEP:]:
        old.unlink(missing_ok=True)
