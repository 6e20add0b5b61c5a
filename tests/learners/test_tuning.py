"""Optuna tuning on the support set: folds, pruning, failures, storage."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import optuna
import pytest

from learners.errors import ConfigurationError
from learners.families import scratch
from learners.tensors import InputSpec
from learners.tuning import ANSWERS, tune, validation_splits

from .synthetic import blob_classes, pattern_images


def test_folds_are_stratified_when_every_class_has_two_examples() -> None:
    X, y = blob_classes(4, 3, 5, seed=0)
    splits = validation_splits(X, y, InputSpec.from_data(X), folds=5, seed=0)
    assert len(splits) == 3  # k = min(folds, smallest class)
    seen = []
    for split in splits:
        assert set(y[split.train]) == set(range(4))  # every class keeps a training example
        seen.extend(split.X_val[:, 0].tolist())
    assert sorted(seen) == sorted(X[:, 0].tolist())  # each example validated exactly once


def test_one_shot_validates_on_augmented_copies() -> None:
    X, y = pattern_images(5, 1, seed=0)
    splits = validation_splits(X, y, InputSpec.from_data(X), folds=3, seed=0)
    assert len(splits) == 3
    for split in splits:
        assert split.train.tolist() == list(range(5))
        assert split.X_val.shape == X.shape and not np.allclose(split.X_val, X)
        assert split.y_val.tolist() == y.tolist()
    assert not np.allclose(splits[0].X_val, splits[1].X_val)


def test_tuning_end_to_end_with_pruning_and_sqlite(tmp_path: Path) -> None:
    X, y = blob_classes(4, 6, 6, seed=1, spread=2.0)
    url = f"sqlite:///{tmp_path / 'studies.sqlite3'}"
    result = tune(
        "scratch", X, y, choices=["logreg"], n_trials=12, storage=url, seed=0, study_name="demo"
    )
    assert result.variant == "logreg" and "C" in result.params
    assert 0.0 <= result.cv_score <= 1.0
    reloaded = optuna.load_study(study_name="demo", storage=url)
    assert len(reloaded.trials) == 12
    states = {t.state for t in reloaded.trials}
    assert optuna.trial.TrialState.PRUNED in states  # poor C values are stopped early
    assert all(t.intermediate_values for t in reloaded.trials)
    model = result.make(None).fit(X, y)
    assert np.mean(model.predict(X) == y) > 0.5


def test_failed_trials_are_recorded_and_do_not_stop_the_study(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    original = scratch.LogisticRegressionLearner._fit

    def sometimes_fails(self, X, codes, spec):
        if self.C > 1.0:
            raise FloatingPointError("diverged")
        return original(self, X, codes, spec)

    monkeypatch.setattr(scratch.LogisticRegressionLearner, "_fit", sometimes_fails)
    X, y = blob_classes(3, 6, 4, seed=2)
    result = tune(
        "scratch",
        X,
        y,
        choices=["logreg"],
        n_trials=8,
        pruner="none",
        storage=f"sqlite:///{tmp_path / 's.sqlite3'}",
        seed=3,
    )
    failed = [t for t in result.study.trials if t.state == optuna.trial.TrialState.FAIL]
    assert failed and all("diverged" in t.user_attrs["fail_reason"] for t in failed)
    assert result.params["C"] <= 1.0


def test_tuning_needs_a_budget() -> None:
    X, y = blob_classes(3, 4, 4, seed=0)
    with pytest.raises(ConfigurationError):
        tune("scratch", X, y, n_trials=None, timeout=None)


def _warm_started(tmp_path: Path, warm_start: list, **options: object):  # type: ignore[no-untyped-def]
    """A 3-trial scratch study on three blob classes, warm-started."""
    X, y = blob_classes(3, 6, 4, seed=4)
    return tune(
        "scratch",
        X,
        y,
        n_trials=3,
        pruner="none",
        seed=0,
        storage=f"sqlite:///{tmp_path / 'w.sqlite3'}",
        warm_start=warm_start,
        **options,  # type: ignore[arg-type]
    )


def test_warm_start_configurations_are_tried_first(tmp_path: Path) -> None:
    result = _warm_started(tmp_path, [("logreg", {"C": 0.123, "random_state": 0})])
    first = result.study.trials[0]
    assert first.params["variant"] == "logreg" and first.params["logreg.C"] == 0.123


def test_a_warm_start_without_parameters_tries_the_variants_exact_defaults(
    tmp_path: Path,
) -> None:
    from learners.tuning import default_parameters

    result = _warm_started(tmp_path, [("gbm", {})], incumbent=True)
    first = result.study.trials[0]
    assert first.params == {"variant": "gbm"}  # nothing sampled for its hyper-parameters
    assert first.user_attrs["params"] == {**default_parameters("scratch", "gbm"), "random_state": 0}
    # Some defaults lie outside the search space, where Optuna could not fix them.
    assert default_parameters("transfer", "finetune")["weight_decay"] == 0.0
    assert "random_state" not in default_parameters("transfer", "finetune")


@pytest.mark.parametrize("family", ["transfer", "meta", "hybrid", "scratch"])
def test_every_search_space_suggests_each_name_once(family: str) -> None:
    from learners.registry import variants
    from learners.tuning import SPACES

    for variant in variants(family):
        seen = _suggested_names(SPACES[family][variant], variant)
        assert len(seen) == len(set(seen)), f"{family}/{variant} suggests a name twice: {seen}"
        assert all(name.startswith(f"{variant}.") for name in seen)


def _suggested_names(space, variant: str) -> list[str]:
    seen: list[str] = []

    class Recording(optuna.trial.FixedTrial):
        def _suggest(self, name, distribution):  # type: ignore[no-untyped-def]
            seen.append(name)
            first = (
                distribution.choices[0] if hasattr(distribution, "choices") else (distribution.low)
            )
            return distribution.to_external_repr(distribution.to_internal_repr(first))

    space(Recording({}), variant, 3)
    return seen


def test_freezing_is_searched_only_as_deep_as_the_sources_backbone() -> None:
    from types import SimpleNamespace

    from learners.tensors import InputSpec
    from learners.tuning import most_frozen

    vectors = SimpleNamespace(backbone="mlp", spec=InputSpec.from_data(np.zeros((4, 6))))
    images = SimpleNamespace(backbone="conv4", spec=InputSpec.from_data(np.zeros((4, 28, 28))))
    assert most_frozen(vectors) == 2  # type: ignore[arg-type]  # the MLP has two blocks
    assert most_frozen(images) == 3  # type: ignore[arg-type]  # Conv-4 has four; 3 at most
    assert most_frozen(None) == 3


def _study_of(
    trials: list[tuple[float, int, bool]], answers: list[str] | None = None
) -> optuna.Study:
    """A finished study of ``(value, validation predictions, incumbent?)`` trials, with each
    trial's held-out answers (``ANSWERS``) when ``answers`` gives them."""
    study = optuna.create_study(direction="maximize")
    for number, (value, validated, incumbent) in enumerate(trials):
        attrs: dict[str, object] = {
            "variant": "logreg",
            "params": {"C": float(number + 1)},
            "validated": validated,
        }
        if answers is not None:
            attrs[ANSWERS] = answers[number]
        if incumbent:
            attrs["incumbent"] = True
        study.add_trial(
            optuna.trial.create_trial(
                params={"logreg.C": float(number + 1)},
                distributions={"logreg.C": optuna.distributions.FloatDistribution(1e-4, 1e3)},
                value=value,
                user_attrs=attrs,
            )
        )
    return study


