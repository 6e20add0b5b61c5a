"""The family choice: leads over the anchor family, inputs chosen by grouped cross-validation."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from advisor.recommender import choice as choice_module
from advisor.recommender.choice import FamilyChoice, _one_standard_error, choice_inputs
from advisor.recommender.model import task_table

pytestmark = pytest.mark.usefixtures("quick_boosting")  # tests/conftest.py says why

FAMILIES = ["transfer", "meta", "scratch"]


def true_family_accuracy(modality: str, shots: int) -> dict[str, float]:
    """Meta leads on images with one or two shots, scratch on vectors with 20+ shots."""
    few, many = shots <= 2, shots >= 20
    return {
        "transfer": 0.80,
        "meta": 0.85 if modality == "image" and few else 0.76,
        "scratch": 0.86 if modality == "vector" and many else 0.70,
    }


def descriptor_kb(n_domains: int = 8, tasks_per_domain: int = 36, seed: int = 0) -> pd.DataFrame:
    """Tasks whose best family depends on modality and shots; domains differ in difficulty,
    and two meta-features are pure noise that differs between domains."""
    rng = np.random.default_rng(seed)
    rows = []
    for d in range(n_domains):
        modality = "image" if d % 2 == 0 else "vector"
        difficulty, drift = rng.uniform(-0.1, 0.1), rng.normal(0, 3)
        for t in range(tasks_per_domain):
            shots = int([1, 2, 5, 10, 20, 50][t % 6])
            base = {
                "task_id": f"d{d}/t{t}",
                "domain": f"d{d}",
                "source": "toy",
                "kind": "cross",
                "modality": modality,
                "ways": 5,
                "shots": shots,
                "queries": 15,
                "seed": t,
                "mf.shots_min": shots,
                "mf.nr_class": 5,
                "mf.proxy_a_distance": drift + rng.normal(0, 0.1),
                "mf.logme": drift * 2 + rng.normal(),
            }
            for family, accuracy in true_family_accuracy(modality, shots).items():
                measured = accuracy + difficulty + rng.normal(0, 0.01)
                rows.append({**base, "family": family, "variant": "v", "accuracy": measured})
    return pd.DataFrame(rows)


def fit(kb: pd.DataFrame, **kwargs) -> FamilyChoice:
    tasks, accuracy = task_table(kb)
    family_accuracy = accuracy.T.groupby(level=0).max().T[FAMILIES]
    return FamilyChoice.fit(tasks, family_accuracy, "transfer", **kwargs)


def query(modality: str | None, shots: int, distance: float = 0.0) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "modality": modality,
                "mf.shots_min": shots,
                "mf.nr_class": 5,
                "mf.proxy_a_distance": distance,
                "mf.logme": 0.0,
            }
        ]
    )


@pytest.fixture(scope="module")
def chosen() -> FamilyChoice:
    return fit(descriptor_kb())


@pytest.mark.parametrize(
    ("modality", "shots", "family"),
    [
        ("image", 1, "meta"),
        ("image", 20, "transfer"),
        ("vector", 1, "transfer"),
        ("vector", 50, "scratch"),
    ],
)
def test_chooses_the_family_that_leads(chosen, modality, shots, family) -> None:
    assert chosen.choose(query(modality, shots)) == [family]
    leads = chosen.leads(query(modality, shots)).iloc[0]
    assert leads["transfer"] == 0.0  # the anchor family's lead over itself
    assert leads[family] == leads.max()


def test_keeps_the_smallest_inputs_that_carry_over_to_new_domains(chosen) -> None:
    # The noise meta-features drift by domain: they cannot help on a held-out domain.
    assert chosen.feature_set in {"modality and shots", "descriptors"}
    assert "logme" not in chosen.inputs
    assert "proxy_a_distance" not in chosen.inputs
    assert set(chosen.cv_regret) == set(choice_module.CANDIDATES)
    assert min(chosen.cv_regret.values()) < 0.01  # nearly every held-out choice right


def test_uses_similarity_when_it_decides() -> None:
    """On the recommender's synthetic KB scratch wins far from the source: distance matters."""
    from tests.advisor.recommender.test_recommender import synthetic_kb

    kb = synthetic_kb()
    tasks, accuracy = task_table(kb)
    families = accuracy.T.groupby(level=0).max().T
    model = FamilyChoice.fit(tasks, families, "transfer")
    assert "proxy_a_distance" in model.inputs
    assert model.choose(query(None, 50, distance=1.7)) == ["scratch"]
    assert model.choose(query(None, 50, distance=0.3)) == ["transfer"]


