"""The recommender on a synthetic knowledge base whose right answers are known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from advisor.recommender import MetaModel, Recommender, task_table
from advisor.schemas import Recommendation

pytestmark = pytest.mark.usefixtures("quick_boosting")  # tests/conftest.py says why

VARIANTS = [
    ("transfer", "finetune"),
    ("transfer", "linear_probe"),
    ("meta", "protonet"),
    ("hybrid", "protomaml"),
    ("scratch", "logreg"),
]


def true_accuracy(shots: float, distance: float) -> dict[tuple[str, str], float]:
    """Meta wins with few shots; transfer with many shots near the source; scratch when far."""
    log_shots = np.log(shots)
    return {
        ("transfer", "finetune"): 0.55 + 0.12 * log_shots - 0.25 * distance,
        ("transfer", "linear_probe"): 0.50 + 0.10 * log_shots - 0.25 * distance,
        ("meta", "protonet"): 0.80 + 0.02 * log_shots - 0.10 * distance,
        ("hybrid", "protomaml"): 0.70 + 0.06 * log_shots - 0.15 * distance,
        ("scratch", "logreg"): 0.30 + 0.13 * log_shots,
    }


def synthetic_kb(n_domains: int = 8, tasks_per_domain: int = 40, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for d in range(n_domains):
        distance_centre = rng.uniform(0.2, 1.8)
        for t in range(tasks_per_domain):
            shots = int(rng.choice([1, 2, 5, 10, 20, 50]))
            ways = int(rng.choice([2, 5, 10]))
            distance = float(np.clip(distance_centre + rng.normal(0, 0.1), 0, 2))
            base = {
                "task_id": f"d{d}/t{t}",
                "domain": f"d{d}",
                "source": "toy",
                "kind": "cross",
                "ways": ways,
                "shots": shots,
                "queries": 15,
                "seed": t,
                "mf.shots_min": shots,
                "mf.shots_median": shots,
                "mf.nr_class": ways,
                "mf.proxy_a_distance": distance,
                "mf.noise": rng.normal(),
            }
            for (family, variant), accuracy in true_accuracy(shots, distance).items():
                measured = float(np.clip(accuracy + rng.normal(0, 0.02), 0, 1))
                rows.append({**base, "family": family, "variant": variant, "accuracy": measured})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def recommender() -> Recommender:
    return Recommender(synthetic_kb())


def values(shots: float, distance: float, ways: int = 5) -> dict[str, float]:
    return {
        "shots_min": shots,
        "shots_median": shots,
        "nr_class": ways,
        "proxy_a_distance": distance,
        "noise": 0.0,
    }


@pytest.mark.parametrize(
    ("shots", "distance", "family"),
    [(1, 0.5, "meta"), (2, 1.0, "meta"), (50, 0.3, "transfer"), (50, 1.7, "scratch")],
)
def test_recommends_the_family_that_is_really_best(recommender, shots, distance, family) -> None:
    rec = recommender.recommend(values(shots, distance), source="toy")
    assert rec.family == family
    truth = true_accuracy(shots, distance)
    best_variant = max((k for k in truth if k[0] == family), key=truth.get)
    assert rec.variant == best_variant[1]
    assert rec.explanation.in_range


def test_predictions_intervals_and_probabilities(recommender) -> None:
    rec = recommender.recommend(values(1, 0.5), source="toy")
    assert set(rec.predicted) == {"transfer", "meta", "hybrid", "scratch"}
    for family, prediction in rec.predicted.items():
        assert prediction.low <= prediction.accuracy <= prediction.high
        truth = max(v for k, v in true_accuracy(1, 0.5).items() if k[0] == family)
        assert abs(prediction.accuracy - truth) < 0.08
    assert sum(rec.p_best.values()) == pytest.approx(1.0)
    assert rec.p_best["meta"] == max(rec.p_best.values())
    assert rec.seconds < 1.0
    assert rec.model_validate_json(rec.model_dump_json()) == rec


def test_explanation_names_drivers_neighbours_and_risks(recommender) -> None:
    rec = recommender.recommend(values(1, 0.5), source="toy")
    assert rec.explanation.drivers and rec.explanation.drivers[0].name == "shots_min"
    assert all(d.name != "noise" for d in rec.explanation.drivers[:1])
    neighbours = rec.explanation.neighbours
    assert len(neighbours) == 5 and neighbours[0].distance <= neighbours[-1].distance
    one_shot = next(r for r in rec.explanation.risks if "smallest class" in r)
    assert "can only validate on augmented copies" in one_shot
    two = recommender.recommend(values(2, 0.5), source="toy").explanation.risks
    two_shots = next(r for r in two if "smallest class" in r)  # real held-out examples
    assert "2 folds, each holding one of them out" in two_shots and "augmented" not in two_shots
    far = recommender.recommend(values(20, 1.95), source="toy")
    assert any("Negative transfer" in risk for risk in far.explanation.risks)


def test_out_of_range_falls_back_to_the_documented_prior(recommender) -> None:
    rec = recommender.recommend(values(500, 0.2, ways=100), source="toy")
    assert not rec.explanation.in_range
    assert rec.explanation.fallback and "prior" in rec.explanation.fallback
    assert rec.family == "transfer" and rec.variant == "finetune"  # many shots, near source
    few = recommender.recommend(values(3, 9.0, ways=100), source="toy")
    assert few.family == "meta" and not few.explanation.in_range


def test_the_out_of_range_risk_names_what_is_out_of_range(recommender) -> None:
    """Twelve classes, where the KB measured 2 to 10, close to its tasks otherwise: the risk
    says so, and does not blame a distance within the limit (it once always did)."""
    rec = recommender.recommend(values(5, 0.5, ways=12), source="toy")
    assert not rec.explanation.in_range
    [outside] = [r for r in rec.explanation.risks if "outside the range" in r]
    assert "(12 classes, where it measured 2 to 10)" in outside
    assert "distance" not in outside
    far = recommender.recommend(values(500, 9.0, ways=100), source="toy")
    [both] = [r for r in far.explanation.risks if "outside the range" in r]
    assert "its nearest measured task lies at distance" in both
    assert "100 classes, where it measured 2 to 10" in both
    assert "500 examples per class (median), where it measured 1 to 50" in both


def test_a_table_from_a_source_the_kb_never_measured_tables_with_is_out_of_range(
    recommender, monkeypatch
) -> None:
    """The KB's tables are synthetic, each from its own source: a table from another source is
    a real one, however near its meta-features, and the prior decides."""
    tasks = recommender.tasks.copy()
    tasks["modality"] = "vector"
    monkeypatch.setattr(recommender, "tasks", tasks)
    near = values(5, 0.5)
    measured = recommender.recommend(near, source="toy", modality="vector")
    assert measured.explanation.in_range
    real = recommender.recommend(near, source="my-table-source", modality="vector")
    assert not real.explanation.in_range
    assert (real.family, real.variant) == ("scratch", "logreg")
    [outside] = [r for r in real.explanation.risks if "outside the range" in r]
    assert "a table from the source 'my-table-source'" in outside
    assert "synthetic ones measured with their own sources (toy)" in outside
    assert "distance" not in outside  # it lies among the KB's tasks: the source is the reason
    images = recommender.recommend(near, source="my-image-source", modality="image")
    assert not any("table from the source" in r for r in images.explanation.risks)
    tasks["kind"] = "local"  # this installation's own runs are not the KB's measurements
    assert recommender._unmeasured_source("toy", "vector") == []  # no KB table: distance decides
    tasks.loc[tasks.index[:5], "kind"] = "cross"
    assert recommender._unmeasured_source("toy", "vector") == []
    assert recommender._unmeasured_source("other", "vector") != []
    untaken = recommender.recommend(
        near, source="glyphs", modality="vector", mismatch="it takes images"
    )
    [outside] = [r for r in untaken.explanation.risks if "outside the range" in r]
    assert "a table that the source 'glyphs' cannot take" in outside
    assert "from the source" not in outside


@pytest.mark.parametrize(
    ("shots", "distance"), [(3, 0.2), (500, 0.2), (500, 9.0)], ids=["few", "near", "far"]
)
def test_the_prior_for_a_table_is_logistic_regression(recommender, shots, distance) -> None:
    table = recommender.recommend(
        values(shots, distance, ways=100), source="toy", modality="vector"
    )
    assert not table.explanation.in_range
    assert (table.family, table.variant) == ("scratch", "logreg")
    assert table.explanation.fallback and "a table" in table.explanation.fallback


def test_the_prior_trains_a_small_network_from_scratch_on_images(recommender) -> None:
    # Far from the source with many shots: scratch, and on images a network, not a linear model.
    far = recommender.recommend(values(500, 9.0, ways=100), source="toy", modality="image")
    assert (far.family, far.variant) == ("scratch", "cnn")
    near = recommender.recommend(values(500, 0.2, ways=100), source="toy", modality="image")
    assert (near.family, near.variant) == ("transfer", "finetune")


def test_grouped_conformal_intervals_cover_new_domains() -> None:
    """80 % intervals fitted without a domain cover about 80 % of that domain's outcomes."""
    kb = synthetic_kb(n_domains=10, seed=1)
    covered = []
    for held in ("d0", "d5"):
        model = MetaModel.fit(kb[kb["domain"] != held])
        tasks, accuracy = task_table(kb[kb["domain"] == held])
        predicted = model.predict(model.features(tasks))
        low, high = model.intervals(predicted)
        truth = accuracy[model.keys].to_numpy()
        covered.append(((low <= truth) & (truth <= high)).mean())
    assert np.mean(covered) >= 0.7


