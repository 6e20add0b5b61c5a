"""``advisor kb build|finish|evaluate`` on bad options and damaged files, and resuming a build.

Measuring is replaced by a stand-in (one row per task, no learner run), so a build costs no
more than drawing its grid; only the evaluation tests fit a recommender, on a few shipped tasks.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from advisor.cli import cli
from advisor.cli.kb import _grid
from advisor.errors import AdvisorError
from advisor.kb import TaskSpec, build_kb, read_kb, store
from advisor.kb import build as kb_build
from advisor.kb.evaluate import evaluate

SPECS = [
    TaskSpec(
        domain="glyphs:greek", source="glyphs", kind="cross", ways=2, shots=s, queries=15, seed=0
    )
    for s in (1, 2, 3, 4)
]
TINY = ["--domain", "glyphs:greek", "--repeats", "1", "--limit", "3", "--max-queries", "15"]


def _rows(spec: TaskSpec) -> list[dict[str, Any]]:
    return [
        {
            "task_id": spec.task_id,
            "domain": spec.domain,
            "source": spec.source,
            "family": "meta",
            "variant": "protonet",
            "tuned": False,
            "accuracy": 0.5,
        }
    ]


@pytest.fixture
def no_learners(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """Measuring a task writes one made-up row; a task id put in the set yields no row.

    Tuning writes none (old code, which took ``--tuned -1``, would otherwise tune for real).
    """
    lost: set[str] = set()
    monkeypatch.setattr(
        kb_build, "run_task", lambda spec: [] if spec.task_id in lost else _rows(spec)
    )
    monkeypatch.setattr(kb_build, "run_tuned", lambda spec, trials: [])
    monkeypatch.setattr(
        kb_build, "kb_source", lambda name: SimpleNamespace(info={"weights_sha256": "abc"})
    )
    return lost


def _invoke(*arguments: str) -> Any:
    return CliRunner().invoke(cli, list(arguments))


# -- 1. resuming after a damaged part -----------------------------------------------------------


def test_resuming_after_a_damaged_part_keeps_every_good_part(
    tmp_path: Path, no_learners: set[str]
) -> None:
    out = tmp_path / "kb.parquet"
    for index, spec in enumerate(SPECS[:3]):
        store.write_part(out, _rows(spec), index)
    (store.parts_dir(out) / "part-000001.parquet").write_bytes(b"cut short")
    table = build_kb(SPECS, out, progress=False, batch=1)
    assert set(table["task_id"]) == {s.task_id for s in SPECS}
    assert set(read_kb(out)["task_id"]) == {s.task_id for s in SPECS}
    assert table.attrs["provenance"]["complete"] is True


def test_a_missing_part_is_measured_again_without_overwriting_the_last(
    tmp_path: Path, no_learners: set[str]
) -> None:
    out = tmp_path / "kb.parquet"
    for index, spec in enumerate(SPECS[:3]):
        store.write_part(out, _rows(spec), index)
    (store.parts_dir(out) / "part-000000.parquet").unlink()
    build_kb(SPECS, out, progress=False, batch=1)
    assert set(read_kb(out)["task_id"]) == {s.task_id for s in SPECS}


def test_a_build_that_ends_incomplete_says_so_and_exits_1(
    tmp_path: Path, no_learners: set[str]
) -> None:
    out = tmp_path / "kb.parquet"
    specs = _grid(("glyphs:greek",), 1, 15)[:3]
    no_learners.add(specs[1].task_id)
    result = _invoke("kb", "build", "--out", str(out), *TINY)
    assert result.exit_code == 1, result.output
    assert "error [kb.incomplete]" in result.output
    assert "2 of the 3 tasks" in result.output
    assert json.loads(out.with_suffix(".json").read_text())["complete"] is False
    no_learners.clear()  # the task can be measured now: a rerun completes the file
    result = _invoke("kb", "build", "--out", str(out), *TINY)
    assert result.exit_code == 0, result.output
    assert "3 tasks, 2 already measured, 1 to go" in result.output
    assert read_kb(out).attrs["provenance"]["complete"] is True


# -- 2 and 3. options checked before any work ------------------------------------------------


@pytest.mark.parametrize("command", ["build", "finish"])
def test_an_unknown_domain_is_a_usage_error(
    tmp_path: Path, command: str, no_learners: set[str]
) -> None:
    result = _invoke("kb", command, "--out", str(tmp_path / "kb.parquet"), "--domain", "nope")
    assert result.exit_code == 2, result.output
    assert "--domain" in result.output and "nope" in result.output
    assert isinstance(result.exception, SystemExit)  # no traceback


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--limit", "0"),
        ("--limit", "-17"),
        ("--repeats", "0"),
        ("--repeats", "-1"),
        ("--tuned", "-1"),
        ("--workers", "0"),
        ("--workers", "-3"),
        ("--tuned-trials", "0"),
    ],
)
def test_build_refuses_an_option_out_of_range(
    tmp_path: Path, option: str, value: str, no_learners: set[str]
) -> None:
    out = tmp_path / "kb.parquet"
    arguments = [a for a in TINY if a not in ("--limit", "3")] if option == "--limit" else TINY
    result = _invoke("kb", "build", "--out", str(out), *arguments, option, value)
    assert result.exit_code == 2, result.output
    assert option in result.output
    assert not out.exists() and not store.parts_dir(out).exists()


@pytest.mark.parametrize(("option", "value"), [("--repeats", "0"), ("--tuned-trials", "0")])
def test_finish_refuses_an_option_out_of_range(tmp_path: Path, option: str, value: str) -> None:
    result = _invoke("kb", "finish", "--out", str(tmp_path / "kb.parquet"), option, value)
    assert result.exit_code == 2, result.output
    assert option in result.output


def test_finish_with_nothing_measured_is_a_coded_error(tmp_path: Path) -> None:
    out = tmp_path / "kb.parquet"
    result = _invoke("kb", "finish", "--out", str(out), *TINY)
    assert result.exit_code == 1, result.output
    assert "error [kb.empty]" in result.output
    assert isinstance(result.exception, SystemExit)
    assert not out.exists()


# -- 4. a damaged provenance record --------------------------------------------------------------


@pytest.mark.parametrize(
    "damage",
    [
        "{not json",
        "[1, 2]",
        "null",
        "not UTF-8",
        None,  # a version that is not a number
    ],
)
def test_a_damaged_provenance_record_is_kb_corrupt(tmp_path: Path, damage: str | None) -> None:
    out = tmp_path / "kb.parquet"
    store.write_part(out, _rows(SPECS[0]), 0)
    store.finish(out, {})
    record = out.with_suffix(".json")
    if damage is None:
        record.write_text(json.dumps({**json.loads(record.read_text()), "version": "one"}))
    elif damage == "not UTF-8":
        record.write_bytes(b"\xff\xfe{")
    else:
        record.write_text(damage)
    with pytest.raises(AdvisorError) as caught:
        read_kb(out)
    assert caught.value.code == "kb.corrupt"
    result = _invoke("kb", "evaluate", "--kb", str(out))
    assert result.exit_code == 1 and "error [kb.corrupt]" in result.output


# -- 5. a build that extends a KB of another grid -------------------------------------------------


def test_extending_a_kb_counts_this_grid_and_records_every_build(
    tmp_path: Path, no_learners: set[str]
) -> None:
    out = tmp_path / "kb.parquet"
    assert _invoke("kb", "build", "--out", str(out), *TINY).exit_code == 0
    other = ["--domain", "glyphs:numerals", "--repeats", "1", "--limit", "2", "--max-queries", "15"]
    result = _invoke("kb", "build", "--out", str(out), *other)
    assert result.exit_code == 0, result.output
    assert "2 tasks, 0 already measured, 2 to go (and 3 tasks of other grids kept)" in result.output
    record = read_kb(out).attrs["provenance"]
    assert record["tasks"] == 5 and record["grid_tasks"] == 5 and record["complete"] is True
    assert record["grid"] == ["glyphs:greek", "glyphs:numerals"]
    assert record["sources"] == {"glyphs": "abc"}
    builds = record["builds"]
    assert [b["grid"] for b in builds] == [["glyphs:greek"], ["glyphs:numerals"]]
    assert builds[0]["options"] == {
        "domains": ["glyphs:greek"],
        "repeats": 1,
        "max_queries": 15,
        "limit": 3,
        "tuned": 0,
    }
    assert [b["grid_tasks"] for b in builds] == [3, 2]
    # the same grid again (a resume, or `kb finish` of it) replaces its own entry
    result = _invoke("kb", "build", "--out", str(out), *other)
    assert "2 tasks, 2 already measured, 0 to go" in result.output
    assert len(read_kb(out).attrs["provenance"]["builds"]) == 2


def test_finish_records_the_grid_options_and_how_much_is_missing(
    tmp_path: Path, no_learners: set[str]
) -> None:
    out = tmp_path / "kb.parquet"
    (first, *_rest) = _grid(("glyphs:greek",), 1, 15)[:3]
    store.write_part(out, _rows(first), 0)  # an interrupted build: one task measured
    result = _invoke("kb", "finish", "--out", str(out), *TINY)
    assert result.exit_code == 0, result.output
    assert "1 of the grid's 3 tasks" in result.output
    record = read_kb(out).attrs["provenance"]
    assert record["complete"] is False and record["grid_tasks"] == 3
    assert record["builds"][0]["options"]["limit"] == 3
    assert record["builds"][0]["measured"] == 1
    result = _invoke("kb", "build", "--out", str(out), *TINY)  # resumes, completes
    assert result.exit_code == 0, result.output
    record = read_kb(out).attrs["provenance"]
    assert record["complete"] is True and len(record["builds"]) == 1


# -- 6. evaluating -------------------------------------------------------------------------------


def _shipped_subset(domains: list[str], tasks: int) -> pd.DataFrame:
    kb = read_kb()
    kb = kb[kb["domain"].isin(domains)]
    chosen = kb.groupby("domain")["task_id"].unique().apply(lambda ids: list(ids[:tasks]))
    return kb[kb["task_id"].isin([t for ids in chosen for t in ids])].reset_index(drop=True)


def test_evaluating_a_kb_of_one_domain_is_a_clear_error(tmp_path: Path) -> None:
    table = _shipped_subset(["glyphs:greek"], 3)
    with pytest.raises(AdvisorError) as caught:
        evaluate(table)
    assert caught.value.code == "kb.too_few_domains"
    out = tmp_path / "kb.parquet"
    store.write_part(out, table, 0)
    store.finish(out, {})
    result = _invoke("kb", "evaluate", "--kb", str(out))
    assert result.exit_code == 1, result.output
    assert "error [kb.too_few_domains]" in result.output and "at least 2 domains" in result.output


@pytest.mark.slow  # fits a recommender per fold on 8 tasks: ~20 s on 2 cores
def test_evaluating_two_domains_shows_no_numpy_warning() -> None:
    table = _shipped_subset(["glyphs:greek", "tabular:2:synthetic_concept"], 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        _per_domain, overall = evaluate(table)
    assert set(overall["method"]) >= {"advisor", "random"}
