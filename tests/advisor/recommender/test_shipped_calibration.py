"""The files shipped beside the KB match it, so no process recomputes or refits them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor

from advisor.kb.store import SHIPPED, finish, read_kb, write_part
from advisor.recommender import Recommender
from advisor.recommender import choice as choice_module
from advisor.recommender import forest as forest_module
from advisor.recommender import model as model_module
from advisor.recommender.shipped import KINDS, main, shipped_name

from .test_recommender import synthetic_kb, values

STALE = (
    "recomputed: a file shipped beside the KB is stale or missing "
    "(remake them: python -m advisor.recommender.shipped)"
)


def refuse(*_args, **_kwargs):
    raise AssertionError(STALE)


def test_the_shipped_calibration_choice_and_trees_are_current(monkeypatch) -> None:
    monkeypatch.setattr(model_module, "GroupKFold", refuse)
    monkeypatch.setattr(choice_module, "_out_of_fold_leads", refuse)
    monkeypatch.setattr(HistGradientBoostingRegressor, "fit", refuse)
    # Shipped trees are read whatever scikit-learn's release (they predict without it).
    monkeypatch.setattr(forest_module.sklearn, "__version__", "0.0.0-another-release")
    recommender = Recommender(read_kb(), shipped=SHIPPED.parent)
    assert recommender.choice.feature_set in choice_module.CANDIDATES
    assert recommender.choice.residuals.shape == (len(recommender.tasks), 4)
    assert recommender.model.residuals.shape == (
        len(recommender.tasks),
        len(recommender.model.keys),
    )


def test_only_the_current_files_are_shipped() -> None:
    """One file of each kind: a stale one left beside the KB would only cost package size."""
    kinds = sorted(p.name.split("-", 1)[0] for p in SHIPPED.parent.iterdir())
    assert sorted(k for k in kinds if k in KINDS) == sorted(KINDS)


def test_shipped_names_drop_only_the_release() -> None:
    assert shipped_name("forest-ab12-cd34-sklearn1.9.1.npz") == "forest-ab12-cd34.npz"
    assert shipped_name("leads-ab12-cd34-sklearn1.10.0rc1.npz") == "leads-ab12-cd34.npz"
    assert shipped_name("residuals-ab12.npz") == "residuals-ab12.npz"
    assert shipped_name("choice-ab12.json") == "choice-ab12.json"


def test_remade_files_give_the_same_recommendations_without_fitting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    kb = synthetic_kb(n_domains=3, tasks_per_domain=16, seed=7).assign(tuned=False)
    path = tmp_path / "kb" / "kb.parquet"
    write_part(path, kb, 0)
    finish(path, {"made_by": "test"})
    (path.parent / "forest-stale-0000.npz").write_bytes(b"stale")  # an older fit: removed
    assert main([str(path)]) == 0
    printed = capsys.readouterr().out
    shipped = sorted(p.name for p in path.parent.iterdir() if p.name.split("-", 1)[0] in KINDS)
    assert [name.split("-", 1)[0] for name in shipped] == sorted(KINDS)
    assert "forest-stale-0000.npz" not in shipped and "sklearn" not in "".join(shipped)
    assert all(name in printed for name in shipped)
    fresh = Recommender(read_kb(path))
    monkeypatch.setattr(HistGradientBoostingRegressor, "fit", refuse)
    monkeypatch.setattr(model_module, "GroupKFold", refuse)
    monkeypatch.setattr(choice_module, "_out_of_fold_leads", refuse)
    read = Recommender(read_kb(path), shipped=path.parent)
    for shots, distance in [(1, 0.5), (50, 0.3), (50, 1.7)]:
        a = fresh.recommend(values(shots, distance), source="toy")
        b = read.recommend(values(shots, distance), source="toy")
        assert a.model_dump(exclude={"seconds"}) == b.model_dump(exclude={"seconds"})
    np.testing.assert_array_equal(fresh.model.residuals, read.model.residuals)


def test_remaking_from_no_knowledge_base_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(tmp_path / "absent.parquet")]) == 1
    assert "error [kb.not_found]" in capsys.readouterr().err
