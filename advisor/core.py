"""``Advisor``: recommend a learning family for a dataset, run it tuned, report.

::

    from advisor import Advisor
    adv = Advisor(source="glyphs")
    rec = adv.recommend(X, y)                       # Recommendation (pydantic)
    res = adv.run(X, y, n_trials=20, X_test=Xt, y_test=yt)
    adv.report(res, "report.html")

The recommender is fitted on the knowledge base — the shipped one, plus the outcomes of this
installation's own runs (``$ADVISOR_HOME/kb/local.parquet``, see :meth:`Advisor.run`'s
``check_runner_up``) — once per process and knowledge base.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

import numpy as np
import optuna
import pandas as pd
from pydantic import ValidationError

import meta_features as mf
from advisor.datasets.dataset import DatasetInfo
from advisor.datasets.encoder import ENCODER_FILE, TabularEncoder
from advisor.datasets.summary import (
    SAMPLES_FILE,
    DataSummary,
    sample_picture,
    save_samples,
    summarize,
)
from advisor.errors import AdvisorError, InvalidInputError, NotFoundError, define_code
from advisor.importance import column_groups, permutation_importance
from advisor.inputs import check_test_data, check_training_data
from advisor.kb.runner import EXTRACT_CONFIG, FEATURE_PREFIX, measure
from advisor.kb.store import SHIPPED, read_kb
from advisor.learning_curve import run_learning_curve
from advisor.local_kb import LOCAL_KB, append_local_kb, load_local_kb
from advisor.local_kb import read_local_kb as read_local_kb  # noqa: PLC0414 - kept public here
from advisor.prediction import (
    Classified,
    classify,
    judge,
    label_keys,
    label_texts,
    match_labels,
    unknown_label_warnings,
)
from advisor.recalibration import recalibrate_run
from advisor.recommender import Recommender
from advisor.recommender.model import LOCAL_KIND
from advisor.schemas import (
    Calibration,
    ClassRecall,
    ColumnImportance,
    LearningCurve,
    Recalibration,
    Recommendation,
)
from advisor.scores import calibration, held_out_recalls, score_interval
from advisor.settings import get_settings
from advisor.sources import get_source
from advisor.writing import write_atomically
from learners import Learner, Source, default_variant, saved_source_name, variants
from learners.tuning import (
    Metric,
    TuningResult,
    check_budget,
    default_storage_url,
    fold_score,
    tune,
)

RUN_NOT_FOUND = define_code("run.not_found", "There is no saved run of that id or folder.")
RUN_DAMAGED = define_code(
    "run.damaged",
    "A saved run's run.json cannot be read: not JSON (cut short, edited), or without what a "
    "run records. `advisor runs delete` removes the run.",
)
FINISHED = (
    optuna.trial.TrialState.COMPLETE,
    optuna.trial.TrialState.PRUNED,
    optuna.trial.TrialState.FAIL,
)
"""The trials a run counts: those that ran to an end and spent budget — complete, pruned (the
median pruner stopped them after a fold) or failed (a configuration that errors). Trials
enqueued and never run (waiting) or still running are not counted."""
RUN_SOURCE_MISMATCH = define_code(
    "run.source_mismatch",
    "The family asked for starts from the source, and the source cannot take this data "
    "(images against a table's source, or vectors of another width); only scratch can run.",
)


@dataclass(frozen=True)
class ScoresOnTest:
    """A fitted model on the test set (empty without one).

    The run's metric, its central 95 % interval (:mod:`advisor.scores`), the confusion matrix
    (rows: true classes, in the model's order), what scoring noticed (test labels the model
    never saw), and the calibration of its top-class probabilities.
    """

    score: float | None = None
    interval: tuple[float, float] | None = None
    confusion: list[list[int]] | None = None
    warnings: list[str] = field(default_factory=list)
    calibration: Calibration | None = None


@dataclass(frozen=True)
class RunPlan:
    """What a run will tune: the family, the recommendation behind it, warm-start trials."""

    family: str
    recommendation: Recommendation | None
    warm_start: list[tuple[str, dict[str, Any]]]


@dataclass(eq=False)
class RunResult:
    """A tuned run: the chosen learner fitted on all the training data, and how it scored.

    Attributes:
        family, variant, best_params: what was run, with the study's best hyper-parameters.
        cv_score: the study's best cross-validated ``metric`` on the training data.
        test_score: the ``metric`` on the test set, if one was given.
        test_interval: its central 95 % interval (:mod:`advisor.scores`): Wilson's for
            accuracy, balanced accuracy's posterior for balanced accuracy.
        importance: for a table with a test set, its columns by permutation importance on the
            test rows, largest first (:mod:`advisor.importance`).
        cv_recalls: each class's cross-validated recall, from the chosen trial's held-out
            answers on the training data (none for 1-shot data).
        calibration: with a test set, how well the model's top-class probabilities match how
            often it is right there (expected calibration error and reliability bins).
        metric: what the study maximised and the scores measure: ``accuracy`` or
            ``balanced_accuracy`` (the mean of the classes' recalls; see
            :func:`learners.tuning.fold_score`).
        model: the fitted learner (``predict``, ``predict_proba``, ``save``).
        study: the Optuna study.
        recommendation: the recommendation the run followed (``None`` if the family was given).
        model_path: where the fitted model was saved.
        runner_up: the runner-up family's cross-validated score, if it was checked
            (``family``, ``variant``, ``cv_score``, ``difference``; or ``skipped``, the reason
            there was none to check).
        encoder: the training table's encoder, saved beside the model (``None`` for images
            and arrays): rows to classify are read with it (``load_rows(..., encoder=)``).
        warnings: what scoring noticed (test labels the model was never trained on).
        data: the training data's summary (kind, size, classes; the file it was read from).
        samples: a PNG of a few training images of each class (``None`` for tables).
        learning_curve: with ``learning_curve=True``, the chosen configuration's score on the
            study's folds with a share of the training data, and what twice the data would
            add (:mod:`advisor.learning_curve`).
        recalibration: with ``recalibrate=True``, the temperature the model's probabilities
            were scaled by, fitted on the study's out-of-fold predictions
            (:mod:`advisor.recalibration`).
    """

    family: str
    variant: str
    best_params: dict[str, Any]
    cv_score: float
    test_score: float | None
    model: Learner
    study: optuna.Study
    recommendation: Recommendation | None
    model_path: Path
    seconds: float
    run_id: str
    runner_up: dict[str, Any] | None = None
    confusion: list[list[int]] | None = None
    labels: list[str] = field(default_factory=list)
    encoder: TabularEncoder | None = None
    warnings: list[str] = field(default_factory=list)
    data: DataSummary | None = None
    samples: Path | None = None
    metric: Metric = "accuracy"
    test_interval: tuple[float, float] | None = None
    importance: list[ColumnImportance] = field(default_factory=list)
    cv_recalls: list[ClassRecall] = field(default_factory=list)
    calibration: Calibration | None = None
    learning_curve: LearningCurve | None = None
    recalibration: Recalibration | None = None
    trials_at_save: int | None = None
    """The finished trials when the run was saved (its study may have been continued since,
    or kept in memory and gone); ``None`` until then."""

    @property
    def trials(self) -> int:
        """The study's finished trials (:data:`FINISHED`), as counted when the run was saved."""
        return finished_trials(self.study) if self.trials_at_save is None else self.trials_at_save

    def classify(self, source: Any, *, label: str | int | None = None) -> Classified:
        """Classify the rows (or images) of a file, folder or bytes with the fitted model.

        A table is read with the training table's encoder (columns by name, its fills and
        categories), images at the model's size; ``label`` names a label column to score
        against (images in class folders are scored by their folder). See
        :func:`advisor.prediction.classify`.
        """
        return classify(self.model, source, encoder=self.encoder, label=label)

    def summary(self) -> dict[str, Any]:
        """A JSON-ready summary of the run."""
        return {
            "run_id": self.run_id,
            "family": self.family,
            "variant": self.variant,
            "best_params": self.best_params,
            "metric": self.metric,
            "class_prior": self.model.class_prior,
            "cv_score": self.cv_score,
            "test_score": self.test_score,
            "test_interval": None if self.test_interval is None else list(self.test_interval),
            "importance": [item.model_dump() for item in self.importance],
            "cv_recalls": [item.model_dump() for item in self.cv_recalls],
            "calibration": None if self.calibration is None else self.calibration.model_dump(),
            "learning_curve": None
            if self.learning_curve is None
            else self.learning_curve.model_dump(),
            "recalibration": None
            if self.recalibration is None
            else self.recalibration.model_dump(),
            "trials": self.trials,
            "study_name": self.study.study_name,
            "seconds": self.seconds,
            "model_path": str(self.model_path),
            "runner_up": self.runner_up,
            "confusion": self.confusion,
            "labels": self.labels,
            "warnings": self.warnings,
            "data": None if self.data is None else self.data.model_dump(mode="json"),
            "recommendation": None
            if self.recommendation is None
            else self.recommendation.model_dump(mode="json"),
        }


