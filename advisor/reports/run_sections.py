"""The sections of a tuned run's report: what was tuned, how it scored, how far to trust it.

The run's summary and best parameters; each class's cross-validated recall; the Optuna
history; on a test set, the confusion matrix with each class's recall and precision, the
calibration of the probabilities and, for a table, the columns the model relies on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import optuna
from matplotlib.figure import Figure

from advisor.recalibration import recalibration_phrase
from advisor.reports.curve_section import learning_curve_section
from advisor.reports.parameter_importance import (
    TOP_TRIALS,
    ParameterImportances,
    parameter_importances,
)
from advisor.reports.parts import Section, figure_label, number, percent
from advisor.reports.render import literal
from advisor.schemas import Calibration, ClassRecall, ColumnImportance
from advisor.scores import interval_phrase
from learners.tuning import metric_label

if TYPE_CHECKING:
    from advisor.core import RunResult


def _parameters(run: RunResult) -> dict[str, Any]:
    """The best hyper-parameters, and the class priors where they are not as fitted."""
    prior = run.model.class_prior
    return run.best_params | ({} if prior == "training" else {"class priors": prior})


def _interval(interval: tuple[float, float] | None) -> str:
    if interval is None:
        return ""
    return f" ({interval_phrase(interval)}: the test set's size bounds what it can tell)"


def _maximising(metric: str) -> str:
    """How a study not maximising accuracy is named in the run's summary."""
    if metric == "accuracy":
        return ""
    return f", maximising {metric_label(metric)} (the mean of the classes' recalls)"


def run_sections(run: RunResult) -> list[Section]:
    """A run's sections, in the order the module docstring gives."""
    measure = metric_label(run.metric)
    summary = Section(
        "Tuned run",
        [
            f"**{run.family}** ({run.variant}) tuned with {run.trials} Optuna "
            f"trial{'' if run.trials == 1 else 's'} (finished: complete, pruned or failed) "
            f"in {run.seconds:.0f} s{_maximising(run.metric)}. Cross-validated {measure} on the "
            f"training data: {100 * run.cv_score:.1f} %."
            + (
                ""
                if run.test_score is None
                else f" {measure.capitalize()} on the test set: **{100 * run.test_score:.1f} %**"
                f"{_interval(run.test_interval)}."
            ),
            f"Fitted model: `{run.model_path}`.",
        ],
        [(["parameter", "value"], [[k, number(v)] for k, v in _parameters(run).items()])],
    )
    if run.recalibration is not None:
        summary.paragraphs.append(
            "Recalibration by temperature scaling (Guo et al. 2017), applied to the fitted "
            "model's probabilities on top of the parameters below (a ProtoNet's own "
            "`temperature` among them is another one, which scales its distances): "
            f"{recalibration_phrase(run.recalibration)}."
        )
    summary.paragraphs += [f"Warning: {literal(warning)}" for warning in run.warnings]
    if run.runner_up:
        summary.paragraphs.append(regret_check_line(run.runner_up))
    sections = [summary]
    if run.cv_recalls:
        sections.append(_recall_section(run.cv_recalls))
    sections.append(_history_section(run.study, measure))
    if run.confusion is not None:
        sections.append(_confusion_section(run.confusion, run.labels))
    if run.calibration is not None:
        sections.append(_calibration_section(run.calibration, run.model.class_prior))
    if run.importance:
        sections.append(_importance_section(run.importance, measure))
    if run.learning_curve is not None:
        sections.append(learning_curve_section(run.learning_curve))
    return sections


