"""What a report says, independent of its format: sections of text, tables and figures.

Figures are drawn with matplotlib's object-oriented API (:class:`~matplotlib.figure.Figure`,
no ``pyplot`` and no global backend), so reports can be made in any thread of a server.

:func:`build_report` turns a recommendation or a run into a :class:`Report` — a title and an
ordered list of :class:`Section` objects, each with paragraphs, tables and matplotlib figures
(:mod:`advisor.reports.parts`); a run's own sections are :mod:`advisor.reports.run_sections`.
:mod:`advisor.reports.render` writes it as self-contained HTML, Markdown or JSON.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from advisor.datasets.summary import SAMPLE_CLASSES, DataSummary
from advisor.kb.runner import FEATURE_PREFIX
from advisor.reports.parts import Report, Section, figure_label, number, percent
from advisor.reports.render import literal
from advisor.reports.run_sections import run_sections
from advisor.schemas import Recommendation

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
        sections += run_sections(run)
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
    section.paragraphs.append(f"Source: {literal(rec.source)}. Recommended in {rec.seconds:.2f} s.")
    if rec.explanation.drivers:  # last: a section's tables follow its paragraphs
        section.paragraphs.append("What drove it (each feature set to its typical value):")
        section.tables.append(
            (
                ["meta-feature", "your value", "knowledge-base median", "lead lost (points)"],
                [
                    [d.name, number(d.value), number(d.typical), f"{d.effect:.1f}"]
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
            f"The source {literal(repr(rec.source))} cannot take this data, so "
            f"{_listed(cannot)} cannot run (hatched bars, marked 'cannot run'): their predictions "
            "are for reference only. "
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
        rows.append([name, number(value), number(float(np.median(known))), f"{percentile:.0f}"])
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
                        *[percent(n.accuracy.get(f)) for f in families],
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
    section = Section("Your data", [literal(data.sentence())])  # names the file and columns
    if data.missing_filled:
        section.paragraphs.append(
            f"{data.missing_filled} missing values were filled with the training statistics."
        )
    section.paragraphs += [f"Note from reading it: {literal(w)}" for w in data.warnings]
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
        # the rows of save_samples' picture
        shown = [figure_label(name) for name in list(data.class_counts)[:SAMPLE_CLASSES]]
        axis.set_yticks([(row + 0.5) * height / len(shown) for row in range(len(shown))], shown)
        axis.set_xticks([])
        for side in axis.spines.values():
            side.set_visible(False)
        figure.tight_layout()
        section.figures.append(("Sample images, one class per row", figure))
    return section
