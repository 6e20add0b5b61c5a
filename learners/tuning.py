"""Optuna tuning of a learner family on the support data only.

**Search spaces.** Each family declares one (:data:`SPACES`); the variant is a categorical
parameter and each variant's hyper-parameters are conditional on it (define-by-run), named
``variant.parameter`` so that TPE models each branch apart. Ranges follow common practice for
each algorithm (log scales for learning rates and regularisation strengths).

**Validation, on the support set only** (a test set is never seen):

* every class has at least 2 examples → stratified ``k``-fold cross-validation,
  ``k = min(folds, smallest class)``, seeded shuffle;
* some class has a single example (a 1-shot task) → nothing can be held out without removing
  that class from training, so each fold trains on *all* support examples and validates on
  *augmented copies* of them (affine jitter for images, Gaussian noise of 0.3 standard
  deviations for vectors), a fresh augmentation seed per fold. This measures robustness to the
  kind of variation the queries will show rather than true generalisation — an optimistic
  proxy, and the only one a 1-shot task allows; so no copy counts as a held-out example, and
  :func:`best_of` keeps the incumbent unless it fails outright.

**The metric** (:data:`METRICS`) is accuracy, or *balanced accuracy* — the mean over the
classes of each class's recall (:func:`fold_score`) — for imbalanced classes, where accuracy
rewards a model that predicts the larger classes. The score of a trial is the metric's mean over
the folds (its plain accuracy is kept too, as the ``accuracy`` user attribute); after each fold
the running mean is reported to Optuna so a pruner (median, or Hyperband with the folds as
resource) can stop a poor trial early. A trial that raises is recorded as failed with its
reason (the exception's message, in the trial's ``fail_reason`` user attribute) and the study
goes on.

**Storage** is any Optuna storage URL; the default is a SQLite file under ``ADVISOR_HOME``
(the same variable the service's settings read). Sampling is seeded (TPE); budgets are a number
of trials and/or seconds.
"""

from __future__ import annotations

import hashlib
import math
import os
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist
from typing import Any, Literal, cast

import numpy as np
import optuna
import torch
from sklearn.model_selection import StratifiedKFold

from learners.backbones import make_backbone
from learners.errors import (
    BAD_PARAMETER,
    STUDY_MISMATCH,
    ConfigurationError,
)
from learners.families.base import CLASS_PRIORS, ClassPrior, Learner, label_codes
from learners.registry import learner_class, variants
from learners.source import Source
from learners.tensors import InputSpec, to_tensor
from learners.training import augment_images, generator
from meta_features.errors import UNWRITABLE

Suggest = Callable[[optuna.Trial, str, int], dict[str, Any]]
"""``(trial, variant, most frozen blocks) → parameters``; the backbone's depth bounds freezing."""

MOST_FROZEN = 3
"""Freezing is searched in ``0..min(3, blocks)``: freezing every block of Conv-4 leaves only the
head to train, which the linear probe already covers."""
PrunerName = Literal["median", "hyperband", "none"]
Metric = Literal["accuracy", "balanced_accuracy"]
METRICS: tuple[Metric, ...] = ("accuracy", "balanced_accuracy")
"""What a study maximises: see :func:`fold_score`."""
INCUMBENT = "incumbent"
"""User attribute of the trial that :func:`best_of` keeps unless beaten by one standard error."""
ANSWERS = "held_out_answers"
"""User attribute: one character per support example, ``1`` / ``0`` where a fold that did not
train on it validated it right / wrong, ``-`` where none did — for paired comparisons."""
CLASS_PRIOR = "class_prior"
"""Trial parameter and user attribute: the learner's :attr:`~Learner.class_prior`. Searched
(``training`` / ``equal``) only when the study maximises balanced accuracy."""
DEFAULTS = "defaults"
"""User attribute of a warm-start trial with no parameters: it runs the variant's defaults."""