def test_the_incumbent_stays_unless_beaten_by_one_standard_error() -> None:
    from learners.tuning import best_of

    # 0.85 on 20 validation predictions: SE = √(0.85·0.15/20) ≈ 0.080, so 0.80 is within it.
    kept = best_of(_study_of([(0.80, 20, True), (0.85, 20, False)]), "scratch")
    assert kept.params["C"] == 1.0
    # 0.95 on 400 predictions: SE ≈ 0.011, and the incumbent's 0.80 is far below.
    beaten = best_of(_study_of([(0.80, 400, True), (0.95, 400, False)]), "scratch")
    assert beaten.params["C"] == 2.0
    # Without an incumbent the best trial wins, however small its lead.
    plain = best_of(_study_of([(0.80, 20, False), (0.85, 20, False)]), "scratch")
    assert plain.params["C"] == 2.0


def test_the_standard_error_is_agresti_coulls_and_positive_at_a_perfect_score() -> None:
    from learners.tuning import standard_error

    # n = 20, a = 0.85: ñ = 21, ã = 17.5/21, SE = √(ã(1 − ã)/21).
    assert standard_error(0.85, 20) == pytest.approx(((17.5 / 21) * (3.5 / 21) / 21) ** 0.5)
    assert standard_error(1.0, 10) == pytest.approx(((10.5 / 11) * (0.5 / 11) / 11) ** 0.5)
    assert standard_error(1.0, 10) > 0.05
    assert standard_error(0.9, 10_000) == pytest.approx((0.9 * 0.1 / 10_000) ** 0.5, rel=0.01)