def test_leave_one_domain_out_evaluation_beats_the_baselines() -> None:
    from advisor.kb.evaluate import evaluate, markdown

    per_domain, overall = evaluate(synthetic_kb(n_domains=4, tasks_per_domain=25, seed=2))
    table = overall.set_index("method")
    assert set(table.index) >= {
        "advisor",
        "always transfer",
        "always meta",
        "single best",
        "rule of thumb",
        "random",
    }
    assert table.loc["advisor", "mean regret"] < table.loc["always transfer", "mean regret"]
    assert table.loc["advisor", "mean regret"] < table.loc["random", "mean regret"]
    assert table.loc["advisor", "spearman"] > 0.8
    # A family's accuracy is its best variant's, so losing at the family level costs no more.
    assert (table["family regret"] <= table["mean regret"] + 1e-9).all()
    assert set(per_domain["domain"]) == {f"d{i}" for i in range(4)}
    assert "| advisor |" in markdown(overall)


def test_evaluation_folds_in_worker_processes_give_the_same_tables() -> None:
    from advisor.kb.evaluate import evaluate

    kb = synthetic_kb(n_domains=3, tasks_per_domain=12, seed=4)
    alone = evaluate(kb, held_out=["d0", "d2"])
    shared = evaluate(kb, held_out=["d2", "d0"], workers=2)
    for one, other in zip(alone, shared, strict=True):
        pd.testing.assert_frame_equal(one, other)
    assert set(alone[0]["domain"]) == {"d0", "d2"}