def _finetune(
    trial: optuna.Trial,
    prefix: str,
    most_frozen: int,
    lr: tuple[float, float] = (1e-4, 1e-2),
    steps: tuple[int, int, int] = (10, 80, 10),
) -> dict[str, Any]:
    return {
        "lr": trial.suggest_float(f"{prefix}.lr", *lr, log=True),
        "steps": trial.suggest_int(f"{prefix}.steps", steps[0], steps[1], step=steps[2]),
        "frozen_blocks": trial.suggest_int(f"{prefix}.frozen_blocks", 0, most_frozen),
        "weight_decay": trial.suggest_float(f"{prefix}.weight_decay", 1e-6, 1e-2, log=True),
        "augment": trial.suggest_float(f"{prefix}.augment", 0.0, 1.0),
    }


def _adaptation(trial: optuna.Trial, prefix: str, _most_frozen: int) -> dict[str, Any]:
    return {
        "steps": trial.suggest_int(f"{prefix}.steps", 1, 20),
        "inner_lr": trial.suggest_float(f"{prefix}.inner_lr", 1e-3, 1.0, log=True),
    }


def _inverse_regularisation(trial: optuna.Trial, prefix: str, _most_frozen: int) -> dict[str, Any]:
    return {"C": trial.suggest_float(f"{prefix}.C", 1e-4, 1e3, log=True)}


SPACES: dict[str, dict[str, Suggest]] = {
    "transfer": {
        "finetune": _finetune,
        "linear_probe": _inverse_regularisation,
        "baseline_pp": lambda t, p, _: {
            "lr": t.suggest_float(f"{p}.lr", 1e-3, 1e-1, log=True),
            "epochs": t.suggest_int(f"{p}.epochs", 20, 200, step=20),
            "scale": t.suggest_float(f"{p}.scale", 2.0, 30.0, log=True),
        },
    },
    "meta": {
        "protonet": lambda t, p, _: {
            "distance": t.suggest_categorical(f"{p}.distance", ["euclidean", "cosine"]),
            "temperature": t.suggest_float(f"{p}.temperature", 0.1, 10.0, log=True),
        },
        "maml": _adaptation,
        "fomaml": _adaptation,
        "anil": _adaptation,
    },
    "hybrid": {
        "protomaml": lambda t, p, most: _finetune(t, p, most, lr=(1e-5, 5e-3), steps=(5, 60, 5)),
    },
    "scratch": {
        "logreg": _inverse_regularisation,
        "gbm": lambda t, p, _: {
            "learning_rate": t.suggest_float(f"{p}.learning_rate", 0.01, 0.5, log=True),
            "n_estimators": t.suggest_int(f"{p}.n_estimators", 20, 300, log=True),
            "max_depth": t.suggest_int(f"{p}.max_depth", 1, 6),
            "min_samples_leaf": t.suggest_int(f"{p}.min_samples_leaf", 1, 20, log=True),
            "subsample": t.suggest_float(f"{p}.subsample", 0.5, 1.0),
        },
        "cnn": lambda t, p, _: {
            "lr": t.suggest_float(f"{p}.lr", 1e-4, 1e-2, log=True),
            "steps": t.suggest_int(f"{p}.steps", 20, 200, step=20),
            "weight_decay": t.suggest_float(f"{p}.weight_decay", 1e-6, 1e-2, log=True),
            "augment": t.suggest_float(f"{p}.augment", 0.0, 1.0),
        },
    },
}


def suggest(
    trial: optuna.Trial,
    family: str,
    choices: Sequence[str] | None = None,
    *,
    frozen_limit: int = MOST_FROZEN,
) -> tuple[str, dict[str, Any]]:
    """The variant and hyper-parameters a trial proposes for ``family``.

    ``frozen_limit`` bounds the frozen blocks searched: :func:`most_frozen` of the source
    (the MLP of a vector source has two blocks, Conv-4 four).
    """
    variant = suggest_variant(trial, family, choices)
    return variant, SPACES[family][variant](trial, variant, frozen_limit)


def suggest_variant(trial: optuna.Trial, family: str, choices: Sequence[str] | None = None) -> str:
    """The variant a trial proposes for ``family`` (the ``variant`` parameter, if it has one)."""
    names = list(choices) if choices else variants(family)
    return str(trial.suggest_categorical("variant", names)) if len(names) > 1 else names[0]


def default_parameters(family: str, variant: str) -> dict[str, Any]:
    """The variant's default hyper-parameters (its constructor's), ``random_state`` aside."""
    defaults = learner_class(family, variant)().hyper_parameters()
    return {k: v for k, v in defaults.items() if k != "random_state"}