def _calibration_section(found: Calibration, prior: str) -> Section:
    """The reliability diagram of the model's top-class probabilities on the test set."""
    figure = Figure(figsize=(4.5, 4))
    axis = figure.subplots()
    axis.plot([0, 100], [0, 100], color="grey", linestyle="--", linewidth=1, label="calibrated")
    axis.bar(
        [50 * (b.low + b.high) for b in found.bins],
        [100 * b.accuracy for b in found.bins],
        width=[90 * (b.high - b.low) for b in found.bins],
        color="#3b7dd8",
        label="share right",
    )
    axis.set_xlim(0, 100)
    axis.set_ylim(0, 100)
    axis.set_xlabel("the model's top probability (%)")
    axis.set_ylabel("test rows answered right (%)")
    axis.legend(loc="upper left")
    figure.tight_layout()
    note = (
        " Its probabilities are re-weighted to equal classes (tuned for balanced accuracy): "
        "they are calibrated for data whose classes are equally many, not for this test set's "
        "mix."
        if prior == "equal"
        else ""
    )
    return Section(
        "How far to trust its probabilities",
        [
            "Test rows grouped by the probability the model gave its answer, against how many "
            f"of them it got right. Expected calibration error: **{100 * found.ece:.1f} "
            "points** (0 when the probabilities are exact; modern networks tend to be "
            "over-confident, Guo et al., ICML 2017)." + note
        ],
        [
            (
                ["top probability", "test rows", "mean probability", "answered right"],
                [
                    [
                        f"{100 * b.low:.0f}–{100 * b.high:.0f} %",
                        b.rows,
                        percent(b.confidence),
                        percent(b.accuracy),
                    ]
                    for b in found.bins
                ],
            )
        ],
        figures=[("Reliability diagram", figure)],
    )


def _recall_section(recalls: list[ClassRecall]) -> Section:
    """Each class's recall in the cross-validation of the chosen configuration."""
    return Section(
        "Recall per class, cross-validated",
        [
            "The share of each class's training examples that the chosen configuration "
            "answered right when a validation fold held them out — where a rare class that "
            "the overall score hides shows, with no test set. A little optimistic: the "
            "configuration was chosen on these folds."
        ],
        [
            (
                ["class", "held out", "recall"],
                [[c.label, c.held_out, percent(c.recall)] for c in recalls],
            )
        ],
    )


IMPORTANCE_ROWS = 15


def _importance_section(importance: list[ColumnImportance], measure: str) -> Section:
    """The columns the model relies on, by permutation importance on the test rows."""
    shown = importance[:IMPORTANCE_ROWS]
    rows = [[item.column, f"{100 * item.drop:+.1f}", f"{100 * item.spread:.1f}"] for item in shown]
    rest = importance[IMPORTANCE_ROWS:]
    if rest:
        rows.append(
            [f"… {len(rest)} more columns", f"at most {100 * max(i.drop for i in rest):+.1f}", ""]
        )
    figure = Figure(figsize=(6, 0.6 + 0.3 * len(shown)))
    axis = figure.subplots()
    order = list(reversed(shown))  # the largest on top
    axis.barh(
        [figure_label(item.column) for item in order],
        [100 * item.drop for item in order],
        xerr=[100 * item.spread for item in order],
        color="#3b7dd8",
    )
    axis.axvline(0, color="black", linewidth=0.8)
    axis.set_xlabel(f"{measure} lost when the column is shuffled (points)")
    figure.tight_layout()
    return Section(
        "What the model relies on",
        [
            f"Each column's values shuffled among the test rows, five times: the {measure} "
            "the model loses (points; the spread over the shuffles beside it). A column near "
            "0 is one the model does without — or one whose information another column also "
            "carries. Measured on the test set, never on the training data."
        ],
        [(["column", "points lost", "spread"], rows)],
        figures=[("Permutation importance", figure)],
    )


def regret_check_line(runner_up: dict[str, Any]) -> str:
    """The regret check's outcome in one sentence (the reports and ``advisor run``)."""
    if runner_up.get("skipped"):
        return f"Regret check skipped: {runner_up['skipped']}"
    family, other = runner_up["family"], 100 * runner_up["cv_score"]
    lead = 100 * runner_up["difference"]  # the recommendation's score minus the runner-up's
    if abs(lead) < 0.05:
        verdict = "level"
    elif lead > 0:
        verdict = f"the recommendation leads by {lead:.1f} points"
    else:
        verdict = f"the runner-up leads by {-lead:.1f} points; a run of {family} may do better"
    measure = metric_label(runner_up.get("metric", "accuracy"))
    kept = (
        f" Its outcome was not added to the local knowledge base: {runner_up['not_kept']}"
        if runner_up.get("not_kept")
        else ""
    )
    return (
        f"Regret check: the runner-up {family} ({runner_up['variant']}) reached {other:.1f} % "
        f"cross-validated {measure}, the recommendation {other + lead:.1f} %: {verdict}.{kept}"
    )