def test_a_source_that_cannot_take_the_data_leaves_only_scratch(recommender) -> None:
    # The predictions favour meta at 1 shot from a near source, but the source cannot run.
    reason = "The source takes image inputs; only scratch can run."
    rec = recommender.recommend(values(shots=1, distance=0.1), source="syn", mismatch=reason)
    assert rec.family == "scratch"
    assert rec.p_best["scratch"] == 1.0
    assert sum(rec.p_best.values()) == 1.0
    assert rec.explanation.risks[0] == reason
    assert rec.runnable == ["scratch"] and not rec.can_run("meta")
    plain = recommender.recommend(values(shots=1, distance=0.1), source="syn")
    assert plain.runnable == ["transfer", "meta", "hybrid", "scratch"]
    # No other family can run: there is no runner-up to compare with, drive from, or check.
    assert rec.explanation.runner_up is None and rec.explanation.drivers == []
    assert "points against" not in rec.explanation.summary
    assert rec.explanation.in_range and rec.explanation.fallback is None
    # Out of range the family is still forced, but the prior picks its variant, and says so.
    far = recommender.recommend(
        values(500, 0.2, ways=100), source="syn", mismatch=reason, modality="image"
    )
    assert (far.family, far.variant) == ("scratch", "cnn") and not far.explanation.in_range
    assert far.explanation.fallback and "the only family that can run" in far.explanation.fallback
    outside = next(r for r in far.explanation.risks if "outside the range" in r)
    assert outside.endswith("a documented prior chose the variant.")