@lru_cache(maxsize=4)
def _recommender(kb_key: str, kb_path: str | None, local_path: str | None) -> Recommender:
    del kb_key  # part of the cache key: the files' checksums
    frames = [read_kb(kb_path)]
    local = None if local_path is None else load_local_kb(Path(local_path))  # damaged: set aside
    if local is not None:
        frames.append(local)
    cache = get_settings().cache_dir / "recommender"
    return Recommender(pd.concat(frames, ignore_index=True), cache=cache, shipped=SHIPPED.parent)


def data_modality(X: Any) -> str | None:
    """``"vector"`` for a 2-D array, ``"image"`` for 3-D or 4-D ones, else ``None``."""
    dims = len(np.shape(X))
    return "vector" if dims == 2 else "image" if dims in (3, 4) else None


def source_mismatch(source: Source, X: Any) -> str | None:
    """Why ``source`` cannot take inputs like ``X`` at all, or ``None`` when it can.

    Images of another size are fine (they are resized) and so is colour against grayscale;
    images against a vector source, vectors against an image source, and vectors of another
    width are not: then no family that starts from the source can run.
    """
    shape = np.shape(X)
    spec = source.spec
    kind = data_modality(X) or "unknown"
    wanted = "x".join(str(s) for s in spec.shape)
    if kind != spec.modality:
        return (
            f"The source {source.name!r} takes {spec.modality} inputs ({wanted}) but this "
            f"dataset is {kind} data {tuple(shape[1:])}: only scratch can run. Build a source "
            "from related data of the same kind (advisor sources build-from) to compare."
        )
    if kind == "vector" and shape[1] != spec.shape[0]:
        return (
            f"The source {source.name!r} takes vectors of {spec.shape[0]} features but this "
            f"dataset has {shape[1]}: only scratch can run."
        )
    return None


