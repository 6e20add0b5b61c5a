"""What a report says, independent of its format: sections of text, tables and figures.

Figures are drawn with matplotlib's object-oriented API (:class:`~matplotlib.figure.Figure`,
no ``pyplot`` and no global backend), so reports can be made in any thread of a server.

:func:`build_report` turns a recommendation or a run into a :class:`Report` — a title and an
ordered list of :class:`Section` objects, each with paragraphs, tables and matplotlib figures.
:mod:`advisor.reports.render` writes it as self-contained HTML, Markdown or JSON.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import optuna
from matplotlib.figure import Figure
from PIL import Image

from advisor.datasets.summary import SAMPLE_CLASSES, DataSummary
from advisor.kb.runner import FEATURE_PREFIX
from advisor.schemas import Calibration, ClassRecall, ColumnImportance, Recommendation
from learners.tuning import metric_label

if TYPE_CHECKING:
    from advisor.core import Advisor, RunResult

KEY_FEATURES = (
    "nr_inst", "nr_class", "shots_min", "imbalance_ratio", "one_nn.mean", "linear_discr.mean",
    "mmd", "proxy_a_distance", "frechet", "logme", "leep", "h_score_shrinkage",
)  # fmt: skip

CLASSES_LISTED = 20

BACKGROUND = [
    "**Transfer learning** starts from a network pretrained on the source domain and adapts it "
    "to your classes: a new classifier on its features (linear probe, Baseline++) or a "
    "fine-tuning of the whole network. It shines with enough examples per class and a source "
    "close to your data.",
    "**Meta learning** starts from a network trained on many small tasks drawn from the source, "
    "so that it adapts from very few examples: Prototypical Networks compare a new example with "
    "the mean of each class; MAML and ANIL take a few gradient steps from a learned start. It "
    "shines with one to five examples per class.",
    "**Hybrid** learning fine-tunes the meta-trained network, starting from its prototype "
    "classifier: the few-shot strength of meta learning with the capacity of fine-tuning.",
    "**Scratch** learning ignores the source: a linear model, boosted trees or a small network "
    "trained from random weights. It is the control: when it wins, the source is hurting — "
    "*negative transfer*, which happens when the source lies far from your data.",
]


@dataclass
class Section:
    """A titled part of a report."""

    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[tuple[list[str], list[list[Any]]]] = field(default_factory=list)
    figures: list[tuple[str, Figure]] = field(default_factory=list)


@dataclass
class Report:
    """A report's title, sections, and its data for the JSON form."""

    title: str
    sections: list[Section]
    data: dict[str, Any]


def build_report(
    result: RunResult | Recommendation,
    advisor: Advisor,
    *,
    data: DataSummary | None = None,
    picture: Image.Image | None = None,
) -> Report:
    """The report of a recommendation, or of a run and the recommendation it followed.

    A run describes its own training data; a recommendation, the ``data`` it was made for
    (and its sample ``picture``), when given.
    """
    run = None if isinstance(result, Recommendation) else result
    recommendation = result if isinstance(result, Recommendation) else result.recommendation
    if run is not None:
        data = run.data
        picture = _opened(run.samples)
    sections = []
    if recommendation is not None:
        sections.append(_recommendation_section(recommendation))
    if data is not None:
        sections.append(_data_section(data, picture))
    if recommendation is not None:
        sections += [
            _prediction_section(recommendation),
            _features_section(recommendation, advisor),
            _neighbours_section(recommendation),
        ]
    if run is not None:
        sections += _run_sections(run)
    sections.append(Section("Background: transfer, meta, hybrid, scratch", BACKGROUND))
    document: dict[str, Any] = (
        run.summary()
        if run is not None
        else {
            "recommendation": recommendation.model_dump(mode="json") if recommendation else None,
            "data": None if data is None else data.model_dump(mode="json"),
        }
    )
    title = "AutoML Advisor — " + (f"run {run.run_id}" if run is not None else "recommendation")
    return Report(title, sections, document)


def _recommendation_section(rec: Recommendation) -> Section:
    section = Section(
        "Recommendation", [f"**{rec.family}** ({rec.variant}). " + rec.explanation.summary]
    )
    if (record := rec.explanation.track_record) is not None:
        section.paragraphs.append("Track record: " + record.sentence())
    if rec.explanation.risks:
        section.paragraphs.append("Risks:")
        section.paragraphs += [f"- {risk}" for risk in rec.explanation.risks]
    fallback = rec.explanation.fallback
    if fallback and fallback not in rec.explanation.summary:  # the summary opens with it
        section.paragraphs.append(fallback)
    section.paragraphs.append(f"Source: {rec.source}. Recommended in {rec.seconds:.2f} s.")
    if rec.explanation.drivers:  # last: a section's tables follow its paragraphs
        section.paragraphs.append("What drove it (each feature set to its typical value):")
        section.tables.append(
            (
                ["meta-feature", "your value", "knowledge-base median", "lead lost (points)"],
                [
                    [d.name, _number(d.value), _number(d.typical), f"{d.effect:.1f}"]
                    for d in rec.explanation.drivers
                ],
            )
        )
    return section


