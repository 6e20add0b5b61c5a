"""Fitted regressors kept as plain tree arrays: the same predictions, no pickle, no bad file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import sklearn
from sklearn.ensemble import HistGradientBoostingRegressor

from advisor.recommender import Recommender
from advisor.recommender import forest as forest_module
from advisor.recommender import model as model_module
from advisor.recommender.forest import (
    TreeEnsemble,
    load_ensembles,
    save_ensembles,
    stored_or_fitted,
)
from advisor.recommender.model import boosted_regressor, fit_tag

from .test_recommender import synthetic_kb, values

pytestmark = pytest.mark.usefixtures("quick_boosting")  # tests/conftest.py says why


def data(rows: int, seed: int, undefined: float = 0.15) -> tuple[np.ndarray, np.ndarray]:
    """Inputs with undefined entries (some columns never defined in training), a target."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, 6))
    X[rng.random(X.shape) < undefined] = np.nan
    y = np.nan_to_num(X[:, 0]) + np.nan_to_num(X[:, 1]) ** 2 + 0.1 * rng.normal(size=rows)
    return X, y


@pytest.fixture(scope="module")
def fitted() -> HistGradientBoostingRegressor:
    return boosted_regressor(0).fit(*data(400, 0))


def test_predicts_exactly_what_scikit_learn_predicts(fitted) -> None:
    X, _ = data(300, 1, undefined=0.3)
    X[:, 5] = np.nan  # a column undefined throughout: every split on it sends rows one way
    ensemble = TreeEnsemble.from_regressor(fitted)
    np.testing.assert_array_equal(ensemble.predict(X), fitted.predict(X))
    assert len(ensemble.roots) == fitted.n_iter_


def test_saved_and_loaded_without_pickle(fitted, tmp_path: Path) -> None:
    X, _ = data(50, 2)
    path = tmp_path / "forest-x.npz"
    save_ensembles(path, {"a/b": TreeEnsemble.from_regressor(fitted)})
    with np.load(path, allow_pickle=False) as stored:  # plain arrays only
        assert all(stored[name].dtype != object for name in stored.files)
    loaded = load_ensembles(path)
    assert loaded is not None and list(loaded) == ["a/b"]
    np.testing.assert_array_equal(loaded["a/b"].predict(X), fitted.predict(X))
    with pytest.raises(ValueError, match="6 columns"):
        loaded["a/b"].predict(X[:, :5])


def test_a_damaged_file_is_never_used(fitted, tmp_path: Path) -> None:
    path = tmp_path / "forest-x.npz"
    ensemble = TreeEnsemble.from_regressor(fitted)
    save_ensembles(path, {"m": ensemble})
    with np.load(path, allow_pickle=False) as stored:
        arrays = {name: stored[name] for name in stored.files}
    cycle = arrays["0.left"].copy()
    inner = np.flatnonzero(~arrays["0.leaf"])
    cycle[inner[1]] = inner[0]  # a child pointing back up would loop for ever
    for damage in (
        {"0.left": cycle},
        {"0.feature": np.where(arrays["0.leaf"], 0, 99)},  # a column the model never had
        {"0.value": arrays["0.value"][:-1]},  # arrays of different lengths
        {"manifest": np.array('{"format": "something else", "names": ["m"]}')},
    ):
        np.savez(path, **{**arrays, **damage})
        assert load_ensembles(path) is None
    path.write_bytes(b"not a zip file")
    assert load_ensembles(path) is None
    assert load_ensembles(tmp_path / "absent.npz") is None


def test_stored_or_fitted_fits_once_and_prunes_old_files(tmp_path: Path) -> None:
    X, y = data(200, 3)
    calls = []

    def fit() -> dict[str, HistGradientBoostingRegressor]:
        calls.append(1)
        return {"only": boosted_regressor(0).fit(X, y)}

    first = stored_or_fitted("forest-1", ["only"], fit, cache=tmp_path)
    again = stored_or_fitted("forest-1", ["only"], fit, cache=tmp_path)
    assert len(calls) == 1 and isinstance(again["only"], TreeEnsemble)
    np.testing.assert_array_equal(again["only"].predict(X), first["only"].predict(X))
    stored_or_fitted("forest-1", ["only", "another"], fit, cache=tmp_path)
    assert len(calls) == 2  # a file without the names asked for is not trusted
    for n in range(2, 2 + forest_module.KEEP + 2):
        stored_or_fitted(f"forest-{n}", None, fit, cache=tmp_path)
    assert len(list(tmp_path.glob("forest-*.npz"))) == forest_module.KEEP


def test_a_cached_fit_is_the_releases_a_shipped_one_any_releases(
    tmp_path: Path, monkeypatch
) -> None:
    X, y = data(200, 3)
    calls = []

    def fit() -> dict[str, HistGradientBoostingRegressor]:
        calls.append(1)
        return {"only": boosted_regressor(0).fit(X, y)}

    cache, shipped = tmp_path / "cache", tmp_path / "shipped"
    stored_or_fitted("forest-1", ["only"], fit, cache=cache)
    [cached] = cache.glob("forest-*.npz")
    assert cached.name == f"forest-1-sklearn{sklearn.__version__}.npz"
    shipped.mkdir()
    cached.rename(shipped / "forest-1.npz")  # as python -m advisor.recommender.shipped names it
    monkeypatch.setattr(forest_module.sklearn, "__version__", "9.9.9")
    stored_or_fitted("forest-1", ["only"], fit, cache=cache, shipped=shipped)
    assert len(calls) == 1  # the shipped trees, whatever the release
    stored_or_fitted("forest-1", ["only"], fit, cache=cache)
    assert len(calls) == 2  # another release's process does not read the cache's old trees
    assert (cache / "forest-1-sklearn9.9.9.npz").is_file()


def test_a_recommender_read_from_the_cache_recommends_the_same(tmp_path: Path, monkeypatch) -> None:
    kb = synthetic_kb(n_domains=4, tasks_per_domain=24)
    first = Recommender(kb, cache=tmp_path)
    assert len(list(tmp_path.glob("forest-*.npz"))) == 1
    assert len(list(tmp_path.glob("leads-*.npz"))) == 1

    def refuse(*_args, **_kwargs):
        raise AssertionError("refitted although the fitted regressors were kept")

    monkeypatch.setattr(HistGradientBoostingRegressor, "fit", refuse)
    again = Recommender(kb, cache=tmp_path)
    for shots, distance in [(1, 0.5), (50, 0.3), (50, 1.7), (10, 1.0)]:
        a = first.recommend(values(shots, distance), source="toy")
        b = again.recommend(values(shots, distance), source="toy")
        assert a.model_dump(exclude={"seconds"}) == b.model_dump(exclude={"seconds"})


def test_the_cache_name_follows_the_regressor_settings(monkeypatch) -> None:
    before = fit_tag(0)
    original = model_module.boosted_regressor
    monkeypatch.setattr(
        model_module, "boosted_regressor", lambda seed: original(seed).set_params(max_iter=10)
    )
    assert fit_tag(0) != before  # other settings grow other trees: never read the old ones