class Advisor:
    """Recommends transfer, meta, hybrid or scratch learning for a dataset, and runs it.

    Args:
        source: the source to start from: a name (``"glyphs"``), a folder, or a
            :class:`~learners.Source`.
        kb: a knowledge-base file; the shipped one by default.
        random_state: seed of every random step.
    """

    def __init__(
        self,
        source: str | Path | Source = "glyphs",
        *,
        kb: str | Path | None = None,
        random_state: int = 0,
    ) -> None:
        self.source = get_source(source)
        self.kb_path = None if kb is None else Path(kb)
        self.random_state = random_state

    # -- recommendation ---------------------------------------------------------------------

    @property
    def recommender(self) -> Recommender:
        """The recommender, fitted once per process on the knowledge base(s)."""
        local = self.local_kb_path()
        key = _checksum(self.kb_path) + _checksum(local if local.is_file() else None)
        return _recommender(key, None if self.kb_path is None else str(self.kb_path), str(local))

    def local_kb_path(self) -> Path:
        """This installation's own knowledge base of run outcomes."""
        return get_settings().home / "kb" / LOCAL_KB

    def meta_features(self, X: Any, y: Any, categorical: Any = None) -> mf.MetaFeatures:
        """Every meta-feature of ``(X, y)`` against the source."""
        return measure(X, y, source=self.source, seed=self.random_state, categorical=categorical)

    def recommend(self, X: Any, y: Any, *, categorical: Any = None) -> Recommendation:
        """The recommended family and variant for training data ``(X, y)``, explained.

        Raises:
            DatasetError: data no learner can train on, before anything is measured
                (:func:`advisor.inputs.check_training_data`: NaN or infinite features, missing
                labels, labels not one per row, a single class…).
        """
        start = time.perf_counter()
        y = check_training_data(X, y)
        features = self.meta_features(X, y, categorical)
        values = {name: float(value) for name, value in features.items()}
        recommendation = self.recommender.recommend(
            values,
            source=self.source.name,
            modality=data_modality(X) or self.source.spec.modality,  # the data's, not the source's
            mismatch=source_mismatch(self.source, X),
        )
        return recommendation.model_copy(update={"seconds": time.perf_counter() - start})

    # -- the tuned run ----------------------------------------------------------------------

    def run(  # noqa: PLR0917 - the public contract (DESIGN.md) names these positions
        self,
        X: Any,
        y: Any,
        family: str | None = None,
        n_trials: int | None = 20,
        timeout: float | None = None,
        X_test: Any = None,
        y_test: Any = None,
        storage: str | optuna.storages.BaseStorage | None = None,
        *,
        check_runner_up: bool = False,
        progress: bool = False,
        callbacks: Sequence[Callable[[optuna.Study, optuna.trial.FrozenTrial], None]] = (),
        run_id: str | None = None,
        study_name: str | None = None,
        encoder: TabularEncoder | None = None,
        data_info: DatasetInfo | None = None,
        categorical: Any = None,
        metric: Metric = "accuracy",
        learning_curve: bool = False,
        recalibrate: bool = False,
    ) -> RunResult:
        """Run the recommended (or the given) family with Optuna on ``(X, y)``.

        The study searches the family's variants and hyper-parameters on the training data
        only (see :mod:`learners.tuning`), warm-started with the recommended variant's default
        configuration and the best configurations of the nearest knowledge-base tasks. The
        best learner is refitted on all of ``(X, y)``, scored on ``(X_test, y_test)`` if given,
        and saved under ``$ADVISOR_HOME/runs/<run id>/model``.

        With ``check_runner_up``, the runner-up family is tuned on a small budget (5 trials)
        too, its cross-validated score is reported next to the chosen one's, and both
        outcomes are appended to this installation's knowledge base, which the recommender
        learns from as well; where the source cannot take the data (only scratch can run) the
        check is skipped and ``runner_up["skipped"]`` says why. ``callbacks`` are Optuna trial
        callbacks (progress, cancellation); ``run_id`` names the run's folder (a fresh id when
        ``None``) and ``study_name`` the study (a study of that name in ``storage`` is
        resumed). For a table, pass its ``encoder`` (``dataset.encoder``): it is saved with the
        model, and test or prediction files are then read with
        ``load_dataset(path, encoder=TabularEncoder.load(result.model_path))``. ``data_info``
        (``dataset.info`` of data read from a file) lets the report name the file and describe
        its columns; the run's summary of its data is made from ``(X, y)`` either way.
        ``categorical`` marks the columns of ``X`` that encode categories
        (``dataset.categorical_mask``; the ``encoder``'s when omitted), as for
        :meth:`recommend`, so that a run recommends what ``recommend`` does. ``metric`` is
        what the study maximises and the run's scores measure: ``accuracy``, or
        ``balanced_accuracy`` for imbalanced classes (see :func:`learners.tuning.fold_score`);
        the recommendation itself predicts accuracy on class-balanced tasks. With
        ``learning_curve``, the chosen configuration is also cross-validated on shares of the
        training data, to say what twice the examples would add
        (:mod:`advisor.learning_curve`; about four trials' worth of fits more). With
        ``recalibrate``, the model's probabilities are temperature-scaled by a ``T`` fitted on
        the chosen configuration's out-of-fold predictions (:mod:`advisor.recalibration`; one
        trial's worth of fits more); its answers do not change.

        Everything is checked before the recommendation and the study start.

        Raises:
            ConfigurationError: ``learners.bad_parameter`` for a budget of fewer than 1 trial
                (0 only to finish a named ``study_name``) or of 0 or fewer seconds
                (:func:`learners.tuning.check_budget`); ``config.invalid`` for ``X_test``
                without ``y_test`` or the other way round.
            NotFoundError: ``learners.unknown_family`` for a ``family`` of another name.
            DatasetError: training or test data no learner can use
                (:mod:`advisor.inputs`: NaN or infinite features, missing labels, labels
                not one per row, a single class in ``y``; a test set of another kind of data
                or width: ``dataset.encoding_mismatch``, ``dataset.shape_mismatch``).
            InvalidInputError: ``run.source_mismatch`` (:meth:`plan_run`).
        """
        start = time.perf_counter()
        check_budget(n_trials, timeout, continuing=study_name is not None)
        if family is not None:
            variants(family)  # an unknown name is refused before the data is looked at
        y = check_training_data(X, y)
        y_test = check_test_data(X, X_test, y_test)
        if categorical is None and encoder is not None:
            categorical = encoder.categorical_mask_
        plan = self.plan_run(X, y, family, categorical=categorical)
        result = self.tune_run(
            plan,
            X,
            y,
            n_trials=n_trials,
            timeout=timeout,
            storage=storage,
            progress=progress,
            callbacks=callbacks,
            study_name=study_name,
            metric=metric,
        )
        return self.finish_run(
            plan,
            result,
            X,
            y,
            X_test=X_test,
            y_test=y_test,
            run_id=run_id,
            check_runner_up=check_runner_up,
            seconds_so_far=time.perf_counter() - start,
            encoder=encoder,
            data_info=data_info,
            learning_curve=learning_curve,
            recalibrate=recalibrate,
        )

    # The three steps of :meth:`run`, public so that a service can spread the middle one (the
    # study) over several workers sharing one Optuna storage, and finish once.

    def plan_run(
        self, X: Any, y: Any, family: str | None = None, *, categorical: Any = None
    ) -> RunPlan:
        """Step 1: the family to tune (recommended unless given) and the warm-start trials.

        ``categorical`` is passed to :meth:`recommend` (a table's categorical columns).

        Raises:
            NotFoundError: ``learners.unknown_family`` for a ``family`` of another name.
            DatasetError: data no learner can train on
                (:func:`advisor.inputs.check_training_data`).
            InvalidInputError: ``run.source_mismatch`` when ``family`` starts from the
                source and the source cannot take this data at all (see
                :func:`source_mismatch`), before a single trial is spent.
        """
        if family is not None:
            variants(family)  # an unknown name is refused as such, not as a source mismatch
        y = check_training_data(X, y)
        if family is not None and family != "scratch":
            mismatch = source_mismatch(self.source, X)
            if mismatch is not None:
                raise InvalidInputError(
                    f"{family} cannot run: {mismatch}", code=RUN_SOURCE_MISMATCH
                )
        recommendation = self.recommend(X, y, categorical=categorical) if family is None else None
        chosen = family or (recommendation.family if recommendation else "meta")
        return RunPlan(chosen, recommendation, self._warm_start(chosen, recommendation))

    def tune_run(
        self,
        plan: RunPlan,
        X: Any,
        y: Any,
        *,
        n_trials: int | None = 20,
        timeout: float | None = None,
        storage: str | optuna.storages.BaseStorage | None = None,
        progress: bool = False,
        callbacks: Sequence[Callable[[optuna.Study, optuna.trial.FrozenTrial], None]] = (),
        study_name: str | None = None,
        sampler_seed: int | None = None,
        metric: Metric = "accuracy",
    ) -> TuningResult:
        """Step 2: the Optuna study, maximising ``metric``.

        Several calls with one ``study_name`` and storage share the study; give each its own
        ``sampler_seed``. The data is checked as in :meth:`plan_run`, the budget as
        :func:`learners.tuning.check_budget` does.
        """
        y = check_training_data(X, y)
        return tune(
            plan.family,
            X,
            y,
            source=None if plan.family == "scratch" else self.source,
            n_trials=n_trials,
            timeout=timeout,
            storage=storage,
            seed=self.random_state,
            warm_start=plan.warm_start,
            progress=progress,
            callbacks=callbacks,
            study_name=study_name,
            sampler_seed=sampler_seed,
            incumbent=True,
            metric=metric,
        )

    def finish_run(
        self,
        plan: RunPlan,
        result: TuningResult,
        X: Any,
        y: Any,
        *,
        X_test: Any = None,
        y_test: Any = None,
        run_id: str | None = None,
        check_runner_up: bool = False,
        seconds_so_far: float = 0.0,
        encoder: TabularEncoder | None = None,
        data_info: DatasetInfo | None = None,
        learning_curve: bool = False,
        recalibrate: bool = False,
    ) -> RunResult:
        """Step 3: refit the study's best learner on all of ``(X, y)``, score it, save it.

        ``encoder`` (the training table's, ``dataset.encoder``) is saved beside the model as
        ``encoder.json``, so that rows to predict can be encoded the same way. The run keeps a
        summary of its training data (with ``data_info``, what reading the file found) and, for
        images, a picture of a few of each class, for its report. The training and test data
        are checked (:mod:`advisor.inputs`) before the refit.
        """
        start = time.perf_counter()
        y = check_training_data(X, y)
        y_test = check_test_data(X, X_test, y_test)
        source = None if plan.family == "scratch" else self.source
        model = result.make(source).set_params(random_state=self.random_state).fit(X, y)
        tempered = (
            recalibrate_run(result, source, X, y, seed=self.random_state) if recalibrate else None
        )
        if tempered is not None:
            model.calibration_temperature = tempered.temperature
        run_id = run_id or uuid.uuid4().hex[:12]
        folder = get_settings().home / "runs" / run_id
        made_here = not folder.exists()
        try:  # a run is saved whole or not at all (an error, Ctrl-C): its study keeps the trials
            model_path = model.save(folder / "model")
            if encoder is not None:
                encoder.save(model_path)
            scored = self._test(model, X_test, y_test, result.metric)
            importance = self._importance(model, X_test, y_test, encoder, result.metric)
            curve = (
                run_learning_curve(result, source, X, y, seed=self.random_state)
                if learning_curve
                else None
            )
            runner_up = None
            if check_runner_up and plan.recommendation is not None:
                runner_up = self._check_runner_up(X, y, plan.recommendation, result)
            elif check_runner_up:  # a family was given: nothing was recommended
                runner_up = _skipped_check(None, NO_RUNNER_UP)
            run = RunResult(
                family=plan.family,
                variant=result.variant,
                best_params=result.params,
                cv_score=result.cv_score,
                test_score=scored.score,
                test_interval=scored.interval,
                calibration=scored.calibration,
                importance=importance,
                cv_recalls=held_out_recalls(result.answers, y),
                learning_curve=curve,
                recalibration=tempered,
                model=model,
                study=result.study,
                recommendation=plan.recommendation,
                model_path=model_path,
                seconds=seconds_so_far + time.perf_counter() - start,
                run_id=run_id,
                runner_up=runner_up,
                confusion=scored.confusion,
                labels=[str(c) for c in model.classes_],
                encoder=encoder,
                warnings=scored.warnings,
                data=summarize(X, y, data_info),
                samples=save_samples(X, y, folder),
                metric=result.metric,
                trials_at_save=finished_trials(result.study),
            )
            summary = json.dumps(run.summary(), indent=2, default=str)
            write_atomically(folder / "run.json", summary, what="the run's summary")
            return run
        except BaseException:
            if made_here:
                shutil.rmtree(folder, ignore_errors=True)
            raise

    def _warm_start(
        self, family: str, recommendation: Recommendation | None
    ) -> list[tuple[str, dict[str, Any]]]:
        if recommendation is not None and recommendation.family == family:
            variant = recommendation.variant
        elif recommendation is not None and family in recommendation.predicted:
            variant = recommendation.predicted[family].variant
        else:
            variant = default_variant(family)
        configurations: list[tuple[str, dict[str, Any]]] = [(variant, {})]
        if recommendation is not None:
            configurations += self._neighbour_configurations(family, recommendation)
        return configurations

    def _neighbour_configurations(
        self, family: str, recommendation: Recommendation
    ) -> list[tuple[str, dict[str, Any]]]:
        """The family's tuned configurations on the nearest KB tasks, else its best variants."""
        tuned = self.recommender.tuned
        neighbours = {n.task_id for n in recommendation.explanation.neighbours}
        rows = tuned[(tuned["family"] == family) & tuned["task_id"].isin(neighbours)]
        found: list[tuple[str, dict[str, Any]]] = [
            (str(row.variant), json.loads(str(row.params))) for row in rows.itertuples()
        ]
        accuracy = self.recommender.accuracy
        for neighbour in recommendation.explanation.neighbours[:3]:
            if neighbour.task_id not in accuracy.index:
                continue
            scores = accuracy.loc[neighbour.task_id]
            scores = scores[scores.index.get_level_values(0) == family].dropna()
            if not scores.empty:
                variant = str(scores.index[int(np.argmax(scores.to_numpy()))][1])
                if all(variant != v for v, _ in found):
                    found.append((variant, {}))
        return found

    def _test(
        self, model: Learner, X_test: Any, y_test: Any, metric: Metric = "accuracy"
    ) -> ScoresOnTest:
        """The model on the test set, if one was given.

        Its answers meet the test labels by the rule of :func:`advisor.prediction.label_key`
        (``1`` is ``1.0``, ``True`` is not ``1``), as ``advisor predict`` and ``compare``
        score them; rows of a label the model has no class for count as wrong and are left
        out of the confusion matrix (:func:`advisor.prediction.unknown_label_warnings`).
        """
        if X_test is None or y_test is None:
            return ScoresOnTest()
        probabilities = model.predict_proba(X_test)
        chosen = np.argmax(probabilities, axis=1)
        classes = model.classes_
        right, truth = judge(y_test, np.asarray(label_texts(classes))[chosen])
        rows = match_labels(y_test, classes)
        known = rows >= 0
        confusion = np.zeros((len(classes), len(classes)), dtype=int)
        np.add.at(confusion, (rows[known], chosen[known]), 1)
        return ScoresOnTest(
            fold_score(right, truth, metric),
            score_interval(right, truth, metric),
            confusion.tolist(),
            unknown_label_warnings(y_test, classes, test=True),
            calibration(probabilities.max(axis=1), right),
        )

    def _importance(
        self,
        model: Learner,
        X_test: Any,
        y_test: Any,
        encoder: TabularEncoder | None,
        metric: Metric,
    ) -> list[ColumnImportance]:
        """The table's columns by permutation importance on the test rows.

        Nothing for images, without a test set, or past ``MOST_COLUMNS`` columns.
        """
        if X_test is None or y_test is None or np.ndim(X_test) != 2:
            return []
        groups = column_groups(encoder, np.shape(X_test)[1])
        if groups is None:
            return []
        return permutation_importance(  # answers and labels matched as the test score does
            lambda rows: label_keys(model.predict(rows)),
            X_test,
            label_keys(y_test),
            groups,
            metric=metric,
            seed=self.random_state,
        )

    def _check_runner_up(
        self, X: Any, y: Any, recommendation: Recommendation, chosen: TuningResult
    ) -> dict[str, Any]:
        mismatch = source_mismatch(self.source, X)
        if mismatch is not None:  # only scratch can run: there is no runner-up to measure
            return _skipped_check(None, mismatch)
        predicted = recommendation.predicted
        runner = recommendation.explanation.runner_up or max(  # a run saved before runner_up
            (f for f in predicted if f != recommendation.family),
            key=lambda f: predicted[f].accuracy,
        )
        source = None if runner == "scratch" else self.source
        try:
            other = tune(
                runner,
                X,
                y,
                source=source,
                n_trials=5,
                seed=self.random_state,
                storage=optuna.storages.InMemoryStorage(),
                metric=chosen.metric,
            )
        except AdvisorError as error:  # the run itself is done: keep it, say why
            return _skipped_check(
                runner, f"The runner-up {runner} could not be tuned: {error.message}"
            )
        check: dict[str, Any] = {
            "family": runner,
            "variant": other.variant,
            "cv_score": other.cv_score,
            "difference": chosen.cv_score - other.cv_score,
            "metric": chosen.metric,
        }
        try:
            self._remember(recommendation, [(recommendation.family, chosen), (runner, other)])
        except AdvisorError as error:  # measured all the same: the run and the check stand
            check["not_kept"] = error.message
        return check

    def _remember(
        self, recommendation: Recommendation, results: list[tuple[str, TuningResult]]
    ) -> None:
        """Append measured outcomes to the local knowledge base (:mod:`advisor.local_kb`).

        The knowledge base holds accuracies: each study's best trial's cross-validated
        accuracy is stored whatever the metric it maximised.
        """
        path = self.local_kb_path()
        values = recommendation.meta_features
        task_id = (
            "local/" + hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:16]
        )
        base = {
            "task_id": task_id,
            "domain": "local",
            "source": recommendation.source,
            "kind": LOCAL_KIND,
            "modality": recommendation.modality or self.source.spec.modality,  # the data's
            "ways": int(values.get("nr_class") or 0),
            "shots": int(values.get("shots_min") or 0),
            "queries": 0,
            "seed": self.random_state,
            "rescale": EXTRACT_CONFIG.rescale,
            **{FEATURE_PREFIX + k: (np.nan if v is None else v) for k, v in values.items()},
        }
        rows = [
            {
                **base,
                "family": family,
                "variant": result.variant,
                "tuned": True,
                "accuracy": result.cv_accuracy,
                "params": json.dumps(result.params, default=str),
            }
            for family, result in results
        ]
        append_local_kb(path, pd.DataFrame(rows))  # locked, atomic (advisor.local_kb)

    # -- reports ----------------------------------------------------------------------------

    def report(
        self,
        result: RunResult | Recommendation,
        path: str | Path,
        format: str = "html",
        *,
        X: Any = None,
        y: Any = None,
        data_info: DatasetInfo | None = None,
    ) -> Path:
        """Write a report of a recommendation or a run (``html``, ``md`` or ``json``).

        A run's report describes its training data. Give a recommendation the data it was
        made for, ``X`` and ``y`` (and ``data_info``, ``dataset.info`` of data read from a
        file), and its report describes that data too: a summary and sample images.
        """
        from advisor.reports import write_report  # noqa: PLC0415 - matplotlib loads lazily

        given = isinstance(result, Recommendation) and X is not None and y is not None
        return write_report(
            result,
            Path(path),
            format=format,
            advisor=self,
            data=summarize(X, y, data_info) if given else None,
            picture=sample_picture(X, y) if given else None,
        )