def most_frozen(source: Source | None) -> int:
    """The most blocks a search may freeze: ``min(MOST_FROZEN, blocks of the backbone)``."""
    if source is None:
        return MOST_FROZEN
    return min(MOST_FROZEN, len(make_backbone(source.backbone, source.spec).blocks))


def trial_parameters(family: str, variant: str, params: dict[str, Any]) -> dict[str, Any]:
    """A configuration in the study's parameter names (``variant``, ``variant.name``).

    Names the variant's space does not suggest are ignored by Optuna when the trial runs.
    """
    fixed: dict[str, Any] = {"variant": variant} if len(variants(family)) > 1 else {}
    fixed.update({f"{variant}.{k}": v for k, v in params.items() if k != "random_state"})
    return fixed


@dataclass(frozen=True, eq=False)
class Split:
    """One validation fold on the support set.

    Train rows; validation inputs and codes; and ``origin``, the support rows the validation
    inputs were made from (the rows themselves, or the examples that were copied).
    """

    train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    origin: np.ndarray


def validation_splits(
    X: np.ndarray, codes: np.ndarray, spec: InputSpec, *, folds: int = 5, seed: int = 0
) -> list[Split]:
    """The folds of the rule in the module docstring (stratified, or augmented copies)."""
    counts = np.bincount(codes)
    smallest = int(counts[counts > 0].min())
    if smallest >= 2:
        splitter = StratifiedKFold(n_splits=min(folds, smallest), shuffle=True, random_state=seed)
        return [Split(train, X[val], codes[val], val) for train, val in splitter.split(X, codes)]
    everything = np.arange(codes.size)
    return [
        Split(everything, _augmented_copy(X, spec, seed + fold), codes, everything)
        for fold in range(folds)
    ]


def study_splits(
    X: Any, y: Any, source: Source | None, *, folds: int = 5, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, list[Split]]:
    """The inputs, label codes ``0..K-1`` and folds a study of ``(X, y)`` validates on.

    What :func:`tune` builds, for work that retraces its folds (a learning curve, a
    recalibration) with the same seed.
    """
    inputs = np.asarray(X)
    codes = np.unique(np.asarray(y), return_inverse=True)[1].reshape(-1).astype(np.int64)
    spec = source.spec if source is not None else InputSpec.from_data(inputs)
    return inputs, codes, validation_splits(inputs, codes, spec, folds=folds, seed=seed)


def _augmented_copy(X: np.ndarray, spec: InputSpec, seed: int) -> np.ndarray:
    rng = generator(seed)
    if spec.modality == "image":
        images = augment_images(to_tensor(X, spec), rng, strength=1.0).permute(0, 2, 3, 1)
        return images[..., 0].numpy() if spec.channels == 1 else images.numpy()
    scale = np.asarray(spec.scale if spec.scale is not None else np.ones(X.shape[1]))
    noise = torch.randn(X.shape, generator=rng, dtype=torch.float64).numpy()
    return np.asarray(np.asarray(X, dtype=np.float64) + 0.3 * scale * noise)


def fold_score(right: np.ndarray, truth: np.ndarray, metric: Metric = "accuracy") -> float:
    """The ``metric`` of predictions marked ``right`` (booleans) against the labels ``truth``.

    * accuracy: ``(1/n) Σᵢ [ŷᵢ = yᵢ]``;
    * balanced accuracy: the mean over the classes present of each class's recall,
      ``(1/|C|) Σ_{c∈C} (1/n_c) Σ_{i: yᵢ=c} [ŷᵢ = yᵢ]`` — Brodersen, Ong, Stephan & Buhmann,
      "The balanced accuracy and its posterior distribution", ICPR 2010; scikit-learn's
      ``balanced_accuracy_score`` (not adjusted for chance). It equals accuracy when the classes
      are equally many, and a model that always predicts one class scores ``1/|C|``.

    Raises:
        ConfigurationError: ``learners.bad_parameter`` for an unknown metric.
    """
    right = np.asarray(right, dtype=bool)
    check_metric(metric)
    if right.size == 0:
        return math.nan
    if metric == "accuracy":
        return float(right.mean())
    _, codes = np.unique(np.asarray(truth), return_inverse=True)
    return float(np.mean(np.bincount(codes, weights=right) / np.bincount(codes)))