def test_a_perfect_score_on_few_examples_does_not_unseat_a_close_incumbent() -> None:
    from learners.tuning import best_of

    # 1.0 on 10 examples is within one SE (≈ 0.063) of 0.95, not of 0.90.
    kept = best_of(_study_of([(0.95, 10, True), (1.0, 10, False)]), "scratch")
    assert kept.params["C"] == 1.0
    beaten = best_of(_study_of([(0.90, 10, True), (1.0, 10, False)]), "scratch")
    assert beaten.params["C"] == 2.0


def test_augmented_copies_of_one_shot_examples_are_not_held_out_examples(
    tmp_path: Path,
) -> None:
    X, y = blob_classes(4, 1, 5, seed=2)  # 1 shot: every fold validates on copies of all 4
    result = tune(
        "scratch",
        X,
        y,
        choices=["logreg"],
        n_trials=2,
        folds=3,
        pruner="none",
        seed=0,
        storage=f"sqlite:///{tmp_path / 'one-shot.sqlite3'}",
    )
    # every fold trains on the 4 examples it validates on copies of: none is held out
    assert [t.user_attrs["validated"] for t in result.study.trials] == [0, 0]


def test_without_held_out_examples_the_incumbent_stays_unless_it_fails() -> None:
    from learners.tuning import best_of

    # n = 0: SE = 1/2 whatever the accuracy, so a perfect score on copies does not unseat 0.6
    kept = best_of(_study_of([(0.60, 0, True), (1.0, 0, False)]), "scratch")
    assert kept.params["C"] == 1.0
    # ...but an incumbent that fails outright (0.4 against 1.0) is replaced.
    beaten = best_of(_study_of([(0.40, 0, True), (1.0, 0, False)]), "scratch")
    assert beaten.params["C"] == 2.0


def test_tune_marks_the_first_warm_start_as_the_incumbent(tmp_path: Path) -> None:
    warm_start = [("logreg", {"C": 0.5}), ("logreg", {"C": 5.0})]
    trials = _warm_started(tmp_path, warm_start, incumbent=True).study.trials
    assert trials[0].user_attrs.get("incumbent") is True
    assert not any(t.user_attrs.get("incumbent") for t in trials[1:])
    examples = 3 * 6  # every support example is validated once across the folds
    assert all(t.user_attrs["validated"] == examples for t in trials if t.value is not None)