NO_RUNNER_UP = (
    "The family was given (--family, family=): nothing was recommended, so there is no "
    "runner-up to check it against. Run without --family for the check, or run another family "
    "too and compare the two runs (advisor compare)."
)
"""Why a run of a given family skips the regret check (until 2026-11-29 it said nothing)."""


def _skipped_check(family: str | None, reason: str) -> dict[str, Any]:
    """A regret check that measured nothing: the runner-up (if any) and why."""
    return {
        "family": family,
        "variant": None,
        "cv_score": None,
        "difference": None,
        "skipped": reason,
    }


def _checksum(path: Path | None) -> str:
    if path is None or not path.is_file():
        return "-"
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except OSError:  # unreadable: the reader says so (a local KB is then left out, with a warning)
        return "?"


def saved_runs() -> list[dict[str, Any]]:
    """The summaries of the runs saved under ``$ADVISOR_HOME/runs``, newest first.

    Each is the run's ``run.json`` (:meth:`RunResult.summary`) with ``finished``, when it was
    written (UTC, ISO 8601). Nothing is loaded but those files; a damaged one is left out here
    (:func:`scan_saved_runs` names it).
    """
    return scan_saved_runs()[0]


def scan_saved_runs() -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """Every ``run.json`` read once: the summaries, and the damaged runs.

    The summaries are :func:`saved_runs`'; the damaged runs are ``(run id, why)``, in the order
    of their ids.
    """
    summaries, damaged = [], []
    for path in sorted((get_settings().home / "runs").glob("*/run.json")):
        try:
            summary = read_run_summary(path)
            finished = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
        except AdvisorError as error:
            damaged.append((path.parent.name, error.message))
            continue
        except OSError:  # gone meanwhile (deleted by another command)
            continue
        summaries.append(summary | {"finished": finished.isoformat(timespec="seconds")})
    return sorted(summaries, key=lambda s: s["finished"], reverse=True), damaged