def test_source_mismatch_names_modality_and_width() -> None:
    from advisor.core import source_mismatch
    from learners import load_source

    glyphs = load_source("glyphs")
    assert source_mismatch(glyphs, np.zeros((10, 28, 28))) is None
    assert source_mismatch(glyphs, np.zeros((10, 32, 32, 3))) is None  # resized, averaged
    message = source_mismatch(glyphs, np.zeros((10, 4)))
    assert message is not None
    assert "vector" in message
    assert "only scratch" in message


def test_the_choice_is_made_against_the_learner_with_the_best_record(recommender) -> None:
    keys = recommender.model.keys
    means = recommender.accuracy.mean()
    anchor = keys[recommender.anchor]
    assert anchor == max(keys, key=lambda k: means[k])  # the best record across the KB
    assert recommender.choice.anchor == anchor[0]  # its family is the reference of the leads
    # Each family's reference variant is its own best record; the others lead it or not.
    assert recommender.choice.references["transfer"] == "finetune"
    assert set(recommender.choice.variant_regressors["transfer"]) == {"linear_probe"}


def test_the_recommended_familys_row_is_the_learner_that_will_run(recommender, monkeypatch) -> None:
    model = recommender.model
    predicted = model.predict(model.features(values(50, 0.3)))[0]
    best = max(
        ("finetune", "linear_probe"), key=lambda v: predicted[model.keys.index(("transfer", v))]
    )
    other = "linear_probe" if best == "finetune" else "finetune"
    monkeypatch.setattr(recommender.choice, "choose_variant", lambda _row, _family: [other])
    rec = recommender.recommend(values(50, 0.3), source="toy")
    assert (rec.family, rec.variant) == ("transfer", other)
    shown = rec.predicted["transfer"]
    assert shown.variant == other  # not the family's best-predicted variant
    assert shown.accuracy == pytest.approx(predicted[model.keys.index(("transfer", other))])
    assert f"is predicted to reach {shown.accuracy:.0%}" in rec.explanation.summary


def test_the_summary_says_why_the_family_was_chosen(recommender) -> None:
    rec = recommender.recommend(values(50, 1.7), source="toy")
    assert f"Chosen on {recommender.choice.feature_set}:" in rec.explanation.summary
    assert f"predicted to lead {recommender.choice.anchor}" in rec.explanation.summary


def test_drivers_are_the_inputs_the_choice_decided_on(recommender) -> None:
    rec = recommender.recommend(values(1, 0.5), source="toy")
    shown = {"log_shots": "shots_min", "log_ways": "nr_class"}
    inputs = {shown.get(name, name) for name in recommender.choice.inputs}
    drivers = rec.explanation.drivers
    assert drivers and {d.name for d in drivers} <= inputs
    assert drivers[0].name == "shots_min" and drivers[0].value == 1.0  # in shots, not log
    assert all(d.effect > 0 for d in drivers)
    assert [d.effect for d in drivers] == sorted((d.effect for d in drivers), reverse=True)


def test_runner_up_is_the_next_likeliest_best_and_a_tie_is_said(recommender, monkeypatch) -> None:
    rec = recommender.recommend(values(1, 0.5), source="toy")
    others = {f: p for f, p in rec.p_best.items() if f != rec.family}
    # The likeliest best after meta; where P(best) ties (0 %), the best predicted accuracy.
    assert rec.explanation.runner_up == max(
        others, key=lambda f: (round(others[f], 3), rec.predicted[f].accuracy)
    )
    assert "as likely to be the best" not in rec.explanation.summary  # meta is clearly ahead

    def level(tasks, seed=0):  # meta and hybrid equally likely to be best
        return np.array([0.5 if f in ("meta", "hybrid") else 0.0 for f in recommender.families])

    monkeypatch.setattr(recommender.choice, "p_best", level)
    tied = recommender.recommend(values(1, 0.5), source="toy")
    assert tied.family == "meta" and tied.explanation.runner_up == "hybrid"
    assert "hybrid is as likely to be the best family (50% against 50%" in (
        tied.explanation.summary
    )