def check_metric(metric: str) -> Metric:
    """``metric`` if it is one of :data:`METRICS`.

    Raises:
        ConfigurationError: ``learners.bad_parameter`` for an unknown metric.
    """
    if metric not in METRICS:
        raise ConfigurationError(
            f"Unknown metric {metric!r}: choose one of {', '.join(METRICS)}.", code=BAD_PARAMETER
        )
    return metric


def metric_label(metric: str) -> str:
    """The metric's name in words: ``balanced accuracy`` for ``balanced_accuracy``."""
    return metric.replace("_", " ")


def example_weights(y: Any, metric: Metric = "accuracy") -> np.ndarray:
    """Each example's share of ``metric`` over the labels ``y``; the shares sum to 1.

    ``1/n`` for accuracy, ``1/(|C| n_c)`` for balanced accuracy (an example of class ``c``
    among ``n_c``): so ``Σᵢ wᵢ [ŷᵢ = yᵢ]`` is the metric, and the paired comparison of
    :func:`best_of` weighs each example as the metric does.
    """
    _, codes = np.unique(np.asarray(y), return_inverse=True)
    codes = codes.reshape(-1)
    if check_metric(metric) == "accuracy" or codes.size == 0:
        return np.full(codes.size, 1.0 / max(codes.size, 1))
    counts = np.bincount(codes)
    return np.asarray(1.0 / (np.count_nonzero(counts) * counts[codes]))


def default_storage_url() -> str:
    """``sqlite:///$ADVISOR_HOME/optuna.sqlite3`` (``~/.automl-advisor`` by default)."""
    home = Path(os.environ.get("ADVISOR_HOME", Path.home() / ".automl-advisor"))
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as error:  # a file there, a read-only or pseudo file system, no permission
        raise ConfigurationError(
            f"Cannot write ADVISOR_HOME {home}: {error.strerror or error}. Point ADVISOR_HOME "
            "at a folder that can be created and written.",
            code=UNWRITABLE,
            path=str(home),
        ) from None
    return f"sqlite:///{home / 'optuna.sqlite3'}"


def make_pruner(name: PrunerName, n_folds: int) -> optuna.pruners.BasePruner:
    """The median pruner, Hyperband over the folds, or none."""
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=0)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max(n_folds, 1))
    if name == "none":
        return optuna.pruners.NopPruner()
    raise ConfigurationError(f"Unknown pruner {name!r}.", code=BAD_PARAMETER)


@dataclass(frozen=True, eq=False)
class TuningResult:
    """The outcome of :func:`tune`."""

    family: str
    variant: str
    params: dict[str, Any]
    cv_score: float
    study: optuna.Study
    seconds: float
    metric: Metric = "accuracy"
    cv_accuracy: float = math.nan
    """The best trial's plain cross-validated accuracy, whatever the metric (``cv_score``)."""
    class_prior: ClassPrior = "training"
    """The best trial's class priors (:attr:`Learner.class_prior`)."""
    answers: str = ""
    """The best trial's held-out answers (:data:`ANSWERS`), one per training example."""

    def make(self, source: Source | None) -> Learner:
        """A fresh (unfitted) learner with the best variant, hyper-parameters and priors."""
        learner = learner_class(self.family, self.variant)(source=source, **self.params)
        learner.class_prior = self.class_prior
        return learner