SUMMARY_KEYS = ("run_id", "family", "variant")
"""What every saved ``run.json`` holds (:meth:`RunResult.summary`); one without them is damaged."""


def read_run_summary(path: Path) -> dict[str, Any]:
    """A saved run's ``run.json``, checked to be a run's summary.

    Raises:
        InvalidInputError: ``run.damaged`` when it cannot be read, is not JSON (cut short,
            edited) or is not a run's summary.
    """
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        why = f"cannot be read ({error.strerror or error})"
    except ValueError as error:  # not JSON, or not UTF-8
        why = f"is not valid JSON ({str(error).splitlines()[0]})"
    else:
        missing = (
            list(SUMMARY_KEYS)
            if not isinstance(summary, dict)
            else [key for key in SUMMARY_KEYS if key not in summary]
        )
        if not missing:
            return cast("dict[str, Any]", summary)
        why = f"lacks what a run records ({', '.join(missing)})"
    raise _damaged(path, why)


def _damaged(path: Path, why: str) -> InvalidInputError:
    """The ``run.damaged`` error of the run whose ``run.json`` is ``path``."""
    run = path.parent.name
    return InvalidInputError(
        f"The saved run {run!r} is damaged: {path} {why}. Delete it with `advisor runs delete "
        f"{run}` (its model and study go too) and run again.",
        code=RUN_DAMAGED,
        run=run,
        path=str(path),
    )