def test_a_poor_track_record_on_similar_tasks_is_a_risk(recommender, monkeypatch) -> None:
    rec = recommender.recommend(values(1, 0.5), source="toy")
    record = rec.explanation.track_record
    assert record is not None and record.tasks > 0
    assert not any("less sure" in risk for risk in rec.explanation.risks)  # clean KB: sure
    choice = recommender.choice
    lossy = np.where(np.isfinite(choice.out_of_fold_regret), 0.03, np.nan)
    monkeypatch.setattr(choice, "out_of_fold_regret", lossy)  # 3 points lost everywhere
    unsure = recommender.recommend(values(1, 0.5), source="toy")
    assert unsure.explanation.track_record is not None
    assert unsure.explanation.track_record.mean_regret == pytest.approx(3.0)
    risk = unsure.explanation.risks[-1]
    assert "less sure" in risk and "lost 3.0 points on average" in risk
    assert f"also measures {unsure.explanation.runner_up} on your data" in risk
    # Where the prior decides (out of range), the choice's record does not apply.
    far = recommender.recommend(values(500, 0.2, ways=100), source="toy")
    assert far.explanation.fallback and far.explanation.track_record is None


@pytest.mark.slow  # fits a recommender on a knowledge base of its own: ~15 s on 2 cores
def test_the_outcomes_of_local_runs_are_learned_from() -> None:
    kb = synthetic_kb(n_domains=5, tasks_per_domain=20, seed=3).assign(tuned=False)
    here = values(3, 0.77)
    local = pd.DataFrame(
        [
            {
                "task_id": "local/run",
                "domain": "local",
                "source": "toy",
                "kind": "local",
                "ways": 5,
                "shots": 3,
                "queries": 0,
                "seed": 0,
                **{f"mf.{name}": value for name, value in here.items()},
                "family": family,
                "variant": variant,
                "tuned": True,  # a tuned study's cross-validated score, as a regret check writes
                "accuracy": accuracy,
                "params": "{}",
            }
            for family, variant, accuracy in (("meta", "protonet", 0.9), ("scratch", "logreg", 0.4))
        ]
    )
    recommender = Recommender(pd.concat([kb, local], ignore_index=True))
    assert "local/run" in recommender.tasks.index
    assert recommender.accuracy.loc["local/run", ("meta", "protonet")] == pytest.approx(0.9)
    rec = recommender.recommend(here, source="toy")
    assert rec.explanation.neighbours[0].task_id == "local/run"
    assert rec.explanation.neighbours[0].accuracy["meta"] == pytest.approx(0.9)
    # KB rows that lack the ``tuned`` flag are measurements too (a missing flag is not "tuned").
    assert len(task_table(pd.concat([kb.drop(columns="tuned"), local]))[0]) == len(
        recommender.tasks
    )


def test_the_source_distance_is_judged_among_tasks_of_the_same_kind(
    recommender, monkeypatch
) -> None:
    # Two kinds of data whose distances to their source lie on different scales.
    tasks = recommender.tasks.copy()
    distance = tasks["mf.proxy_a_distance"]
    tasks["modality"] = np.where(distance > 1.0, "image", "vector")
    monkeypatch.setattr(recommender, "tasks", tasks)
    images, vectors = distance[distance > 1.0], distance[distance <= 1.0]
    between = (float(distance.median()) + float(images.median())) / 2  # far for the pool only
    assert vectors.median() < distance.median() < between < images.median()

    def prior(modality: str | None) -> Recommendation:  # out of range: the prior decides
        return recommender.recommend(
            values(500, between, ways=100), source="toy", modality=modality
        )

    near_for_images = prior("image")
    assert near_for_images.family == "transfer"
    assert "median task of the same kind of data" in (near_for_images.explanation.fallback or "")
    assert prior("vector").family == "scratch"
    assert prior(None).family == "scratch"  # kind unknown: the whole KB's median
    # The negative-transfer risk's 90th percentile, the same way.
    edge = float(np.quantile(vectors, 0.9)) + 0.05
    assert edge < float(np.quantile(distance, 0.9))

    def warned(modality: str | None) -> bool:
        rec = recommender.recommend(values(20, edge), source="toy", modality=modality)
        return any("Negative transfer" in risk for risk in rec.explanation.risks)

    assert warned("vector") and not warned("image") and not warned(None)