def tune(
    family: str,
    X: Any,
    y: Any,
    *,
    source: Source | None = None,
    choices: Sequence[str] | None = None,
    n_trials: int | None = 20,
    timeout: float | None = None,
    storage: str | optuna.storages.BaseStorage | None = None,
    study_name: str | None = None,
    pruner: PrunerName = "median",
    folds: int = 5,
    seed: int = 0,
    warm_start: Sequence[tuple[str, dict[str, Any]]] = (),
    progress: bool = False,
    callbacks: Sequence[Callable[[optuna.Study, optuna.trial.FrozenTrial], None]] = (),
    sampler_seed: int | None = None,
    incumbent: bool = False,
    metric: Metric = "accuracy",
) -> TuningResult:
    """Tune ``family`` on ``(X, y)`` — the support data — with Optuna.

    Args:
        family: ``transfer``, ``meta``, ``hybrid`` or ``scratch``.
        X: the training (support) inputs.
        y: their labels, of any kind.
        source: the source (not needed by ``scratch``).
        choices: the variants to search among (all of the family's by default).
        n_trials: trial budget (``None``: only the time budget counts).
        timeout: time budget in seconds.
        storage: an Optuna storage or URL; :func:`default_storage_url` when ``None``.
        study_name: the study's name (a fresh unique one when ``None``). A study of that name
            in ``storage`` is continued — its trials count, its warm start is not repeated —
            if it was tuning the same family on the same data (:func:`data_fingerprint`).
        pruner: ``"median"``, ``"hyperband"`` or ``"none"``.
        folds: the most validation folds (see the module docstring).
        seed: seeds the sampler, the folds and every learner.
        warm_start: ``(variant, hyper-parameters)`` configurations tried first (Optuna's
            ``enqueue_trial``), e.g. the best of similar tasks in the knowledge base;
            parameters outside the search space are left to the sampler. Empty
            hyper-parameters stand for the variant's defaults, tried exactly as they are
            (some lie outside the search space: no weight decay, say). Only as many as the
            trial budget runs are enqueued, first ones first (trials still waiting in a
            continued study count): a 1-trial budget runs the first configuration, and no
            enqueued trial is left waiting, never run.
        progress: show Optuna's progress bar.
        callbacks: called after every trial with the study and the finished trial (progress
            reports; ``study.stop()`` in one ends the study after the running trial).
        sampler_seed: the sampler's seed when it must differ from ``seed`` — each of several
            workers sharing one study gives its own, or they would all propose the same
            configurations; folds and learners keep ``seed``.
        incumbent: the first ``warm_start`` configuration is the *incumbent* (the defaults
            a recommendation stands on): it is kept unless the best trial beats it by more
            than one standard error (:func:`best_of`).
        metric: what the study maximises, ``accuracy`` or ``balanced_accuracy``
            (:func:`fold_score`); a study continued by name must have been tuning for it.

    Raises:
        ConfigurationError: ``learners.bad_parameter`` for a bad budget
            (:func:`check_budget`; 0 trials only continue a named study that has a completed
            trial), a bad pruner or metric; ``learners.study_mismatch`` for a study of another
            family, data or metric; ``learners.unknown_family`` / ``unknown_variant`` for bad
            names.
        InvalidInputError: ``learners.bad_training_data`` for labels not one per input, or of
            fewer than two classes — before any trial.
    """
    check_budget(n_trials, timeout, continuing=study_name is not None)
    inputs = np.asarray(X)
    codes = label_codes(inputs, y, "Tuning")[1]
    weights = example_weights(codes, metric)  # refuses an unknown metric before any work
    for name in choices or variants(family):
        learner_class(family, name)
    spec = source.spec if source is not None else InputSpec.from_data(inputs)
    splits = validation_splits(inputs, codes, spec, folds=folds, seed=seed)
    study = optuna.create_study(
        study_name=study_name or fresh_study_name(family, seed),
        storage=storage if storage is not None else default_storage_url(),
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed if sampler_seed is None else sampler_seed),
        pruner=make_pruner(pruner, len(splits)),
        load_if_exists=study_name is not None,
    )
    claim_study(study, family, data_fingerprint(inputs, codes), metric)
    if n_trials == 0 and not _completed(study):
        raise ConfigurationError(
            f"n_trials is 0 and the study {study.study_name!r} has no completed trial to "
            "finish from: give at least 1 trial.",
            code=BAD_PARAMETER,
        )
    objective = _objective(
        family,
        inputs,
        codes,
        splits=splits,
        source=source,
        choices=choices,
        seed=seed,
        metric=metric,
    )
    start = time.perf_counter()
    for position, (variant, params) in enumerate(warm_start):
        if n_trials is not None and _waiting(study) >= n_trials:
            break  # the budget runs no more: a trial left waiting would only linger
        marks = {INCUMBENT: True} if incumbent and position == 0 else {}
        if not params:
            marks[DEFAULTS] = True
        study.enqueue_trial(
            trial_parameters(family, variant, params),
            user_attrs=marks or None,
            skip_if_exists=True,
        )
    study.optimize(
        objective,
        n_trials=n_trials,
        timeout=timeout,
        catch=(Exception,),
        show_progress_bar=progress,
        callbacks=list(callbacks),
    )
    return best_of(study, family, seconds=time.perf_counter() - start, weights=weights)


