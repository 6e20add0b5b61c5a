"""The wire models of the advisor: what a recommendation and a run say, as pydantic types.

These are shared by the Python API, the command line, the reports, the REST API and its
client, so that a recommendation reads the same everywhere (``model_dump_json`` /
``model_validate_json`` round-trip).
"""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, computed_field

Family = Literal["transfer", "meta", "hybrid", "scratch"]


class Prediction(BaseModel):
    """A predicted query accuracy with its 80 % interval."""

    model_config = ConfigDict(frozen=True)

    accuracy: float = Field(description="Predicted accuracy on new examples, 0 to 1.")
    low: float = Field(description="Lower end of the 80 % interval.")
    high: float = Field(description="Upper end of the 80 % interval.")
    variant: str = Field(description="The family's variant the prediction is for.")


class Driver(BaseModel):
    """A meta-feature that moved the recommendation, and by how much."""

    model_config = ConfigDict(frozen=True)

    name: str
    value: float | None
    typical: float | None = Field(description="Its median in the knowledge base.")
    effect: float = Field(
        description="How much the recommended family's lead over the runner-up shrinks, in "
        "accuracy points, when this feature is set to its typical value."
    )


class Neighbour(BaseModel):
    """A knowledge-base task close to the user's, and how each family did on it."""

    model_config = ConfigDict(frozen=True)

    task_id: str
    domain: str
    ways: int
    shots: int
    distance: float
    accuracy: dict[str, float] = Field(
        description="Best accuracy of each family measured on that task (this installation's "
        "own runs measure two families)."
    )


class TrackRecord(BaseModel):
    """How the family choice did on the knowledge-base tasks most like the user's.

    Judged out of domain: on each such task, the choice of regressors fitted without that
    task's domain (the grouped cross-validation that chose the choice's inputs).
    """

    model_config = ConfigDict(frozen=True)

    tasks: int = Field(description="How many knowledge-base tasks it is measured on.")
    mean_regret: float = Field(
        description="Accuracy points lost on average against the best family of each task."
    )
    best_share: float = Field(
        description="Share of those tasks (0 to 1) on which the choice was a best family."
    )

    def sentence(self) -> str:
        """The record in words, as the command line and the reports give it."""
        return (
            f"on the {self.tasks} knowledge-base tasks most like yours, each judged by a choice "
            f"fitted without its domain, the family choice lost {self.mean_regret:.1f} accuracy "
            f"points on average against the best family and picked a best one on "
            f"{100 * self.best_share:.0f} % of them."
        )


class Explanation(BaseModel):
    """Why the advisor recommends what it does."""

    model_config = ConfigDict(frozen=True)

    summary: str
    drivers: list[Driver] = []
    neighbours: list[Neighbour] = []
    risks: list[str] = []
    in_range: bool = Field(True, description="Whether the data lies within the KB's range.")
    fallback: str | None = Field(
        None, description="The documented prior used instead of the meta-model, if out of range."
    )
    runner_up: str | None = Field(
        None,
        description="The family likeliest to be best after the recommended one (P(best), then "
        "predicted accuracy): the one the drivers compare with and a regret check runs.",
    )
    track_record: TrackRecord | None = Field(
        None,
        description="The family choice's record on the knowledge-base tasks most like this "
        "one, judged on domains it was not fitted on.",
    )


class Recommendation(BaseModel):
    """The advisor's answer for a dataset and a source."""

    model_config = ConfigDict(frozen=True)

    family: Family
    variant: str
    predicted: dict[str, Prediction] = Field(
        description="Per family, a learner's predicted accuracy: the recommended variant's for "
        "the recommended family, each other family's best-predicted variant's."
    )
    p_best: dict[str, float] = Field(
        description="Probability that each family is the best (ties shared), from the family "
        "choice's predicted leads and its errors on similar tasks of unseen domains."
    )
    meta_features: dict[str, float | None]
    explanation: Explanation
    source: str
    seconds: float = Field(description="Time taken to recommend.")
    modality: Literal["image", "vector"] | None = Field(
        None,
        description="The kind of data recommended for (None where it was not known): the "
        "neighbours, the range and the report's comparisons are among KB tasks of this kind.",
    )
    runnable: list[Family] = Field(
        default_factory=lambda: list(get_args(Family)),
        description="The families that can run on this data with this source. When the source "
        "cannot take the data at all (images against a vector source, vectors of another "
        "width) only scratch can; the other families' predictions are then for reference.",
    )

    def can_run(self, family: str) -> bool:
        """Whether ``family`` can run on this data with this source."""
        return family in self.runnable


