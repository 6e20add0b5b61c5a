"""The files shipped beside the knowledge base match it, so no process recomputes them."""

from __future__ import annotations

from advisor.kb.store import SHIPPED, read_kb
from advisor.recommender import Recommender
from advisor.recommender import choice as choice_module
from advisor.recommender import model as model_module


def test_the_shipped_calibration_and_choice_files_are_current(monkeypatch) -> None:
    def refuse(*_args, **_kwargs):
        raise AssertionError("recomputed: the file shipped beside the KB is stale or missing")

    monkeypatch.setattr(model_module, "GroupKFold", refuse)
    monkeypatch.setattr(choice_module, "_out_of_fold_leads", refuse)
    recommender = Recommender(read_kb(), shipped=SHIPPED.parent)
    assert recommender.choice.feature_set in choice_module.CANDIDATES
    assert recommender.choice.residuals.shape == (len(recommender.tasks), 4)
    assert recommender.model.residuals.shape == (
        len(recommender.tasks),
        len(recommender.model.keys),
    )