def test_neighbours_are_tasks_of_the_same_kind_of_data(recommender, monkeypatch) -> None:
    """A table's nearest tasks are tables, however near an image task's meta-features."""
    tasks = recommender.tasks.copy()
    tasks["modality"] = np.where(tasks["domain"] == "d0", "vector", "image")
    monkeypatch.setattr(recommender, "tasks", tasks)
    anywhere = recommender.recommend(values(5, 1.0), source="toy")
    assert any(n.domain != "d0" for n in anywhere.explanation.neighbours)
    table = recommender.recommend(values(5, 1.0), source="toy", modality="vector")
    assert [n.domain for n in table.explanation.neighbours] == ["d0"] * 5
    assert table.modality == "vector" and anywhere.modality is None  # said in the answer
    images = recommender.recommend(values(5, 1.0), source="toy", modality="image")
    assert all(n.domain != "d0" for n in images.explanation.neighbours)
    distances = [n.distance for n in table.explanation.neighbours]
    assert distances == sorted(distances)
    # the range is judged among tables too: the nearest table, not the nearest task
    x = recommender.model.features(values(5, 1.0))
    among_tables, among_all = recommender._distances(x, "vector"), recommender._distances(x, None)
    assert among_tables.min() == pytest.approx(distances[0])
    assert among_tables.min() > among_all.min()  # an image task is nearer
    between = (among_tables.min() + among_all.min()) / 2
    monkeypatch.setattr(recommender, "range_limit", between)  # in range of images, not tables
    assert recommender._out_of_range(among_all, values(5, 1.0)) == []
    [too_far] = recommender._out_of_range(among_tables, values(5, 1.0))
    assert too_far.startswith(f"its nearest measured task lies at distance {distances[0]:.1f}")


def test_the_advisor_tells_the_choice_the_kind_of_the_data_not_of_the_source(monkeypatch) -> None:
    # A table asked about with the image source: the family choice must see a table.
    from advisor import Advisor
    from advisor.core import data_modality

    class AskedError(Exception):
        pass

    class Spy:
        def recommend(self, values, **kwargs):
            raise AskedError(kwargs)

    monkeypatch.setattr(Advisor, "recommender", property(lambda self: Spy()))
    X, y = np.random.default_rng(0).normal(size=(12, 4)), np.repeat([0, 1, 2], 4)
    with pytest.raises(AskedError) as asked:
        Advisor("glyphs").recommend(X, y)
    assert asked.value.args[0]["modality"] == "vector"
    assert "only scratch can run" in asked.value.args[0]["mismatch"]
    assert data_modality(np.zeros((3, 28, 28))) == "image" and data_modality(np.zeros(3)) is None


def test_the_range_ends_at_twice_the_knowledge_bases_edge(recommender) -> None:
    # Walk a task away from the KB along one meta-feature: just past the edge (the KB's own
    # 99th-percentile neighbour distance) it is still in range; past twice the edge it is not.
    edge = recommender.edge
    seen = {"inside past the edge": False, "outside": False}
    for noise in np.arange(0.0, 60.0, 0.5):
        task = {**values(5, 0.5), "noise": float(noise)}
        rec = recommender.recommend(task, source="toy")
        distance = rec.explanation.neighbours[0].distance
        assert rec.explanation.in_range == (distance <= 2 * edge)
        seen["inside past the edge"] |= edge < distance <= 2 * edge
        seen["outside"] |= distance > 2 * edge
    assert all(seen.values())