class ColumnImportance(BaseModel):
    """One input column's permutation importance (:mod:`advisor.importance`)."""

    column: str
    drop: float = Field(description="The score lost when the column is shuffled (mean).")
    spread: float = Field(description="The standard deviation of that loss over the shuffles.")


class ClassRecall(BaseModel):
    """How often one class's examples were answered right when held out (cross-validation)."""

    label: str
    held_out: int = Field(description="The class's examples a validation fold held out.")
    right: int = Field(description="Those the chosen configuration answered right.")

    @property
    def recall(self) -> float:
        """``right / held_out`` (NaN when none was held out)."""
        return self.right / self.held_out if self.held_out else float("nan")


COMPARISON_CHANCE = 0.05
"""Below this p-value a comparison's verdict says the difference is unlikely to be chance."""


class Comparison(BaseModel):
    """Two models' scores on the same rows, and the paired test of their difference.

    See :mod:`advisor.comparison`.
    """

    metric: Literal["accuracy", "balanced_accuracy"]
    rows: int
    score_a: float
    score_b: float
    difference: float = Field(description="score_a − score_b.")
    only_a: int = Field(description="Rows A answered right and B wrong.")
    only_b: int = Field(description="Rows B answered right and A wrong.")
    p_value: float = Field(description="Two-sided, of the paired test (advisor.comparison).")
    test: str
    warnings: list[str] = Field(
        default_factory=list,
        description="What reading the rows noticed for either model (labels it was not trained "
        "on, unseen categories, gaps); one model's alone is marked 'A:' or 'B:'.",
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def verdict(self) -> str:
        """The comparison in one sentence."""
        if self.only_a + self.only_b == 0:
            return "the two models answered every row alike"
        leader = "A" if self.difference > 0 else "B"
        if self.p_value < COMPARISON_CHANCE:
            return f"{leader} is better: a difference this large is unlikely to be chance"
        return "the rows cannot tell the two apart: a difference this large could well be chance"


class CalibrationBin(BaseModel):
    """The test rows whose top probability fell in one bin of a reliability diagram."""

    low: float
    high: float
    rows: int
    confidence: float = Field(description="Their mean top probability.")
    accuracy: float = Field(description="The share of them answered right.")


class Calibration(BaseModel):
    """How well a model's probabilities match how often it is right (:mod:`advisor.scores`)."""

    ece: float = Field(description="Expected calibration error: Σ_b (n_b/N) |acc_b − conf_b|.")
    bins: list[CalibrationBin]


class CurvePoint(BaseModel):
    """The cross-validated score of the chosen configuration trained on a share of the data."""

    share: float = Field(description="The share of each fold's training examples kept.")
    per_class: float = Field(description="The mean training examples per class it then had.")
    score: float = Field(description="The mean score over the validation folds.")
    folds: list[float] = Field(description="Each fold's score.")


class LearningCurve(BaseModel):
    """How the score grew with the training data, and what twice the data would add.

    See :mod:`advisor.learning_curve`: ``error(n) = b · n^(−c)`` fitted to the curve's points.
    """

    metric: str
    points: list[CurvePoint]
    per_class: float = Field(description="Examples per class in all of the training data.")
    exponent: float | None = Field(
        None, description="The fitted power law's ``c`` (None where no law could be fitted)."
    )
    gain: float | None = Field(
        None,
        description="The score twice the examples per class would add, by the fitted law.",
    )
    note: str = Field("", description="Why there is no gain, where there is none.")


class Recalibration(BaseModel):
    """A run's temperature scaling, fitted on the study's out-of-fold predictions.

    See :mod:`advisor.recalibration`.
    """

    temperature: float = Field(1.0, description="T: probabilities become p^(1/T), renormalised.")
    rows: int = Field(description="The held-out predictions it was fitted on.")
    nll_before: float = Field(description="Their mean negative log-likelihood as fitted.")
    nll_after: float = Field(description="The same, tempered.")
    note: str = Field("", description="Why no temperature was fitted, where none was.")