def test_cross_validation_scores_are_kept_and_read_back(tmp_path, monkeypatch) -> None:
    kb = descriptor_kb(n_domains=4, tasks_per_domain=12)
    first = fit(kb, cache=tmp_path)
    stored = list(tmp_path.glob("choice-*.json"))
    assert len(stored) == 1
    kept = json.loads(stored[0].read_text())
    assert set(kept["scores"]) == set(first.cv_regret)
    assert np.array(kept["residuals"], dtype=float).shape == first.residuals.shape

    def refuse(*_args, **_kwargs):
        raise AssertionError("the stored scores should have been used")

    monkeypatch.setattr(choice_module, "_out_of_fold_leads", refuse)
    again = fit(kb, cache=tmp_path)
    assert again.cv_regret == first.cv_regret and again.inputs == first.inputs
    np.testing.assert_allclose(again.residuals, first.residuals, atol=1e-6)
    stored[0].write_text("{not json")  # damaged: computed again
    monkeypatch.undo()
    assert fit(kb, cache=tmp_path).cv_regret == first.cv_regret


def test_p_best_follows_the_leads_and_the_errors_of_similar_tasks(chosen) -> None:
    p_best = chosen.p_best(query("image", 1))
    assert p_best.sum() == pytest.approx(1.0)
    assert chosen.families[int(np.argmax(p_best))] == "meta"
    # The errors were measured on held-out domains: small on this clean KB, so the chosen
    # family's probability is high.
    assert p_best[chosen.families.index("meta")] > 0.9
    # Errors come from similar tasks: make those of vector tasks huge, and only vector
    # tasks' probabilities spread out.
    vectors = chosen.X[:, chosen.inputs.index("image")] == 0.0
    noisy = FamilyChoice(**{**chosen.__dict__, "residuals": chosen.residuals.copy()})
    rng = np.random.default_rng(0)
    noisy.residuals[vectors] += rng.normal(0, 0.5, noisy.residuals[vectors].shape)
    noisy.residuals[:, chosen.families.index("transfer")] = 0.0
    assert noisy.p_best(query("image", 1))[chosen.families.index("meta")] > 0.9
    assert noisy.p_best(query("vector", 50))[chosen.families.index("scratch")] < 0.7


def test_variants_are_chosen_by_their_lead_within_the_family() -> None:
    """Variant b of transfer loses on average but leads its sibling a with 10+ shots."""
    kb = descriptor_kb(n_domains=6, tasks_per_domain=24)
    transfer = kb[kb["family"] == "transfer"]
    sibling = transfer.assign(
        variant="b",
        accuracy=transfer["accuracy"] + np.where(transfer["shots"] >= 10, 0.03, -0.08),
    )
    kb = pd.concat([kb, sibling], ignore_index=True)
    tasks, accuracy = task_table(kb)
    families = accuracy.T.groupby(level=0).max().T[FAMILIES]
    model = FamilyChoice.fit(tasks, families, "transfer", learner_accuracy=accuracy)
    assert model.references["transfer"] == "v"  # the better record
    assert model.choose_variant(query("vector", 1), "transfer") == ["v"]
    assert model.choose_variant(query("vector", 20), "transfer") == ["b"]
    assert model.choose_variant(query("vector", 20), "meta") == ["v"]  # a single variant
    leads = model.variant_leads(query("image", 20), "transfer").iloc[0]
    assert leads["v"] == 0.0 and leads["b"] == pytest.approx(0.03, abs=0.01)


def test_one_standard_error_rule_prefers_the_smaller_set() -> None:
    order = ["small", "medium", "large"]
    scores = {"small": (0.012, 0.001), "medium": (0.015, 0.001), "large": (0.0115, 0.001)}
    assert _one_standard_error(scores, order) == "small"  # within one SE of the best
    scores["small"] = (0.0130, 0.001)
    assert _one_standard_error(scores, order) == "large"
    assert _one_standard_error({}, order) == "small"


def test_inputs_map_modality_and_take_logarithms() -> None:
    rows = pd.concat([query("image", 4), query("vector", 1), query(None, 2)], ignore_index=True)
    table = choice_inputs(rows, ("image", "log_shots", "log_ways"))
    assert table["image"].tolist()[:2] == [1.0, 0.0] and np.isnan(table["image"].iloc[2])
    assert table["log_shots"].tolist() == pytest.approx(np.log([4, 1, 2]).tolist())
    assert table["log_ways"].tolist() == pytest.approx([np.log(5)] * 3)