def load_run(run: str | Path) -> RunResult:
    """A saved run, by id (under ``$ADVISOR_HOME/runs``) or folder, with its model and study.

    The study is reloaded from the default Optuna storage when it was kept there; a study kept
    in memory is gone, and an empty one stands in for it.

    Raises:
        NotFoundError: ``run.not_found``.
        InvalidInputError: ``run.damaged`` for a ``run.json`` that is not a run's summary
            (:func:`read_run_summary`).
    """
    folder = Path(run)
    if not folder.is_dir():
        folder = get_settings().home / "runs" / str(run)
    summary_path = folder / "run.json"
    if not summary_path.is_file():
        raise NotFoundError(f"No run {str(run)!r}.", code=RUN_NOT_FOUND)
    summary = read_run_summary(summary_path)
    with _damaged_if_invalid(summary_path):
        recommendation = (
            None
            if summary.get("recommendation") is None
            else Recommendation.model_validate(summary["recommendation"])
        )
    # the source by name, among the user's own sources too (learners alone knows only its own);
    # none for a model that does not start from one (scratch), whatever became of the source
    saved_name = saved_source_name(folder / "model")
    source_name = (
        None if saved_name is None else (recommendation.source if recommendation else saved_name)
    )
    source = None if source_name is None else get_source(source_name)
    model = Learner.load(folder / "model", source=source)
    saved_encoder = folder / "model" / ENCODER_FILE
    encoder = TabularEncoder.load(saved_encoder) if saved_encoder.is_file() else None
    try:
        study = optuna.load_study(study_name=summary["study_name"], storage=default_storage_url())
    except (KeyError, ValueError):
        study = optuna.create_study(storage=optuna.storages.InMemoryStorage())
    with _damaged_if_invalid(summary_path):
        return _saved_run(
            summary,
            folder,
            model=model,
            encoder=encoder,
            study=study,
            recommendation=recommendation,
        )