def test_the_switch_is_judged_on_paired_answers_and_the_number_of_candidates() -> None:
    from learners.tuning import best_of, selection_z

    assert selection_z(1) == pytest.approx(1.0)
    assert selection_z(20) == pytest.approx(2.41, abs=0.01)
    # 30 examples; the best is right on one the incumbent got wrong, and on nothing else
    # more: W = 1, L = 0. One Agresti–Coull SE of 1.0 over 30 (≈ 0.022) would switch (0.967
    # is below 0.978); paired, a single discordant example is no evidence.
    incumbent, one_more = "1" * 29 + "0", "1" * 30
    kept = best_of(_study_of([(29 / 30, 30, True), (1.0, 30, False)], [incumbent, one_more]), "s")
    assert kept.params["C"] == 1.0
    old_rule = best_of(_study_of([(29 / 30, 30, True), (1.0, 30, False)]), "scratch")
    assert old_rule.params["C"] == 2.0
    # W = 6, L = 0 among 2 candidates: 6 > z_2 √6 ≈ 1.41 × 2.45 - switch
    six = "0" * 6 + "1" * 24
    beaten = best_of(_study_of([(0.8, 30, True), (1.0, 30, False)], [six, one_more]), "s")
    assert beaten.params["C"] == 2.0
    # the same lead found among 40 candidates (z_40 ≈ 2.65; 6 > 2.65 × 2.45 fails) is kept
    many = [(0.8, 30, True), (1.0, 30, False)] + [(0.5, 30, False)] * 38
    kept_among_many = best_of(_study_of(many, [six, one_more] + ["0" * 30] * 38), "s")
    assert kept_among_many.params["C"] == 1.0
    # each example the incumbent wins back counts against the switch: W = 6, L = 3
    mixed_best = "0" * 3 + "1" * 27
    mixed_incumbent = "1" * 3 + "0" * 6 + "1" * 21
    mixed = _study_of([(0.8, 30, True), (0.9, 30, False)], [mixed_incumbent, mixed_best])
    assert best_of(mixed, "s").params["C"] == 1.0  # 3 < z_2 √9 ≈ 4.2


def test_trials_record_their_held_out_answers(tmp_path: Path) -> None:
    trials = _warm_started(tmp_path, [("logreg", {"C": 0.5})], incumbent=True).study.trials
    for trial in trials:
        if trial.value is not None:
            answers = trial.user_attrs[ANSWERS]
            assert len(answers) == 18 and set(answers) <= {"0", "1"}  # each example held out once
            assert answers.count("1") / 18 == pytest.approx(trial.value, abs=0.1)


def test_studies_started_within_one_second_get_distinct_names(tmp_path: Path) -> None:
    X, y = blob_classes(2, 4, 3, seed=1)
    storage = f"sqlite:///{tmp_path / 'names.sqlite3'}"
    options = {"choices": ["logreg"], "n_trials": 1, "pruner": "none", "storage": storage}
    first = tune("scratch", X, y, **options)  # type: ignore[arg-type]
    second = tune("scratch", X, y, **options)  # type: ignore[arg-type]  # same second, same seed
    assert first.study.study_name != second.study.study_name


def test_a_study_continued_by_name_must_tune_the_same_family_on_the_same_data() -> None:
    storage = optuna.storages.InMemoryStorage()
    X, y = blob_classes(2, 6, 4, seed=3)
    first = tune("scratch", X, y, n_trials=2, storage=storage, study_name="s", choices=["logreg"])
    assert len(first.study.trials) == 2
    again = tune("scratch", X, y, n_trials=2, storage=storage, study_name="s", choices=["logreg"])
    assert len(again.study.trials) == 4  # continued
    with pytest.raises(ConfigurationError) as caught:
        tune("scratch", X + 1.0, y, n_trials=1, storage=storage, study_name="s")
    assert caught.value.code == "learners.study_mismatch"
    study = optuna.load_study(study_name="s", storage=storage)
    study.set_user_attr("family", "meta")  # as a study of another family would be marked
    with pytest.raises(ConfigurationError, match="was tuning meta, not scratch"):
        tune("scratch", X, y, n_trials=1, storage=storage, study_name="s")