def check_budget(n_trials: Any, timeout: Any, *, continuing: bool = False) -> None:
    """Refuse a budget no study can run on, before any work.

    ``n_trials`` is a whole number of trials, at least 1 (0 only when ``continuing`` a named
    study: it finishes from the trials already done), or ``None`` (only the time budget
    counts); ``timeout`` a finite number of seconds above 0, or ``None``; not both ``None``.

    Raises:
        ConfigurationError: ``learners.bad_parameter``.
    """
    if n_trials is None and timeout is None:
        raise ConfigurationError("Give a trial budget, a time budget, or both.", code=BAD_PARAMETER)
    least = 0 if continuing else 1
    if n_trials is not None and (
        isinstance(n_trials, bool) or not isinstance(n_trials, int | np.integer) or n_trials < least
    ):
        raise ConfigurationError(
            f"n_trials is {n_trials!r}: give a whole number of trials, at least {least} "
            "(None: only the time budget counts).",
            code=BAD_PARAMETER,
        )
    if timeout is not None and (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float | np.integer | np.floating)
        or not math.isfinite(timeout)
        or timeout <= 0
    ):
        raise ConfigurationError(
            f"timeout is {timeout!r}: give a number of seconds above 0 (None: no time limit).",
            code=BAD_PARAMETER,
        )


def _waiting(study: optuna.Study) -> int:
    """How many trials of ``study`` are enqueued and not yet run."""
    return len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.WAITING,)))


def _completed(study: optuna.Study) -> bool:
    """Whether a trial of ``study`` completed."""
    done = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    return bool(done)


def data_fingerprint(X: np.ndarray, codes: np.ndarray) -> str:
    """A short SHA-256 of the training inputs and labels: which data a study tunes on."""
    digest = hashlib.sha256()
    for part in (np.ascontiguousarray(X), np.ascontiguousarray(codes)):
        digest.update(str((part.dtype.str, part.shape)).encode())
        digest.update(part.tobytes())
    return digest.hexdigest()[:20]


def claim_study(study: optuna.Study, family: str, data: str, metric: Metric = "accuracy") -> None:
    """Mark ``study`` as tuning ``family`` on ``data`` for ``metric``.

    A study continued by name that was tuning another family, other data or for another
    metric is refused: its trials would not be comparable.

    Raises:
        ConfigurationError: ``learners.study_mismatch``.
    """
    recorded = study.user_attrs
    if recorded.get("family", family) != family:
        problem = f"was tuning {recorded['family']}, not {family}"
    elif recorded.get("data", data) != data:
        problem = "was tuning on other data than this"
    elif (recorded_metric(study) or metric) != metric:
        problem = f"was tuning for {recorded_metric(study)}, not {metric}"
    else:
        problem = ""
    if problem:
        raise ConfigurationError(
            f"The study {study.study_name!r} {problem}; give another study name.",
            code=STUDY_MISMATCH,
        )
    study.set_user_attr("family", family)
    study.set_user_attr("data", data)
    study.set_user_attr("metric", metric)


def recorded_metric(study: optuna.Study) -> Metric | None:
    """The metric ``study`` was tuning for; ``None`` for a study :func:`tune` has not claimed.

    A study claimed before metrics were recorded (it records its family) was tuning accuracy.
    """
    recorded = study.user_attrs
    if "metric" in recorded:
        return check_metric(str(recorded["metric"]))
    return "accuracy" if "family" in recorded else None


def fresh_study_name(prefix: str, seed: int = 0) -> str:
    """A readable study name that no other study has: ``prefix``, the time, and more.

    The time to the second is not enough: one process may start several studies a second.
    """
    return f"{prefix}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{seed}-{uuid.uuid4().hex[:8]}"


def standard_error(accuracy: float, n: int) -> float:
    """Agresti–Coull standard error (``z = 1``) of an accuracy over ``n`` examples."""
    adjusted_n = n + 1.0
    adjusted = (accuracy * n + 0.5) / adjusted_n
    return math.sqrt(adjusted * (1.0 - adjusted) / adjusted_n)