@contextmanager
def _damaged_if_invalid(path: Path) -> Iterator[None]:
    """Raise ``run.damaged`` for ``path`` when a value of its summary is not what it should be."""
    try:
        yield
    except (KeyError, TypeError, ValueError) as error:  # pydantic's ValidationError too
        why = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise _damaged(path, f"holds a value a run does not record ({why})") from None


def _saved_run(
    summary: dict[str, Any],
    folder: Path,
    *,
    model: Learner,
    encoder: TabularEncoder | None,
    study: optuna.Study,
    recommendation: Recommendation | None,
) -> RunResult:
    """The :class:`RunResult` of a saved run's summary and files."""
    return RunResult(
        family=summary["family"],
        variant=summary["variant"],
        best_params=summary["best_params"],
        cv_score=summary["cv_score"],
        test_score=summary["test_score"],
        test_interval=_interval(summary.get("test_interval")),
        importance=[ColumnImportance.model_validate(i) for i in summary.get("importance", [])],
        cv_recalls=[ClassRecall.model_validate(i) for i in summary.get("cv_recalls", [])],
        calibration=_calibration(summary.get("calibration")),
        learning_curve=_learning_curve(summary.get("learning_curve")),
        recalibration=None
        if summary.get("recalibration") is None
        else Recalibration.model_validate(summary["recalibration"]),
        model=model,
        study=study,
        recommendation=recommendation,
        model_path=Path(summary["model_path"]),
        seconds=summary["seconds"],
        run_id=summary["run_id"],
        runner_up=summary.get("runner_up"),
        confusion=summary.get("confusion"),
        labels=summary.get("labels", []),
        encoder=encoder,
        warnings=summary.get("warnings", []),
        data=_data_summary(summary.get("data")),
        samples=folder / SAMPLES_FILE if (folder / SAMPLES_FILE).is_file() else None,
        metric=summary.get("metric", "accuracy"),  # runs saved before metrics: accuracy
        trials_at_save=_trials_at_save(summary.get("trials"), study),
    )


