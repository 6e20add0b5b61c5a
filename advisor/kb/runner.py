"""Measuring one knowledge-base task: its meta-features, and every learner's accuracy on it."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import optuna

import meta_features as mf
from advisor.datasets.tasks import Task
from advisor.kb.domains import draw_task, kb_source
from advisor.kb.grid import TaskSpec
from learners import FAMILIES, Source, make_learner
from learners.tuning import tune

FEATURE_PREFIX = "mf."
EXTRACT_CONFIG = mf.ExtractConfig(rescale="standard")
"""How the advisor measures data: the knowledge base's tasks and a user's alike.

The numeric columns of vector data are standardised before the classic groups describe them
(PyMFE's ``rescale="standard"``). Every tabular learner standardises its inputs, or (boosted
trees) does not see their scale, so a table's units say nothing about which family wins, and
must not move its place among the knowledge base's tasks. Until 2026-11-28 the raw values
were described: a real table in its own units (grams, years, pixels of 0–16) lay far outside
the range of the knowledge base's synthetic tables, which come near-standardised, and the same
table standardised by its user lay inside it.
"""

ZERO = 1e-12


def measure(
    X: Any,
    y: Any,
    *,
    source: Source | None,
    seed: int,
    categorical: Any = None,
    groups: Sequence[str] | None = None,
) -> mf.MetaFeatures:
    """The meta-features of ``(X, y)`` (against ``source``, if any), as the advisor measures data.

    Values within ``ZERO`` of 0 are set to 0: the standardised columns' means are 0 up to float
    rounding, and rounding noise must not look like a signal to the recommender's trees.
    """
    features = mf.extract(
        X,
        y,
        groups=groups,
        source=None if source is None else source.profile(),
        random_state=seed,
        categorical=categorical,
        config=EXTRACT_CONFIG,
    )
    return mf.MetaFeatures(
        {name: 0.0 if abs(value) < ZERO else value for name, value in features.items()},
        reasons=features.reasons,
        timings=features.timings,
        tiers=features.tiers,
        view=features.view,
    )


ALL_VARIANTS: tuple[tuple[str, str], ...] = tuple(
    (family, variant) for family, names in FAMILIES.items() for variant in names
)


def run_task(
    spec: TaskSpec, *, variants: Sequence[tuple[str, str]] = ALL_VARIANTS
) -> list[dict[str, Any]]:
    """One row per (family, variant): the task descriptor, its meta-features, the outcome.

    Meta-features are computed on the support set with the source's profile — exactly what
    the advisor sees of a user's training data. Each learner runs with its default
    hyper-parameters, seeded with the task's seed; a learner that fails gets accuracy NaN and
    its error message, never a crash of the build.
    """
    task = draw_task(
        spec.domain, ways=spec.ways, shots=spec.shots, queries=spec.queries, seed=spec.seed
    )
    source = kb_source(spec.source)
    start = time.perf_counter()
    features = measure(task.X_support, task.y_support, source=source, seed=spec.seed)
    base: dict[str, Any] = {
        "task_id": spec.task_id,
        **spec.model_dump(),
        "n_support": int(task.y_support.size),
        "n_query": int(task.y_query.size),
        "meta_feature_seconds": time.perf_counter() - start,
        **{FEATURE_PREFIX + name: value for name, value in features.items()},
    }
    rows = []
    for family, variant in variants:
        learner_source = None if family == "scratch" else source
        outcome = run_learner(family, variant, seed=spec.seed, source=learner_source, task=task)
        rows.append({**base, "family": family, "variant": variant, "tuned": False, **outcome})
    return rows


def run_learner(
    family: str, variant: str, *, seed: int, source: Source | None, task: Task, **params: Any
) -> dict[str, Any]:
    """Fit one learner on the task's support set and score it on the queries (never raises)."""
    try:
        model = make_learner(family, source=source, variant=variant, random_state=seed, **params)
        start = time.perf_counter()
        model.fit(task.X_support, task.y_support)
        fitted = time.perf_counter()
        predicted = model.predict(task.X_query)
        done = time.perf_counter()
    except Exception as error:  # one failing learner must not stop a build
        return {
            "accuracy": math.nan,
            "fit_seconds": math.nan,
            "predict_seconds": math.nan,
            "error": f"{type(error).__name__}: {error}",
            "params": json.dumps(params, default=str),
        }
    return {
        "accuracy": float(np.mean(predicted == task.y_query)),
        "fit_seconds": fitted - start,
        "predict_seconds": done - fitted,
        "error": "",
        "params": json.dumps(model.hyper_parameters(), default=str),
    }


def run_tuned(spec: TaskSpec, *, trials: int = 10, folds: int = 3) -> list[dict[str, Any]]:
    """One row per family: the best of an Optuna study on the support set, scored on queries.

    The study searches all the family's variants (:func:`learners.tuning.tune`, in memory,
    seeded with the task's seed); the best configuration is refitted on the whole support set.
    Rows are marked ``tuned``; the recommender does not fit on them (they would mix tuned and
    default accuracies), the advisor warm-starts its own studies from their parameters.
    """
    task = draw_task(
        spec.domain, ways=spec.ways, shots=spec.shots, queries=spec.queries, seed=spec.seed
    )
    source = kb_source(spec.source)
    base: dict[str, Any] = {
        "task_id": spec.task_id,
        **spec.model_dump(),
        "n_support": int(task.y_support.size),
        "n_query": int(task.y_query.size),
    }
    rows = []
    for family in FAMILIES:
        learner_source = None if family == "scratch" else source
        try:
            result = tune(
                family,
                task.X_support,
                task.y_support,
                source=learner_source,
                n_trials=trials,
                folds=folds,
                seed=spec.seed,
                storage=optuna.storages.InMemoryStorage(),
            )
        except Exception as error:  # one failing study must not stop a build
            rows.append(
                {
                    **base,
                    "family": family,
                    "variant": "",
                    "tuned": True,
                    "accuracy": math.nan,
                    "fit_seconds": math.nan,
                    "predict_seconds": math.nan,
                    "params": "{}",
                    "error": f"{type(error).__name__}: {error}",
                }
            )
            continue
        outcome = run_learner(
            family,
            result.variant,
            seed=spec.seed,
            source=learner_source,
            task=task,
            **{k: v for k, v in result.params.items() if k != "random_state"},
        )
        rows.append(
            {
                **base,
                "family": family,
                "variant": result.variant,
                "tuned": True,
                "cv_score": result.cv_score,
                "tuning_seconds": result.seconds,
                **outcome,
            }
        )
    return rows
