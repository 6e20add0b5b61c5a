"""The REST API's request and response bodies (pydantic), shared by ``api/`` and the client.

They live here, below ``api/`` in the import graph and free of Flask, so that the service
(:mod:`api`) and :class:`advisor.client.AdvisorClient` validate the very same types. A
recommendation travels as :class:`advisor.schemas.Recommendation`; a dataset's description
as :class:`advisor.datasets.DatasetInfo`.

Errors travel as :class:`Problem` (RFC 9457, ``application/problem+json``), whose ``code`` is
the stable code of the project's error hierarchy (``docs/ERRORS.md``).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from advisor.datasets import DatasetInfo
from advisor.schemas import (
    Calibration,
    ClassRecall,
    ColumnImportance,
    Comparison,
    Family,
    LearningCurve,
    Recalibration,
    Recommendation,
)

RunState = Literal["queued", "running", "succeeded", "failed", "cancelled"]
"""A run's life: queued → running → succeeded | failed | cancelled."""
RunMetric = Literal["accuracy", "balanced_accuracy"]
"""What a run's study maximises (``learners.tuning.METRICS``)."""

FINAL_STATES: frozenset[str] = frozenset({"succeeded", "failed", "cancelled"})
ACTIVE_STATES: tuple[str, ...] = ("queued", "running")
"""A run not yet final: it still needs its datasets and source, and counts toward the limit."""

ReportFormat = Literal["html", "md", "json"]

__all__ = [
    "ACTIVE_STATES",
    "FINAL_STATES",
    "DatasetOut",
    "DatasetPage",
    "Health",
    "MetaFeaturesOut",
    "PredictRequest",
    "Predictions",
    "Problem",
    "Recommendation",
    "RecommendationOut",
    "RecommendationRequest",
    "ReportFormat",
    "RunCreate",
    "RunOut",
    "RunPage",
    "RunProgress",
    "RunResultOut",
    "RunState",
    "SourceCreate",
    "SourceOut",
]


class Problem(BaseModel):
    """An error answer (RFC 9457 problem details) with the project's stable error code."""

    type: str = Field("about:blank", description="A URI naming the problem type.")
    title: str = Field(description="Short summary of the kind of problem.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field("", description="What went wrong, for a person.")
    code: str = Field(description="Stable machine-readable code, e.g. 'dataset.single_class'.")
    instance: str | None = Field(None, description="The request path the problem belongs to.")
    errors: list[dict[str, Any]] | None = Field(
        None, description="Field-by-field validation errors, for 'request.invalid'."
    )
    facts: dict[str, Any] | None = Field(
        None,
        description="Structured facts about the failure, as the error carries them: the "
        "offending columns, rows (numbered from 1), limit, runs that hold a dataset…",
    )


def plain_facts(details: Mapping[str, Any]) -> dict[str, Any] | None:
    """An error's ``details`` as plain JSON values; ``None`` when it has none.

    NumPy scalars and arrays become numbers and lists, paths and other objects their text,
    so a problem body never fails to serialise on what an error happened to carry.
    """
    if not details:
        return None
    return {str(name): _plain(value) for name, value in details.items()}


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.generic | np.ndarray):
        return value.tolist()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return str(value)


class DatasetOut(BaseModel):
    """An uploaded dataset."""

    id: str
    name: str
    created: datetime.datetime
    info: DatasetInfo


class DatasetPage(BaseModel):
    """One page of a tenant's datasets, newest first."""

    items: list[DatasetOut]
    total: int
    page: int
    per_page: int


class MetaFeaturesOut(BaseModel):
    """A dataset's meta-features against a source (null where undefined)."""

    dataset_id: str
    source: str
    values: dict[str, float | None]
    seconds: float


class RecommendationOut(BaseModel):
    """A stored recommendation: its id (for reports) and the recommendation itself."""

    id: str
    dataset_id: str
    created: datetime.datetime
    recommendation: Recommendation


class SourceOut(BaseModel):
    """A source a task can start from."""

    name: str
    where: Literal["built-in", "tenant"]
    state: Literal["ready", "building", "failed"] = "ready"
    backbone: str | None = None
    modality: str | None = None
    input_shape: list[int] | None = None
    classes: int | None = None
    starts: list[str] = Field(default_factory=list, description="pretrained, then meta starts.")
    error: str | None = None


SOURCE_NAME_PATTERN = r"^[a-z][a-z0-9_-]{1,39}$"
"""A user source's name, a folder name on every system (``advisor.sources.check_source_name``)."""


