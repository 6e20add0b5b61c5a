"""The advisor's sources: the glyph source split, the shipped source, user-built sources."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from advisor.cli import cli
from advisor.datasets import builtin_domains
from advisor.settings import get_settings
from advisor.sources import GLYPH_SOURCE_DOMAINS, get_source, glyph_source_split
from learners import builtin_sources, make_learner


def test_source_scripts_are_glyph_domains_and_leave_targets() -> None:
    glyphs = builtin_domains()["glyphs"]
    assert set(GLYPH_SOURCE_DOMAINS) < set(glyphs)
    assert len(set(glyphs) - set(GLYPH_SOURCE_DOMAINS)) >= 8  # cross-domain targets remain


def test_glyph_split_is_seeded_and_disjoint() -> None:
    first = glyph_source_split("latin_upper")
    again = glyph_source_split("latin_upper")
    assert first.source_classes.tolist() == again.source_classes.tolist()
    assert not set(first.source_classes) & set(first.heldout_classes)
    assert len(first.heldout_classes) == round(0.3 * 26)


@pytest.mark.skipif("glyphs" not in builtin_sources(), reason="the glyphs source is not built")
def test_the_shipped_glyphs_source_classifies_held_out_classes() -> None:
    source = get_source("glyphs")
    assert source.backbone == "conv4" and set(source.meta) == {"protonet", "maml", "fomaml", "anil"}
    held = glyph_source_split("latin_upper")
    task_classes = held.heldout_classes[:5]
    data = held.heldout.select_classes(task_classes)
    support = np.concatenate([np.flatnonzero(data.y == c)[:5] for c in task_classes])
    query = np.setdiff1d(np.arange(len(data)), support)
    model = make_learner("meta", source=source).fit(data.X[support], data.y[support])
    assert np.mean(model.predict(data.X[query]) == data.y[query]) >= 0.9
    assert source.profile().dim == 64


def test_cli_builds_a_source_from_a_file_and_lists_it(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    rows = ["f0,f1,f2,label"]
    for k in range(6):
        for _ in range(8):
            x = rng.normal(size=3) + 3 * np.eye(6)[k][:3] - 3 * np.eye(6)[k][3:]
            rows.append(",".join(f"{v:.4f}" for v in x) + f",c{k}")
    path = tmp_path / "tiny.csv"
    path.write_text("\n".join(rows) + "\n")
    runner = CliRunner()
    result = runner.invoke(
        cli,
        ["sources", "build-from", str(path), "--name", "tiny", "--epochs", "2", "--episodes", "3"],
    )
    assert result.exit_code == 0, result.output
    listing = json.loads(runner.invoke(cli, ["sources", "list", "--json"]).output)
    tiny = next(row for row in listing if row["name"] == "tiny")
    assert tiny["where"] == "user" and tiny["backbone"] == "mlp" and tiny["classes"] == 6
    source = get_source("tiny")
    assert source.spec.modality == "vector" and source.spec.shape == (3,)
    # a run on the user's source is reloaded with it: predict and report find the source
    result = runner.invoke(
        cli,
        ["run", str(path), "--source", "tiny", "--family", "transfer", "--trials", "1", "--json"],
    )
    assert result.exit_code == 0, result.output
    run_id = json.loads(result.output)["run_id"]
    predicted = runner.invoke(cli, ["predict", run_id, str(path), "--label", "label"])
    assert predicted.exit_code == 0, predicted.output
    assert "Predicted 48 rows; accuracy" in predicted.stderr
    report = runner.invoke(cli, ["report", run_id, "-o", str(tmp_path / "r.json")])
    assert report.exit_code == 0, report.output


def _table(path: Path, classes: int) -> Path:
    rng = np.random.default_rng(classes)
    rows = ["f0,f1,label"] + [
        f"{rng.normal() + k:.3f},{rng.normal() - k:.3f},c{k}"
        for k in range(classes)
        for _ in range(6)
    ]
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("../x", "source.bad_name"),
        ("..", "source.bad_name"),
        ("", "source.bad_name"),
        ("a/b", "source.bad_name"),
        ("Mine", "source.bad_name"),
        ("synthetic-0", "source.bad_name"),  # the knowledge base's own table sources
        ("glyphs", "source.exists"),  # the built-in source
    ],
)
def test_a_source_name_is_checked_before_anything_is_built(
    tmp_path: Path, name: str, code: str
) -> None:
    """Names were used as paths unchecked: '../x' wrote outside the sources folder, 'glyphs'
    shadowed the built-in source, 'synthetic-0' passed for a knowledge-base source."""
    home = Path(get_settings().home)
    before = sorted(home.rglob("*")) if home.exists() else []
    data = _table(tmp_path / "t.csv", 3)
    result = CliRunner().invoke(cli, ["sources", "build-from", str(data), "--name", name])
    assert result.exit_code == 1 and f"[{code}]" in result.output, result.output
    assert (sorted(home.rglob("*")) if home.exists() else []) == before  # nothing written


def test_a_taken_source_name_is_refused_unless_replaced(own_home: Path, tmp_path: Path) -> None:
    build = ["sources", "build-from", "--name", "mine", "--epochs", "1", "--episodes", "1"]
    runner = CliRunner()
    first = runner.invoke(cli, [*build, str(_table(tmp_path / "three.csv", 3))])
    assert first.exit_code == 0, first.output
    two = str(_table(tmp_path / "two.csv", 2))
    again = runner.invoke(cli, [*build, two])
    assert again.exit_code == 1 and "[source.exists]" in again.output
    assert len(get_source("mine").classes) == 3  # kept
    replaced = runner.invoke(cli, [*build, two, "--replace"])
    assert replaced.exit_code == 0, replaced.output
    assert len(get_source("mine").classes) == 2


def test_a_source_is_deleted_once_no_saved_run_starts_from_it(
    own_home: Path, tmp_path: Path
) -> None:
    """A scratch run made with the source never needs it: it still predicts once it is gone
    (it used to reload the source its recommendation named, and failed)."""
    data = str(_table(tmp_path / "three.csv", 3))
    runner = CliRunner()
    built = runner.invoke(
        cli, ["sources", "build-from", data, "--name", "mine", "--epochs", "1", "--episodes", "1"]
    )
    assert built.exit_code == 0, built.output

    def run(family: str) -> str:
        ran = runner.invoke(
            cli, ["run", data, "--source", "mine", "--family", family, "--trials", "1", "--json"]
        )
        assert ran.exit_code == 0, ran.output
        return str(json.loads(ran.output)["run_id"])

    transfer, scratch = run("transfer"), run("scratch")
    refused = runner.invoke(cli, ["sources", "delete", "mine"])
    assert refused.exit_code == 1 and "[source.in_use]" in refused.output
    assert transfer in refused.output and scratch not in refused.output
    assert runner.invoke(cli, ["runs", "delete", transfer, "--yes"]).exit_code == 0
    deleted = runner.invoke(cli, ["sources", "delete", "mine"])
    assert deleted.exit_code == 0, deleted.output
    assert not (own_home / "sources" / "mine").exists()
    predicted = runner.invoke(cli, ["predict", scratch, data, "--label", "label"])
    assert predicted.exit_code == 0, predicted.output
    for name, code in (("glyphs", "source.builtin"), ("../x", "learners.unknown_source")):
        result = runner.invoke(cli, ["sources", "delete", name])
        assert result.exit_code == 1 and f"[{code}]" in result.output, result.output