def best_of(
    study: optuna.Study,
    family: str,
    *,
    seconds: float = 0.0,
    weights: np.ndarray | None = None,
) -> TuningResult:
    """The best configuration of a (possibly shared) study of ``family``.

    ``weights`` are the support examples' shares of the study's metric
    (:func:`example_weights`; equal when ``None``, right for accuracy).

    When the study has a completed *incumbent* trial (see :func:`tune`: the recommended
    defaults), it is kept unless the best trial beats it by more than one standard error —
    the one-standard-error rule (Breiman et al. 1984, *Classification and Regression Trees*,
    §3.4.3; Hastie et al. 2009, §7.10) — judged as follows. With a handful of validation
    examples the best of 20 trials is mostly the luckiest, and a search that follows it lands
    below the defaults.

    **Paired, and corrected for the choice among m trials** (when both trials recorded their
    held-out answers, :data:`ANSWERS`). Both were validated on the same support examples, so
    the comparison is McNemar's (McNemar 1947; Dietterich 1998, *Neural Computation* 10(7),
    for comparing classifiers): with ``W`` examples the best got right and the incumbent
    wrong, and ``L`` the other way round, the difference in accuracy is ``(W − L) / n`` with
    standard error ``√(W + L) / n``. One standard error is a one-sided level of
    ``α = Φ(−1) ≈ 0.159``; the best trial was picked among the ``m`` completed ones, so that
    level is shared among them (Bonferroni):

        switch  ⇔  W − L > z_m √(W + L),   z_m = Φ⁻¹(1 − Φ(−1) / m)   (z_1 = 1, z_20 ≈ 2.41).

    For balanced accuracy each example counts with its weight ``wᵢ`` (its share of the
    metric): with ``dᵢ = [best right] − [incumbent right]`` over the examples both validated,
    the difference is ``D = Σ wᵢ dᵢ`` and its standard error ``√(Σ wᵢ² dᵢ²)`` — the same
    sign-test variance, each discordant example weighted; with equal weights it is the rule
    above. Switch ⇔ ``D > z_m √(Σ wᵢ² dᵢ²)``.

    **Otherwise** (no held-out example — 1-shot copies —, or a study from before the answers
    were recorded): one Agresti–Coull standard error (``z = 1``; Agresti & Coull 1998) of the
    best trial's accuracy ``a`` over ``n``, the distinct support examples validated on by a
    fold that did not train on them. Augmented copies of 1-shot examples count for nothing —
    each fold trains on the very examples it copies, so the copies measure how well a
    configuration fits its own training data, not how it generalises — and with ``n = 0`` the
    standard error is ½: the incumbent is kept unless it trails by more than half the
    examples. The Agresti–Coull error stays positive at ``a = 1``:

        ñ = n + 1,   ã = (a n + ½) / ñ,   SE = √(ã (1 − ã) / ñ).

    Raises:
        ConfigurationError: ``learners.bad_parameter`` when no trial completed, with every
            trial's failure reason.
    """
    completed = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not completed:
        reasons = {t.number: t.user_attrs.get("fail_reason") for t in study.trials}
        raise ConfigurationError(
            f"No trial of the {family} study completed: {reasons}.", code=BAD_PARAMETER
        )
    best = study.best_trial
    incumbents = [t for t in completed if t.user_attrs.get(INCUMBENT)]
    if incumbents and not _beats(best, incumbents[0], candidates=len(completed), weights=weights):
        best = incumbents[0]
    variant, params = best.user_attrs["variant"], dict(best.user_attrs["params"])
    metric = recorded_metric(study) or "accuracy"
    score = float(best.value if best.value is not None else math.nan)
    accuracy = best.user_attrs.get("accuracy", score if metric == "accuracy" else math.nan)
    return TuningResult(
        family,
        variant,
        params,
        score,
        study,
        seconds,
        metric=metric,
        cv_accuracy=float(accuracy),
        class_prior=best.user_attrs.get(CLASS_PRIOR, "training"),
        answers=best.user_attrs.get(ANSWERS, ""),
    )


def selection_z(candidates: int) -> float:
    """``z_m = Φ⁻¹(1 − Φ(−1) / m)``: one standard error's level shared among ``m`` candidates."""
    normal = NormalDist()
    return normal.inv_cdf(1.0 - normal.cdf(-1.0) / max(candidates, 1))


