"""The recommendation section of the reports: what it says, and in an order that reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from advisor.reports.content import Report, _recommendation_section, regret_check_line
from advisor.reports.render import to_markdown
from advisor.schemas import Driver, Explanation, Prediction, Recommendation, TrackRecord


def recommendation(**explained: Any) -> Recommendation:
    return Recommendation(
        family="meta",
        variant="protonet",
        predicted={"meta": Prediction(accuracy=0.8, low=0.7, high=0.9, variant="protonet")},
        p_best={"meta": 1.0},
        meta_features={},
        explanation=Explanation(summary="Meta leads.", **explained),
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
        "Regret check: the runner-up meta (protonet) reached 90.0 % cross-validated, "
        "-2.0 points against the recommendation's."
    )
    skipped = {"family": None, "variant": None, "cv_score": None, "difference": None}
    line = regret_check_line({**skipped, "skipped": "Only scratch can run."})
    assert line == "Regret check skipped: Only scratch can run."
