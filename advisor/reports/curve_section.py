"""The report's "Would more data help?" section: a run's learning curve and its extrapolation."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from advisor.learning_curve import more_data_phrase, power_law
from advisor.reports.parts import Section, percent
from advisor.schemas import LearningCurve
from learners.tuning import metric_label


def learning_curve_section(curve: LearningCurve) -> Section:
    """The curve's points, the fitted power law out to twice the data, and what it says."""
    measure = metric_label(curve.metric)
    per_class = np.array([p.per_class for p in curve.points])
    figure = Figure(figsize=(6, 3))
    axis = figure.subplots()
    scores = np.array([[100 * s for s in p.folds] for p in curve.points])
    axis.errorbar(
        per_class,
        scores.mean(axis=1),
        yerr=[scores.mean(axis=1) - scores.min(axis=1), scores.max(axis=1) - scores.mean(axis=1)],
        fmt="o",
        color="#3b7dd8",
        capsize=3,
        label="cross-validated (folds' range)",
    )
    fitted = power_law(per_class, 1.0 - scores.mean(axis=1) / 100)
    if fitted is not None and curve.gain is not None and fitted[1] > 0:
        b, c = fitted
        grid = np.geomspace(per_class.min(), 2 * curve.per_class, 50)
        axis.plot(
            grid,
            100 * (1 - np.minimum(1.0, b * grid**-c)),
            "--",
            color="#9db8df",
            label="power law, extended to twice the data",
        )
        axis.axvline(curve.per_class, color="grey", linewidth=0.8)
    axis.set_xscale("log", base=2)
    ticks = sorted({*np.round(per_class, 1), curve.per_class, 2 * curve.per_class})
    axis.set_xticks(ticks, [f"{t:.3g}" for t in ticks])
    axis.minorticks_off()
    axis.set_xlabel("training examples per class")
    axis.set_ylabel(f"{measure} (%)")
    axis.legend(loc="lower right")
    figure.tight_layout()
    rows = [
        [f"{100 * p.share:.0f} %", f"{p.per_class:.3g}", percent(p.score)] for p in curve.points
    ]
    return Section(
        "Would more data help?",
        [
            "The chosen configuration cross-validated on the study's folds with a share of "
            "each class's training examples (the table). " + _sentence(more_data_phrase(curve)),
            "A power law of the error in the examples per class (Hestness et al. 2017) fitted "
            "to these few points, extended beyond them: read it as a direction and a size, not "
            "a promise: measured against what twice the data really added, it is typically a "
            "few points off, and more often short than over (docs/BENCHMARKS.md, 'Learning "
            "curves'). The grey line marks all of your training data.",
        ],
        [(["share", "examples per class", f"CV {measure}"], rows)],
        figures=[("Learning curve", figure)],
    )


def _sentence(phrase: str) -> str:
    return phrase[:1].upper() + phrase[1:] + "."