def _beats(
    best: optuna.trial.FrozenTrial,
    incumbent: optuna.trial.FrozenTrial,
    *,
    candidates: int,
    weights: np.ndarray | None = None,
) -> bool:
    """Whether ``best`` beats ``incumbent`` by the rule of :func:`best_of`."""
    if best.value is None or incumbent.value is None:
        return True
    ours = np.array(list(best.user_attrs.get(ANSWERS, "")), dtype="U1")
    theirs = np.array(list(incumbent.user_attrs.get(ANSWERS, "")), dtype="U1")
    if ours.size == theirs.size and ((ours != "-") & (theirs != "-")).any():
        both = (ours != "-") & (theirs != "-")
        shares = np.ones(ours.size) if weights is None or len(weights) != ours.size else weights
        d = np.where(both, (ours == "1").astype(float) - (theirs == "1"), 0.0)
        lead, spread = float(shares @ d), math.sqrt(float((shares**2) @ (d**2)))
        return lead > selection_z(candidates) * spread
    accuracy = float(best.value)
    validated = int(best.user_attrs.get("validated", 0))
    return incumbent.value < accuracy - standard_error(accuracy, validated)


def default_class_prior(learner: type[Learner], metric: Metric) -> ClassPrior:
    """The class priors a learner starts from (a defaults trial, the incumbent).

    Equal for balanced accuracy where its probabilities carry the training frequencies
    (:attr:`Learner.learns_priors`); as fitted otherwise.
    """
    return "equal" if metric == "balanced_accuracy" and learner.learns_priors else "training"


def _class_prior(trial: optuna.Trial, learner: type[Learner], metric: Metric) -> ClassPrior:
    """The trial's class priors: searched for balanced accuracy, except in a defaults trial."""
    if metric != "balanced_accuracy" or trial.user_attrs.get(DEFAULTS):
        return default_class_prior(learner, metric)
    return cast("ClassPrior", trial.suggest_categorical(CLASS_PRIOR, list(CLASS_PRIORS)))


def _objective(
    family: str,
    X: np.ndarray,
    codes: np.ndarray,
    *,
    splits: list[Split],
    source: Source | None,
    choices: Sequence[str] | None,
    seed: int,
    metric: Metric = "accuracy",
) -> Callable[[optuna.Trial], float]:
    frozen_limit = most_frozen(source)

    def objective(trial: optuna.Trial) -> float:
        if trial.user_attrs.get(DEFAULTS):  # exactly the defaults, in the space or not
            variant = suggest_variant(trial, family, choices)
            params = default_parameters(family, variant)
        else:
            variant, params = suggest(trial, family, choices, frozen_limit=frozen_limit)
        params["random_state"] = seed
        prior = _class_prior(trial, learner_class(family, variant), metric)
        trial.set_user_attr("variant", variant)
        trial.set_user_attr("params", params)
        trial.set_user_attr(CLASS_PRIOR, prior)
        scores: list[float] = []
        accuracies: list[float] = []
        validated = np.zeros(codes.size, dtype=bool)
        answers = np.full(
            codes.size, "-"
        )  # per support example: held out and right (1) or wrong (0)
        try:
            for step, split in enumerate(splits):
                model = learner_class(family, variant)(source=source, **params)
                model.class_prior = prior
                model.fit(X[split.train], codes[split.train])
                right = model.predict(split.X_val) == split.y_val
                scores.append(fold_score(right, split.y_val, metric))
                accuracies.append(float(np.mean(right)))
                trial.set_user_attr("accuracy", float(np.mean(accuracies)))
                held_out = ~np.isin(split.origin, split.train)  # copies of training rows are not
                validated[split.origin[held_out]] = True
                answers[split.origin[held_out]] = np.where(right[held_out], "1", "0")
                trial.set_user_attr("validated", int(validated.sum()))
                trial.set_user_attr(ANSWERS, "".join(answers))
                trial.report(float(np.mean(scores)), step)
                if trial.should_prune():
                    raise optuna.TrialPruned
        except optuna.TrialPruned:
            raise
        except Exception as error:
            trial.set_user_attr("fail_reason", f"{type(error).__name__}: {error}")
            raise
        return float(np.mean(scores))

    return objective