class SourceCreate(BaseModel):
    """Register a new source, pretrained and meta-trained on an uploaded dataset (a job)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=SOURCE_NAME_PATTERN, description="Lower-case name.")
    dataset_id: str
    pretrain_epochs: int = Field(10, ge=1, le=200)
    meta_episodes: int = Field(300, ge=1, le=20_000)


class RecommendationRequest(BaseModel):
    """Recommend a family for a dataset and a source."""

    model_config = ConfigDict(extra="forbid")

    dataset_id: str
    source: str = "glyphs"


class RunCreate(BaseModel):
    """Start a tuned run: the recommended family unless ``family`` is given."""

    model_config = ConfigDict(extra="forbid")

    dataset_id: str
    source: str = "glyphs"
    family: Family | None = None
    n_trials: int | None = Field(
        20,
        ge=1,
        description="Trial budget (null: time budget only). Left out, it is 20 — unless a "
        "timeout is given alone, which is then the only budget.",
    )
    timeout: float | None = Field(None, gt=0, description="Time budget in seconds.")
    test_dataset_id: str | None = Field(None, description="A dataset to score the final model on.")
    seed: int = Field(0, ge=0, le=2**31 - 1)
    metric: RunMetric = Field(
        "accuracy",
        description="What tuning maximises and the scores measure: accuracy, or "
        "balanced_accuracy (the mean of the classes' recalls) for imbalanced classes.",
    )
    learning_curve: bool = Field(
        False,
        description="Also measure the chosen configuration on shares of the training data and "
        "say what twice the examples per class would add (about four trials' worth of fits).",
    )
    recalibrate: bool = Field(
        False,
        description="Temperature-scale the model's probabilities by a T fitted on the chosen "
        "configuration's cross-validated predictions (the answers do not change).",
    )

    @model_validator(mode="before")
    @classmethod
    def _timeout_alone_is_the_budget(cls, data: Any) -> Any:
        """A request that gives a timeout and leaves ``n_trials`` out asks for a time budget."""
        if isinstance(data, dict) and "n_trials" not in data and data.get("timeout") is not None:
            return {**data, "n_trials": None}
        return data


class RunProgress(BaseModel):
    """Where a run stands."""

    trials_done: int = 0
    trials_total: int | None = None
    best_score: float | None = None
    elapsed: float = Field(0.0, description="Seconds since the run started.")
    workers: dict[str, int] = Field(
        default_factory=dict, description="Trials each worker (host:pid:part) finished."
    )


class RunResultOut(BaseModel):
    """What a succeeded run found."""

    family: str
    variant: str
    best_params: dict[str, Any]
    metric: RunMetric = Field("accuracy", description="What the scores measure.")
    class_prior: Literal["training", "equal"] = Field(
        "training",
        description="equal: the model's probabilities are re-weighted to equal class priors "
        "(chosen by tuning for balanced accuracy).",
    )
    cv_score: float = Field(description="The cross-validated metric on the training data.")
    test_score: float | None = Field(None, description="The metric on the test dataset.")
    calibration: Calibration | None = Field(
        None,
        description="With a test dataset: the expected calibration error of the model's "
        "top-class probabilities there, and its reliability bins.",
    )
    cv_recalls: list[ClassRecall] = Field(
        default_factory=list,
        description="Each class's cross-validated recall on the training data (its examples "
        "held out by a fold, and those answered right).",
    )
    importance: list[ColumnImportance] = Field(
        default_factory=list,
        description="For a table with a test dataset: its columns by permutation importance "
        "on the test rows (the metric lost when each is shuffled), largest first.",
    )
    test_interval: tuple[float, float] | None = Field(
        None,
        description="The test score's central 95 % interval: Wilson's for accuracy, the "
        "posterior's for balanced accuracy.",
    )
    learning_curve: LearningCurve | None = Field(
        None,
        description="With learning_curve: the cross-validated score at shares of the training "
        "data, the fitted power law's exponent, and the gain twice the data would bring.",
    )
    recalibration: Recalibration | None = Field(
        None,
        description="With recalibrate: the temperature the probabilities were scaled by (1 "
        "where none was kept, with the reason), and the held-out log-loss before and after.",
    )
    labels: list[str] = Field(default_factory=list, description="The model's classes.")
    seconds: float
    recommendation: Recommendation | None = None
    warnings: list[str] = Field(
        default_factory=list,
        description="What scoring noticed: test labels the model was never trained on.",
    )


class ComparisonOut(Comparison):
    """Two runs on the same labeled rows (``POST /v1/runs/{run_a}/compare``)."""

    run_a: str
    run_b: str


class RunOut(BaseModel):
    """A tuned run and its state."""

    id: str
    state: RunState
    dataset_id: str
    source: str
    family: str | None = Field(None, description="The family asked for (null: recommended).")
    n_trials: int | None
    timeout: float | None
    metric: RunMetric = "accuracy"
    learning_curve: bool = Field(False, description="Whether the run measures its learning curve.")
    recalibrate: bool = Field(False, description="Whether the run recalibrates its probabilities.")
    created: datetime.datetime
    started: datetime.datetime | None = None
    finished: datetime.datetime | None = None
    progress: RunProgress = Field(default_factory=RunProgress)
    resumes: int = Field(
        0, description="Times the run was queued again after its workers all stopped."
    )
    result: RunResultOut | None = None
    error: Problem | None = None


class RunPage(BaseModel):
    """One page of a tenant's runs, newest first."""

    items: list[RunOut]
    total: int
    page: int
    per_page: int


class PredictRequest(BaseModel):
    """Rows to classify: vectors ``(n, d)``, or images as nested lists ``(n, h, w[, c])``."""

    model_config = ConfigDict(extra="forbid")

    instances: list[Any] = Field(min_length=1, max_length=100_000)


class Predictions(BaseModel):
    """The fitted model's answers, one per row."""

    labels: list[str]
    probabilities: list[list[float]]
    classes: list[str]
    ids: list[str] | None = Field(
        None,
        description=(
            "For a file: each row's number (from 1) or each loose image's path, in the order "
            "of the answers. Absent for JSON rows, answered in their order."
        ),
    )
    accuracy: float | None = Field(
        None, description="The share of rows predicted right, when the rows carried labels."
    )
    balanced_accuracy: float | None = Field(
        None, description="The mean of the classes' recalls, when the rows carried labels."
    )
    warnings: list[str] = Field(
        default_factory=list,
        description="What reading the rows noticed: unseen categories, ignored columns, gaps, "
        "labels the model was not trained on.",
    )


class Health(BaseModel):
    """Liveness or readiness."""

    status: Literal["ok", "unavailable"]
    checks: dict[str, str] = Field(default_factory=dict)