def own_runs_on(kb: pd.DataFrame, tasks: int = 12) -> pd.DataFrame:
    """This installation's runs, as a regret check appends them (two families per task, ``kind``
    local, tuned): tasks like the KB's first ones, where scratch did 30 points better than there
    and meta (the family with the best record, the choice's anchor) as well as there."""
    from advisor.recommender.model import LOCAL_KIND

    firsts = kb.drop_duplicates("task_id").head(tasks)
    rows = []
    for i, (_, task) in enumerate(firsts.iterrows()):
        measured = kb[kb["task_id"] == task["task_id"]].set_index(["family", "variant"])["accuracy"]
        for family, variant in [("meta", "protonet"), ("scratch", "logreg")]:
            lift = 0.3 if family == "scratch" else 0.0
            rows.append(
                {
                    **task.to_dict(),
                    "task_id": f"local/{i}",
                    "domain": "local",
                    "kind": LOCAL_KIND,
                    "tuned": True,
                    "family": family,
                    "variant": variant,
                    "accuracy": min(1.0, float(measured[(family, variant)]) + lift),
                }
            )
    return pd.DataFrame(rows)


def test_own_runs_are_learned_without_cross_validating_the_knowledge_base_again(
    tmp_path, monkeypatch
) -> None:
    from advisor.recommender import choice as choice_module
    from advisor.recommender import model as model_module
    from advisor.recommender.model import own_runs

    kb = synthetic_kb(n_domains=4, tasks_per_domain=30, seed=3)
    alone = Recommender(kb, cache=tmp_path)  # cross-validated, kept in the cache

    def refuse(*_args, **_kwargs):
        raise AssertionError("the knowledge base was cross-validated again")

    monkeypatch.setattr(model_module, "GroupKFold", refuse)
    monkeypatch.setattr(choice_module, "_out_of_fold_leads", refuse)
    both = Recommender(pd.concat([kb, own_runs_on(kb)], ignore_index=True), cache=tmp_path)
    own = own_runs(both.tasks)
    assert own.sum() == 12 and both.choice.feature_set == alone.choice.feature_set
    assert both.choice.anchor == alone.choice.anchor == "meta"
    # The meta-model: the KB's own out-of-domain residuals, then the own runs' residuals
    # against the regressors fitted without them (one more held-out group).
    np.testing.assert_array_equal(both.model.residuals[~own], alone.model.residuals)
    X = both.tasks.loc[own, alone.model.columns].to_numpy(dtype=np.float64)
    for j, key in enumerate(both.model.keys):
        measured = both.accuracy.loc[own, key].to_numpy(dtype=np.float64)
        expected = measured - alone.model.regressors[key].predict(X)
        np.testing.assert_allclose(both.model.residuals[own, j], expected, equal_nan=True)
    # The family choice: the same for the errors of its predicted leads.
    np.testing.assert_allclose(both.choice.residuals[~own], alone.choice.residuals, atol=1e-6)
    family = both.accuracy.T.groupby(level=0).max().T[both.choice.families][own]
    lead = family.to_numpy() - family[[both.choice.anchor]].to_numpy()
    predicted = alone.choice.leads(both.tasks[own]).to_numpy()
    np.testing.assert_allclose(both.choice.residuals[own], lead - predicted, atol=1e-9)
    # And both models learned from them: scratch's predicted accuracy moved up there.
    scratch = both.model.keys.index(("scratch", "logreg"))
    assert (both.model.predict(X)[:, scratch] > alone.model.predict(X)[:, scratch]).mean() > 0.5
    column = both.choice.families.index("scratch")
    moved = both.choice.leads(both.tasks[own])["scratch"] - predicted[:, column]
    assert (moved > 0).mean() > 0.5


def test_an_own_run_among_the_neighbours_shows_the_families_it_measured(tmp_path) -> None:
    kb = synthetic_kb(n_domains=4, tasks_per_domain=30, seed=3)
    both = Recommender(pd.concat([kb, own_runs_on(kb)], ignore_index=True), cache=tmp_path)
    task = both.tasks.loc["local/0"]
    values = {str(c)[3:]: float(v) for c, v in task.items() if str(c).startswith("mf.")}
    rec = both.recommend(values, source="toy")
    own = [n for n in rec.explanation.neighbours if n.task_id.startswith("local/")]
    assert own and all(set(n.accuracy) == {"meta", "scratch"} for n in own)  # no NaN
    measured = [v for n in rec.explanation.neighbours for v in n.accuracy.values()]
    assert all(np.isfinite(measured))  # JSON has no NaN (pydantic would write null)