def test_task_table_takes_the_modality_from_rows_or_domains() -> None:
    rows = pd.DataFrame(
        [
            {"task_id": "a", "domain": "digits", "family": "meta", "variant": "v", "accuracy": 1},
            {
                "task_id": "b",
                "domain": "tabular:0:synthetic_both",
                "family": "meta",
                "variant": "v",
                "accuracy": 1,
            },
            {"task_id": "c", "domain": "mine", "family": "meta", "variant": "v", "accuracy": 1},
            {
                "task_id": "d",
                "domain": "mine",
                "family": "meta",
                "variant": "v",
                "accuracy": 1,
                "modality": "vector",
            },
        ]
    ).assign(source="s", kind="cross", ways=2, shots=1, queries=1, seed=0)
    tasks, _ = task_table(rows)
    modality = tasks["modality"]
    assert modality.iloc[[0, 1, 3]].tolist() == ["image", "vector", "vector"]
    assert pd.isna(modality.iloc[2])  # neither the rows nor the domain say


def test_p_best_splits_ties_between_level_families(chosen, monkeypatch) -> None:
    """With every lead at 0 and no error, the families are level: each gets the same share."""
    level = FamilyChoice(**{**chosen.__dict__, "residuals": np.zeros_like(chosen.residuals)})
    monkeypatch.setattr(
        level, "leads", lambda tasks: pd.DataFrame(0.0, index=tasks.index, columns=FAMILIES)
    )
    assert level.p_best(query("image", 5)).tolist() == pytest.approx([1 / 3] * 3)


def test_a_family_without_a_record_is_never_chosen() -> None:
    kb = descriptor_kb(n_domains=4, tasks_per_domain=12)
    meta = kb.index[kb["family"] == "meta"]
    kb.loc[meta[1:], "accuracy"] = np.nan  # meta failed on every task but one
    model = fit(kb)
    leads = model.leads(query("image", 1)).iloc[0]
    assert leads["meta"] == -np.inf and leads["transfer"] == 0.0
    assert model.choose(query("image", 1)) != ["meta"]
    assert model.p_best(query("image", 1))[model.families.index("meta")] == 0.0


def test_out_of_fold_regret_is_that_of_the_choice_the_errors_imply() -> None:
    # Families: transfer (the anchor), meta, scratch. Errors = measured − predicted lead.
    accuracy = np.array([[0.80, 0.90, 0.70], [0.80, 0.75, 0.85], [0.80, np.nan, 0.60]])
    errors = np.array(
        [
            [0.0, 0.15, -0.05],  # predicted leads 0, −0.05, −0.05: transfer, 10 points lost
            [0.0, -0.10, 0.00],  # predicted leads 0, +0.05, +0.05: meta first, 10 lost
            [0.0, np.nan, 0.00],  # meta could not run: no out-of-fold choice
        ]
    )
    regret = choice_module._out_of_fold_regret(accuracy, errors, anchor=0)
    np.testing.assert_allclose(regret[:2], [0.10, 0.10])
    assert np.isnan(regret[2])
    right = choice_module._out_of_fold_regret(accuracy, np.zeros_like(accuracy), anchor=0)
    np.testing.assert_allclose(right[:2], [0.0, 0.0])  # exact leads: the best family


def test_track_record_is_the_out_of_fold_choice_on_similar_tasks(chosen) -> None:
    record = chosen.track_record(query("image", 1))
    assert record is not None
    assert record.tasks >= int(0.1 * len(chosen.X))  # the NEAREST share (ties kept)
    # The errors were measured on held-out domains of a clean KB: few points lost.
    assert 0.0 <= record.mean_regret < 1.0 and record.best_share > 0.5
    # Make the out-of-fold choice lose 5 points on vector tasks only: only their record says so.
    vectors = chosen.X[:, chosen.inputs.index("image")] == 0.0
    worse = FamilyChoice(**{**chosen.__dict__, "out_of_fold_regret": np.where(vectors, 0.05, 0)})
    on_vectors = worse.track_record(query("vector", 50))
    assert on_vectors is not None
    assert on_vectors.mean_regret == pytest.approx(5.0) and on_vectors.best_share == 0.0
    on_images = worse.track_record(query("image", 1))
    assert on_images is not None
    assert on_images.mean_regret == 0.0 and on_images.best_share == 1.0