def _listed(names: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _prediction_section(rec: Recommendation) -> Section:
    families = list(rec.predicted)
    accuracy = np.array([rec.predicted[f].accuracy for f in families])
    low = np.array([rec.predicted[f].low for f in families])
    high = np.array([rec.predicted[f].high for f in families])
    figure = Figure(figsize=(6, 2.8))
    axis = figure.subplots()
    bars = axis.barh(
        families,
        100 * accuracy,
        color=["#3b7dd8" if f == rec.family else "#9db8df" for f in families],
    )
    for family, bar in zip(families, bars, strict=True):
        if not rec.can_run(family):  # for reference only: the source cannot take the data
            bar.set_facecolor("#dddddd")
            bar.set_hatch("//")
    axis.errorbar(
        100 * accuracy,
        families,
        xerr=[100 * (accuracy - low), 100 * (high - accuracy)],
        fmt="none",
        ecolor="black",
        capsize=4,
    )
    axis.set_xlim(0, 100)
    axis.set_xlabel("predicted accuracy (%), with 80 % interval")
    axis.invert_yaxis()
    figure.tight_layout()
    paragraphs = [
        "Each family's best variant, as predicted by the meta-model, with the 80 % interval "
        "calibrated on domains the model had not seen. P(best) is the family choice's: how "
        "often each family came out ahead when its predicted lead over the reference family "
        "was perturbed by the errors the choice made on similar tasks of unseen domains."
    ]
    if cannot := [f for f in families if not rec.can_run(f)]:
        paragraphs.append(
            f"The source {rec.source!r} cannot take this data, so {_listed(cannot)} cannot "
            "run (hatched bars, marked 'cannot run'): their predictions are for reference only. "
            "Build a source from related data of the same kind to compare them."
        )
    return Section(
        "Predicted accuracy per family",
        paragraphs,
        [
            (
                ["family", "variant", "predicted", "80 % interval", "P(best)"],
                [
                    [
                        f,
                        rec.predicted[f].variant,
                        f"{100 * rec.predicted[f].accuracy:.1f} %",
                        f"{100 * rec.predicted[f].low:.1f}–{100 * rec.predicted[f].high:.1f} %",
                        f"{100 * rec.p_best.get(f, 0.0):.0f} %" if rec.can_run(f) else "cannot run",
                    ]
                    for f in families
                ],
            )
        ],
        [("Predicted accuracy per family", figure)],
    )


def _features_section(rec: Recommendation, advisor: Advisor) -> Section:
    tasks = advisor.recommender.tasks
    kind = ""
    if rec.modality is not None and "modality" in tasks.columns:
        own = tasks[tasks["modality"] == rec.modality]
        if not own.empty:  # a table placed among tables, images among image tasks
            tasks, kind = own, " of the same kind of data"
    rows, positions, names = [], [], []
    for name in KEY_FEATURES:
        column = FEATURE_PREFIX + name
        value = rec.meta_features.get(name)
        if column not in tasks.columns or value is None:
            continue
        known = tasks[column].dropna().to_numpy(dtype=float)
        if known.size == 0:
            continue
        percentile = float(100 * np.mean(known <= value))
        rows.append([name, _number(value), _number(float(np.median(known))), f"{percentile:.0f}"])
        positions.append(percentile)
        names.append(name)
    figure = Figure(figsize=(6, 0.35 * max(len(names), 1) + 0.8))
    axis = figure.subplots()
    axis.scatter(positions, names, color="#3b7dd8", zorder=3)
    axis.axvspan(10, 90, color="#eeeeee", zorder=1)
    axis.set_xlim(0, 100)
    axis.set_xlabel("percentile within the knowledge base (grey: middle 80 %)")
    axis.invert_yaxis()
    figure.tight_layout()
    return Section(
        "Your data within the knowledge base",
        [
            "Key meta-features of your data and where they fall among the knowledge base's "
            f"tasks{kind}."
        ],
        [(["meta-feature", "your value", "KB median", "percentile"], rows)],
        [("Meta-features within the knowledge base", figure)],
    )


def _neighbours_section(rec: Recommendation) -> Section:
    families = list(rec.predicted)
    paragraphs = ["The measured tasks most like yours, and each family's best accuracy on them."]
    if not rec.explanation.in_range:
        paragraphs.append(
            "Your data lies outside the knowledge base's range (see the risks), so even these "
            "tasks are far from it: they are the closest evidence there is, not tasks like yours."
        )
    return Section(
        "Nearest knowledge-base tasks",
        paragraphs,
        [
            (
                ["task", "ways", "shots", "distance", *families],
                [
                    [
                        n.task_id,
                        n.ways,
                        n.shots,
                        f"{n.distance:.2f}",
                        *[_percent(n.accuracy.get(f)) for f in families],
                    ]
                    for n in rec.explanation.neighbours
                ],
            )
        ],
    )


def _opened(samples: Path | None) -> Image.Image | None:
    """A run's sample picture, read whole; ``None`` when it has none (tables, older runs)."""
    if samples is None or not samples.is_file():
        return None
    with Image.open(samples) as picture:
        picture.load()
        return picture.copy()


def _data_section(data: DataSummary, picture: Image.Image | None) -> Section:
    """The training data: what it is, its classes' sizes, a few images of each class."""
    section = Section("Your data", [data.sentence()])
    if data.missing_filled:
        section.paragraphs.append(
            f"{data.missing_filled} missing values were filled with the training statistics."
        )
    section.paragraphs += [f"Note from reading it: {warning}" for warning in data.warnings]
    counts = sorted(data.class_counts.items(), key=lambda item: (-item[1], item[0]))
    rows: list[list[Any]] = [[label, count] for label, count in counts[:CLASSES_LISTED]]
    if len(counts) > CLASSES_LISTED:
        rest = counts[CLASSES_LISTED:]
        rows.append([f"… {len(rest)} more classes", sum(count for _, count in rest)])
    section.tables.append((["class", "examples"], rows))
    if picture is not None:
        pixels = np.asarray(picture.convert("RGB"))
        height, width = pixels.shape[:2]
        figure = Figure(figsize=(min(8.0, 1.5 + width / 60), min(8.0, 0.5 + height / 60)))
        axis = figure.subplots()
        axis.imshow(pixels, interpolation="nearest")
        shown = list(data.class_counts)[:SAMPLE_CLASSES]  # the rows of save_samples' picture
        axis.set_yticks([(row + 0.5) * height / len(shown) for row in range(len(shown))], shown)
        axis.set_xticks([])
        for side in axis.spines.values():
            side.set_visible(False)
        figure.tight_layout()
        section.figures.append(("Sample images, one class per row", figure))
    return section


def _parameters(run: RunResult) -> dict[str, Any]:
    """The best hyper-parameters, and the class priors where they are not as fitted."""
    prior = run.model.class_prior
    return run.best_params | ({} if prior == "training" else {"class priors": prior})


def _interval(interval: tuple[float, float] | None) -> str:
    if interval is None:
        return ""
    low, high = (100 * bound for bound in interval)
    return f" (95 % interval {low:.1f}–{high:.1f} %: the test set's size bounds what it can tell)"


def _maximising(metric: str) -> str:
    """How a study not maximising accuracy is named in the run's summary."""
    if metric == "accuracy":
        return ""
    return f", maximising {metric_label(metric)} (the mean of the classes' recalls)"


def _run_sections(run: RunResult) -> list[Section]:
    measure = metric_label(run.metric)
    summary = Section(
        "Tuned run",
        [
            f"**{run.family}** ({run.variant}) tuned with {len(run.study.trials)} Optuna trials "
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
        [(["parameter", "value"], [[k, _number(v)] for k, v in _parameters(run).items()])],
    )
    summary.paragraphs += [f"Warning: {warning}" for warning in run.warnings]
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
            "points** (0 when the probabilities are exact; few-shot models are often "
            "over-confident)." + note
        ],
        [
            (
                ["top probability", "test rows", "mean probability", "answered right"],
                [
                    [
                        f"{100 * b.low:.0f}–{100 * b.high:.0f} %",
                        b.rows,
                        _percent(b.confidence),
                        _percent(b.accuracy),
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
                [[c.label, c.held_out, _percent(c.recall)] for c in recalls],
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
        [item.column for item in order],
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
    return (
        f"Regret check: the runner-up {family} ({runner_up['variant']}) reached {other:.1f} % "
        f"cross-validated {measure}, the recommendation {other + lead:.1f} %: {verdict}."
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
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # few trials per parameter region: noisy, said below
            importances = optuna.importance.get_param_importances(study)
    except (ValueError, RuntimeError, ZeroDivisionError):
        importances = {}
    if importances:
        section.tables.append(
            (["parameter", "importance"], [[k, f"{v:.2f}"] for k, v in importances.items()])
        )
    return section


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
    shown = labels if len(labels) <= 20 else [""] * len(labels)
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
        [label, int(matrix[i].sum()), _percent(recall[i]), _percent(precision[i]), _percent(f1[i])]
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


def _percent(accuracy: float | None) -> str:
    """An accuracy in percent, or a dash where it was not measured (own runs measure two)."""
    if accuracy is None or not math.isfinite(accuracy):
        return "—"
    return f"{100 * accuracy:.1f} %"


def _number(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return "—" if np.isnan(value) else f"{value:.4g}"
    return str(value)