def _history_section(study: optuna.Study, measure: str = "accuracy") -> Section:
    trials = [t for t in study.trials if t.value is not None]
    figure = Figure(figsize=(6, 2.8))
    axis = figure.subplots()
    if trials:
        numbers = [t.number for t in trials]
        values = [100 * float(t.value or 0.0) for t in trials]
        axis.scatter(numbers, values, s=14, color="#9db8df", label="trial")
        axis.plot(numbers, np.maximum.accumulate(values), color="#3b7dd8", label="best so far")
        axis.legend(loc="lower right")
    axis.set_xlabel("trial")
    axis.set_ylabel(f"CV {measure} (%)")
    figure.tight_layout()
    section = Section("Optimisation history", figures=[("Optimisation history", figure)])
    states: dict[str, int] = {}
    for trial in study.trials:
        states[trial.state.name.lower()] = states.get(trial.state.name.lower(), 0) + 1
    section.paragraphs.append("Trials: " + ", ".join(f"{n} {s}" for s, n in states.items()) + ".")
    found = parameter_importances(study)
    section.paragraphs.append(_importance_paragraph(found))
    shown = {name: share for name, share in found.shares.items() if share >= 0.005}
    if shown:
        section.tables.append(
            (["parameter", "importance"], [[k, f"{v:.2f}"] for k, v in shown.items()])
        )
    if hidden := [name for name in found.shares if name not in shown]:
        section.paragraphs.append(f"Under 0.01 each: {', '.join(hidden)}.")
    return section


def _importance_paragraph(found: ParameterImportances) -> str:
    """What the parameter importances are, or why there are none."""
    if not found.shares:
        return found.reason
    rough = (
        f" Rough: the best group holds {found.top} trials, fewer than the {TOP_TRIALS} a "
        "stable estimate wants."
        if found.top < TOP_TRIALS
        else ""
    )
    return (
        "Which parameters mattered, by PED-ANOVA (Watanabe, Bansal & Hutter, IJCAI 2023): how "
        f"far each parameter's values among the best {found.top} of the {found.trials} "
        "complete trials depart from its values over all of them, as a share of the total. A "
        "parameter of one variant is judged within the trials that ran that variant, and "
        "counts for more the more of the best trials did." + rough
    )


def per_class_scores(confusion: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each class's recall, precision and F1 from a confusion matrix (rows: true classes).

    ``recall_c = M_cc / Σ_k M_ck``, ``precision_c = M_cc / Σ_k M_kc``, ``F1_c`` their harmonic
    mean (van Rijsbergen 1979); NaN where a class was never true, never predicted, or both
    scores are 0 for F1.
    """
    matrix = np.asarray(confusion, dtype=np.float64)
    hits = np.diag(matrix)
    with np.errstate(divide="ignore", invalid="ignore"):
        recall = hits / matrix.sum(axis=1)
        precision = hits / matrix.sum(axis=0)
        f1 = 2 * precision * recall / (precision + recall)
    return recall, precision, f1


def _confusion_section(confusion: list[list[int]], labels: list[str]) -> Section:
    matrix = np.asarray(confusion)
    figure = Figure(figsize=(4.5, 4))
    axis = figure.subplots()
    axis.imshow(matrix, cmap="Blues")
    shown = [figure_label(label) for label in labels] if len(labels) <= 20 else [""] * len(labels)
    axis.set_xticks(range(len(labels)), shown, rotation=90)
    axis.set_yticks(range(len(labels)), shown)
    if len(labels) <= 12:  # the counts, where they fit
        darkest = matrix.max() or 1
        for (row, column), count in np.ndenumerate(matrix):
            colour = "white" if count > darkest / 2 else "black"
            axis.text(column, row, str(count), ha="center", va="center", color=colour)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    figure.tight_layout()
    recall, precision, f1 = per_class_scores(matrix)
    rows = [
        [label, int(matrix[i].sum()), percent(recall[i]), percent(precision[i]), percent(f1[i])]
        for i, label in enumerate(labels)
    ]
    return Section(
        "Confusion matrix on the test set",
        [
            "Each class's test examples, the share of them the model found (recall), and the "
            "share of its answers for the class that were right (precision)."
        ],
        [(["class", "test examples", "recall", "precision", "F1"], rows)],
        figures=[("Confusion matrix", figure)],
    )
