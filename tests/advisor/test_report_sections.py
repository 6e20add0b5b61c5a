"""The recommendation section of the reports: what it says, and in an order that reads."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.metrics import precision_recall_fscore_support

from advisor.reports.content import _recommendation_section
from advisor.reports.parts import Report
from advisor.reports.render import to_markdown
from advisor.reports.run_sections import (
    _confusion_section,
    _importance_section,
    per_class_scores,
    regret_check_line,
)
from advisor.schemas import (
    ColumnImportance,
    Driver,
    Explanation,
    Prediction,
    Recommendation,
    TrackRecord,
)


def recommendation(**explained: Any) -> Recommendation:
    return Recommendation(
        family="meta",
        variant="protonet",
        predicted={"meta": Prediction(accuracy=0.8, low=0.7, high=0.9, variant="protonet")},
        p_best={"meta": 1.0},
        meta_features={},
        explanation=Explanation(**{"summary": "Meta leads.", **explained}),
        source="toy",
        seconds=0.1,
    )


def test_the_drivers_table_follows_its_own_line_and_the_track_record_is_given(
    tmp_path: Path,
) -> None:
    rec = recommendation(
        drivers=[Driver(name="shots_min", value=1.0, typical=5.0, effect=1.1)],
        risks=["Only 1 example(s) in the smallest class."],
        track_record=TrackRecord(tasks=150, mean_regret=1.5, best_share=0.44),
    )
    text = to_markdown(Report("r", [_recommendation_section(rec)], {}), tmp_path)
    lines = [line for line in text.splitlines() if line.strip()]
    intro = lines.index("What drove it (each feature set to its typical value):")
    assert lines[intro + 1].startswith("| meta-feature |")
    assert "| shots_min | 1 | 5 | 1.1 |" in lines[intro + 3]
    record = next(line for line in lines if line.startswith("Track record:"))
    assert "150 knowledge-base tasks" in record and "lost 1.5 accuracy points" in record
    assert "44 %" in record
    assert lines.index(record) < lines.index("Risks:")


def test_no_drivers_no_record_no_empty_headings(tmp_path: Path) -> None:
    text = to_markdown(Report("r", [_recommendation_section(recommendation())], {}), tmp_path)
    assert "What drove it" not in text and "Track record" not in text and "Risks:" not in text
    assert "**meta** (protonet). Meta leads." in text


def test_the_regret_check_in_one_sentence_measured_or_skipped() -> None:
    measured = {"family": "meta", "variant": "protonet", "cv_score": 0.9, "difference": -0.02}
    assert regret_check_line(measured) == (
        "Regret check: the runner-up meta (protonet) reached 90.0 % cross-validated accuracy, "
        "the recommendation 88.0 %: the runner-up leads by 2.0 points; a run of meta may do "
        "better."
    )
    balanced = regret_check_line(measured | {"metric": "balanced_accuracy"})
    assert "reached 90.0 % cross-validated balanced accuracy, the recommendation 88.0 %" in balanced
    behind = regret_check_line(measured | {"difference": 0.05})
    assert behind.endswith("the recommendation 95.0 %: the recommendation leads by 5.0 points.")
    assert regret_check_line(measured | {"difference": 0.0}).endswith("90.0 %: level.")
    skipped = {"family": None, "variant": None, "cv_score": None, "difference": None}
    line = regret_check_line({**skipped, "skipped": "Only scratch can run."})
    assert line == "Regret check skipped: Only scratch can run."


def mismatched() -> Recommendation:
    """Scratch forced by a source that cannot take the data; meta predicted higher."""
    return Recommendation(
        family="scratch",
        variant="logreg",
        predicted={
            "meta": Prediction(accuracy=0.9, low=0.8, high=0.95, variant="protonet"),
            "scratch": Prediction(accuracy=0.7, low=0.6, high=0.8, variant="logreg"),
        },
        p_best={"meta": 0.0, "scratch": 1.0},
        meta_features={},
        explanation=Explanation(summary="Only scratch can run."),
        source="toy",
        seconds=0.1,
        runnable=["scratch"],
    )


def test_families_that_cannot_run_are_marked_in_the_terminal_and_listed_last() -> None:
    from advisor.cli.advise import describe_recommendation

    lines = describe_recommendation(mismatched()).splitlines()
    scratch = next(i for i, line in enumerate(lines) if line.startswith("scratch"))
    meta = next(i for i, line in enumerate(lines) if line.startswith("meta"))
    assert scratch < meta  # the runnable family first, though meta is predicted higher
    assert lines[meta].rstrip().endswith("cannot run") and "100 %" in lines[scratch]
    assert any("for reference only" in line for line in lines)
    # A recommendation with every family runnable has no such rows, nor the note.
    assert "cannot run" not in describe_recommendation(recommendation())


def test_the_recommended_family_heads_the_terminal_table_as_in_the_report() -> None:
    """Chosen on its lead, it can be predicted a hair below another family: it comes first."""
    from advisor.cli.advise import describe_recommendation

    rec = recommendation().model_copy(
        update={
            "family": "transfer",
            "variant": "finetune",
            "predicted": {
                "meta": Prediction(accuracy=0.996, low=0.9, high=1.0, variant="maml"),
                "transfer": Prediction(accuracy=0.993, low=0.9, high=1.0, variant="finetune"),
                "scratch": Prediction(accuracy=0.95, low=0.8, high=1.0, variant="cnn"),
            },
            "p_best": {"meta": 0.4, "transfer": 0.38, "scratch": 0.22},
        }
    )
    rows = [(line.split() or [""])[0] for line in describe_recommendation(rec).splitlines()]
    header = rows.index("family")
    assert rows[header + 2 : header + 5] == ["transfer", "meta", "scratch"]


def test_families_that_cannot_run_are_marked_in_the_report(tmp_path: Path) -> None:
    from advisor.reports.content import _prediction_section

    text = to_markdown(Report("r", [_prediction_section(mismatched())], {}), tmp_path)
    assert "| meta | protonet | 90.0 % | 80.0–95.0 % | cannot run |" in text
    assert "| scratch | logreg | 70.0 % | 60.0–80.0 % | 100 % |" in text
    assert "so meta cannot run" in text


def test_a_recommendation_saved_before_runnable_reads_with_every_family_runnable() -> None:
    saved = recommendation().model_dump(exclude={"runnable"})
    assert Recommendation.model_validate(saved).runnable == [
        "transfer",
        "meta",
        "hybrid",
        "scratch",
    ]


def test_the_prior_rule_is_said_once(tmp_path: Path) -> None:
    rule = "Outside the knowledge base's range: the prior rule chose logreg."
    opened = recommendation(summary=f"{rule} It is predicted to reach 77 %.", fallback=rule)
    text = to_markdown(Report("r", [_recommendation_section(opened)], {}), tmp_path)
    assert text.count(rule) == 1
    # A fallback the summary does not give (a recommendation saved by an older version) stays.
    older = recommendation(summary="Scratch.", fallback=rule)
    text = to_markdown(Report("r", [_recommendation_section(older)], {}), tmp_path)
    assert text.count(rule) == 1


def test_nearest_tasks_out_of_range_are_said_to_be_far(tmp_path: Path) -> None:
    from advisor.reports.content import _neighbours_section

    far = to_markdown(
        Report("r", [_neighbours_section(recommendation(in_range=False))], {}), tmp_path
    )
    near = to_markdown(Report("r", [_neighbours_section(recommendation())], {}), tmp_path)
    assert "not tasks like yours" in far and "not tasks like yours" not in near


def test_a_table_is_placed_among_the_knowledge_bases_tables(tmp_path: Path) -> None:
    """The percentiles of 'Your data within the knowledge base' are among tasks of the data's
    own kind (here 16 examples: above every table's 8, below every image task's 100)."""
    import types

    import pandas as pd

    from advisor.reports.content import _features_section

    tasks = pd.DataFrame(
        {"mf.nr_inst": [8.0] * 4 + [100.0] * 6, "modality": ["vector"] * 4 + ["image"] * 6}
    )
    advisor: Any = types.SimpleNamespace(recommender=types.SimpleNamespace(tasks=tasks))

    def placed(modality: Any) -> str:
        rec = recommendation().model_copy(
            update={"meta_features": {"nr_inst": 16.0}, "modality": modality}
        )
        return to_markdown(Report("r", [_features_section(rec, advisor)], {}), tmp_path)

    assert "| nr_inst | 16 | 8 | 100 |" in placed("vector")
    assert "tasks of the same kind of data." in placed("vector")
    assert "| nr_inst | 16 | 100 | 0 |" in placed("image")
    assert "| nr_inst | 16 | 100 | 40 |" in placed(None)  # kind unknown: among all tasks


def test_a_family_not_measured_on_a_nearest_task_is_a_dash(tmp_path: Path) -> None:
    from advisor.reports.content import _neighbours_section
    from advisor.schemas import Neighbour

    own = Neighbour(  # an own run: the regret check measured two families
        task_id="local/1",
        domain="local",
        ways=5,
        shots=5,
        distance=0.0,
        accuracy={"meta": 0.9, "scratch": 0.8},
    )
    guess = Prediction(accuracy=0.8, low=0.7, high=0.9, variant="v")
    rec = recommendation(neighbours=[own]).model_copy(
        update={"predicted": {"transfer": guess, "meta": guess, "scratch": guess}}
    )
    text = to_markdown(Report("r", [_neighbours_section(rec)], {}), tmp_path)
    row = next(line for line in text.splitlines() if line.startswith("| local/1"))
    assert row.endswith("| — | 90.0 % | 80.0 % |") and "nan" not in text


def test_per_class_scores_are_scikit_learns() -> None:
    truth = np.array([0] * 50 + [1] * 8 + [2] * 12)
    guess = truth.copy()
    guess[:6] = 1  # six common examples taken for the rare class
    guess[50:53] = 0  # three rare ones missed
    guess[58:70] = 0  # class 2 never found: its precision is undefined, its recall 0
    confusion = np.zeros((3, 3), dtype=int)
    np.add.at(confusion, (truth, guess), 1)
    recall, precision, f1 = per_class_scores(confusion)
    expected = precision_recall_fscore_support(truth, guess, zero_division=np.nan)
    assert recall == pytest.approx(expected[1])
    assert precision[:2] == pytest.approx(expected[0][:2]) and math.isnan(precision[2])
    assert f1[:2] == pytest.approx(expected[2][:2]) and math.isnan(f1[2])


def test_the_confusion_section_lists_each_class(tmp_path: Path) -> None:
    section = _confusion_section([[45, 5], [2, 8]], ["common", "rare"])
    text = to_markdown(Report("r", [section], {}), tmp_path)
    assert "| common | 50 | 90.0 % | 95.7 % | 92.8 % |" in text
    assert "| rare | 10 | 80.0 % | 61.5 % | 69.6 % |" in text


def test_names_with_dollar_signs_are_drawn_as_text_not_formulas(tmp_path: Path) -> None:
    """Matplotlib parses $…$ as mathtext: '$\\foo{$' stopped the figure with a parse error,
    '$5-$10' was drawn as a formula. Both now render, and the figures are written."""
    names = ["$\\foo{$", "$5-$10"]
    confusion = _confusion_section([[3, 1], [0, 4]], names)
    importance = _importance_section(
        [ColumnImportance(column=name, drop=0.1, spread=0.01) for name in ["$\\sqrt$", "a"]],
        "accuracy",
    )
    text = to_markdown(Report("r", [confusion, importance], {}), tmp_path)
    assert text.count(".png") >= 2  # both figures drawn and saved
    labels = [t.get_text() for t in confusion.figures[0][1].axes[0].get_xticklabels()]
    assert labels == [name.replace("$", "\\$") for name in names]
