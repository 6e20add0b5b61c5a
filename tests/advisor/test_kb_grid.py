"""The KB's task grid (feasibility, more query examples) and extending a KB file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from advisor.cli import cli
from advisor.errors import InvalidInputError
from advisor.kb import build_kb, default_grid, read_kb, store
from advisor.kb.domains import DOMAIN_BY_NAME, domain_capacity, draw_task

DIGITS = DOMAIN_BY_NAME["digits"]
SYNTHETIC = DOMAIN_BY_NAME["tabular:2:synthetic_concept"]


@pytest.mark.parametrize("max_queries", [None, 60])
def test_every_task_fits_its_domain_and_the_support_budget(max_queries: int | None) -> None:
    n_classes, per_class = domain_capacity(DIGITS)
    specs = default_grid(domains=[DIGITS], max_queries=max_queries)
    assert specs, "digits supplies tasks"
    for spec in specs:
        assert spec.ways <= n_classes
        assert spec.shots + spec.queries <= per_class
        assert spec.ways * spec.shots <= 250
    assert len({spec.task_id for spec in specs}) == len(specs)


def test_max_queries_keeps_the_tasks_and_measures_them_on_more_queries() -> None:
    _, per_class = domain_capacity(DIGITS)
    plain = default_grid(domains=[DIGITS], max_queries=None)
    more = default_grid(domains=[DIGITS])  # up to 60 by default
    assert [(s.ways, s.shots, s.seed) for s in more] == [(s.ways, s.shots, s.seed) for s in plain]
    for spec in more:
        assert spec.queries == min(60, per_class - spec.shots)
        assert spec.queries >= 15


def test_vector_domains_are_measured_on_more_queries_than_image_domains() -> None:
    _, per_class = domain_capacity(SYNTHETIC)
    specs = default_grid(domains=[SYNTHETIC, DIGITS])
    vector = [s for s in specs if s.domain == SYNTHETIC.name]
    image = [s for s in specs if s.domain == DIGITS.name]
    assert vector and image
    assert {s.queries for s in vector} == {min(300, per_class - s.shots) for s in vector}
    assert max(s.queries for s in vector) == 300
    assert max(s.queries for s in image) == 60
    capped = default_grid(domains=[SYNTHETIC], max_queries=60)  # one number caps every domain
    assert max(s.queries for s in capped) == 60
    with pytest.raises(ValueError, match="below queries"):
        default_grid(domains=[SYNTHETIC], max_queries={"image": 60, "vector": 10})


def test_a_task_with_more_queries_has_the_same_support_and_contains_the_old_queries() -> None:
    few = draw_task("digits", ways=5, shots=5, queries=15, seed=3)
    many = draw_task("digits", ways=5, shots=5, queries=60, seed=3)
    np.testing.assert_array_equal(few.support_index, many.support_index)
    np.testing.assert_array_equal(few.X_support, many.X_support)
    old = few.query_index.reshape(5, 15)
    new = many.query_index.reshape(5, 60)
    np.testing.assert_array_equal(old, new[:, :15])


def test_max_queries_below_the_minimum_is_refused() -> None:
    with pytest.raises(ValueError, match="below queries"):
        default_grid(domains=[DIGITS], max_queries=10)


def test_kb_build_measures_on_up_to_max_queries(tmp_path: Path) -> None:
    out = tmp_path / "kb.parquet"
    arguments = ["kb", "build", "--out", str(out), "--domain", "digits", "--limit", "1"]
    result = CliRunner().invoke(cli, [*arguments, "--max-queries", "40"])
    assert result.exit_code == 0, result.output
    table = read_kb(out)
    assert set(table["queries"]) == {40}
    assert set(table["n_query"]) == {40 * int(table["ways"].iloc[0])}
    assert table["task_id"].str.contains("40q").all()


def test_kb_build_refuses_fewer_than_the_minimum_queries(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["kb", "build", "--out", str(tmp_path / "kb.parquet"), "--max-queries", "5"]
    )
    assert result.exit_code == 2
    assert "--max-queries" in result.output


def test_a_build_extends_the_knowledge_base_already_at_its_path(tmp_path: Path) -> None:
    first, second = default_grid(domains=[DIGITS])[:2]
    out = tmp_path / "kb.parquet"
    build_kb([first], out, progress=False)
    before = read_kb(out)
    assert not store.parts_dir(out).exists()  # a finished build leaves only the file
    assert before.attrs["provenance"]["tuned_tasks"] == []
    build_kb([first, second], out, progress=False)
    after = read_kb(out)
    assert set(after["task_id"]) == {first.task_id, second.task_id}
    kept = after[after["task_id"] == first.task_id].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept[before.columns], before)  # not measured again


def test_a_damaged_knowledge_base_stops_the_build_and_is_left_as_it_was(tmp_path: Path) -> None:
    (spec,) = default_grid(domains=[DIGITS])[:1]
    out = tmp_path / "kb.parquet"
    build_kb([spec], out, progress=False)
    damaged = out.read_bytes()[:-10]
    out.write_bytes(damaged)
    with pytest.raises(InvalidInputError):
        build_kb([spec], out, progress=False)
    assert out.read_bytes() == damaged