def finished_trials(study: optuna.Study) -> int:
    """How many trials of ``study`` ran to an end (:data:`FINISHED`)."""
    return len(study.get_trials(deepcopy=False, states=FINISHED))


def _trials_at_save(saved: Any, study: optuna.Study) -> int:
    """A saved run's finished trials: its ``run.json``'s count, checked against its study.

    Runs saved before only finished trials were counted counted the trials enqueued and never
    run too, so the smaller of the two counts; a study continued by a later run has more trials
    than the run saw; a study kept in memory is gone (the saved count stands).
    """
    counted = finished_trials(study)
    if isinstance(saved, bool) or not isinstance(saved, int):
        return counted
    return min(saved, counted) if counted else saved


def _learning_curve(saved: Any) -> LearningCurve | None:
    """A saved learning curve, or ``None`` (not asked for, or a run saved before it was)."""
    return None if saved is None else LearningCurve.model_validate(saved)


def _calibration(saved: Any) -> Calibration | None:
    """A saved calibration, or ``None`` (no test set, or a run saved before it was kept)."""
    return None if saved is None else Calibration.model_validate(saved)


def _interval(saved: Any) -> tuple[float, float] | None:
    """A saved test interval, or ``None`` (no test set, or a run saved before intervals)."""
    if not isinstance(saved, list) or len(saved) != 2:
        return None
    return (float(saved[0]), float(saved[1]))


def _data_summary(saved: Any) -> DataSummary | None:
    """The run's data summary, or ``None`` for a run saved before runs kept one."""
    try:
        return None if saved is None else DataSummary.model_validate(saved)
    except ValidationError:
        return None
