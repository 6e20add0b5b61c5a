"""Knowledge base on a tiny grid, then the Advisor on it: recommend, run, reload, report."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from advisor import Advisor
from advisor.cli import cli
from advisor.core import load_run
from advisor.datasets import sample_task
from advisor.errors import AdvisorError
from advisor.kb import TaskSpec, build_kb, read_kb, store
from advisor.kb.domains import load_domain
from advisor.kb.runner import ALL_VARIANTS, run_task
from advisor.reports.run_sections import regret_check_line

pytestmark = pytest.mark.slow  # builds a 4-task knowledge base: ~30 s on 2 cores

SPECS = [
    TaskSpec(domain=domain, source="glyphs", kind=kind, ways=2, shots=shots, queries=5, seed=0)
    for domain, kind in (("glyphs:numerals", "cross"), ("glyphs:latin_upper+", "in"))
    for shots in (1, 3)
]


@pytest.fixture(scope="module")
def tiny_kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("kb") / "kb.parquet"
    first = run_task(SPECS[0])
    store.write_part(path, first, 0)  # an interrupted build: one task already measured
    build_kb(SPECS, path, workers=1, progress=False, tuned=1, tuned_trials=2)
    return path


def test_kb_rows_provenance_and_checksum(tiny_kb: Path) -> None:
    table = read_kb(tiny_kb)
    assert table["task_id"].nunique() == len(SPECS)
    tuned = table[table["tuned"]]
    assert sorted(tuned["family"]) == sorted(["transfer", "meta", "hybrid", "scratch"])
    assert tuned["task_id"].nunique() == 1 and tuned["params"].str.startswith("{").all()
    assert len(table) - len(tuned) == len(SPECS) * len(ALL_VARIANTS)
    assert {"accuracy", "fit_seconds", "predict_seconds", "mf.logme", "mf.one_nn.mean"} <= set(
        table.columns
    )
    assert table["accuracy"].between(0, 1).all()
    record = json.loads(tiny_kb.with_suffix(".json").read_text())
    assert record["tasks"] == len(SPECS) and record["version"] == 1
    assert record["tuned_tasks"] == sorted(tuned["task_id"].unique())
    assert record["sources"]["glyphs"]
    damaged = tiny_kb.parent / "damaged.parquet"
    damaged.write_bytes(tiny_kb.read_bytes()[:-10])
    damaged.with_suffix(".json").write_text(tiny_kb.with_suffix(".json").read_text())
    with pytest.raises(AdvisorError) as caught:
        read_kb(damaged)
    assert caught.value.code == "kb.corrupt"


def test_measuring_a_task_is_deterministic() -> None:
    spec = SPECS[2]
    first = pd.DataFrame(run_task(spec, variants=[("meta", "protonet"), ("scratch", "logreg")]))
    again = pd.DataFrame(run_task(spec, variants=[("meta", "protonet"), ("scratch", "logreg")]))
    assert first["accuracy"].tolist() == again["accuracy"].tolist()
    assert first["mf.mmd"].tolist() == again["mf.mmd"].tolist()


def test_advisor_recommends_runs_reloads_and_reports(tiny_kb: Path, tmp_path: Path) -> None:
    task = sample_task(load_domain("glyphs:numerals"), ways=3, shots=3, queries=5, seed=9)
    adv = Advisor("glyphs", kb=tiny_kb)
    rec = adv.recommend(task.X_support, task.y_support)
    assert rec.family in {"transfer", "meta", "hybrid", "scratch"}
    assert set(rec.predicted) == {"transfer", "meta", "hybrid", "scratch"}
    assert rec.explanation.summary and rec.explanation.neighbours
    result = adv.run(
        task.X_support,
        task.y_support,
        family="meta",
        n_trials=3,
        X_test=task.X_query,
        y_test=task.y_query,
    )
    assert result.family == "meta" and len(result.study.trials) == 3
    assert 0.0 <= result.test_score <= 1.0
    again = load_run(result.run_id)
    np.testing.assert_array_equal(
        again.model.predict(task.X_query), result.model.predict(task.X_query)
    )
    assert again.data == result.data and again.samples == result.samples is not None
    assert again.data is not None and again.data.sentence() == (
        "9 images (28×28, grayscale) of 3 classes, 3 per class."
    )
    arrays = io.BytesIO()
    np.savez(arrays, X=task.X_query, y=task.y_query)
    scored = again.classify(arrays.getvalue())  # the test set as a file: the same score
    assert scored.accuracy == pytest.approx(result.test_score)
    assert len(scored.predictions.labels) == len(task.y_query)
    for fmt, marker in (
        ("html", "<h2>Tuned run</h2>"),
        ("md", "## Optimisation history"),
        ("json", '"run_id"'),
    ):
        path = adv.report(result, tmp_path / f"report.{fmt}", format=fmt)
        assert marker in path.read_text()
    html = (tmp_path / "report.html").read_text()
    assert "data:image/png;base64," in html and "http" not in html.split("<body>")[1]
    assert "<h2>Your data</h2>" in html and "9 images (28×28, grayscale)" in html
    assert "Sample images, one class per row" in html
    recommendation_report = adv.report(rec, tmp_path / "rec.html").read_text()
    for section in (
        "Recommendation",
        "Predicted accuracy per family",
        "Nearest knowledge-base",
        "Your data within the knowledge base",
        "Background",
    ):
        assert section in recommendation_report


def test_cli_recommend_run_report(tiny_kb: Path, tmp_path: Path, monkeypatch) -> None:
    from advisor.datasets.writers import write_dataset

    task = sample_task(load_domain("glyphs:numerals"), ways=2, shots=3, queries=4, seed=5)
    from advisor.datasets import make_dataset

    data = write_dataset(make_dataset(task.X_support, task.y_support), tmp_path / "train.zip")
    monkeypatch.setattr("advisor.kb.store.SHIPPED", tiny_kb)
    runner = CliRunner()
    result = runner.invoke(cli, ["recommend", str(data), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["family"] in {"transfer", "meta", "hybrid", "scratch"}
    # a recommendation's report, in the format its suffix names, describes the data too
    result = runner.invoke(cli, ["recommend", str(data), "--report", str(tmp_path / "rec.md")])
    assert result.exit_code == 0 and f"Report       {tmp_path / 'rec.md'}" in result.output
    advice = (tmp_path / "rec.md").read_text()
    assert "## Your data\n" in advice and "6 images (28×28, grayscale) of 2 classes" in advice
    assert "![Sample images, one class per row]" in advice and "## Tuned run" not in advice
    result = runner.invoke(cli, ["recommend", str(data), "--report", str(tmp_path / "rec.json")])
    assert json.loads((tmp_path / "rec.json").read_text())["data"]["class_counts"] == {
        str(c): 3 for c in sorted(set(map(str, task.y_support)))
    }
    run_md = str(tmp_path / "run.md")
    arguments = ["run", str(data), "--family", "scratch", "--trials", "2", "--json"]
    result = runner.invoke(cli, [*arguments, "--report", run_md])
    assert result.exit_code == 0, result.output
    run_id = json.loads(result.output)["run_id"]
    assert (tmp_path / "run.md").read_text().startswith("# AutoML Advisor — run")  # not HTML
    result = runner.invoke(cli, ["report", run_id, "-o", str(tmp_path / "r.md")])
    assert result.exit_code == 0 and (tmp_path / "r.md").is_file()
    report = (tmp_path / "r.md").read_text()
    assert "6 images (28×28, grayscale) of 2 classes, 3 per class, read from train.zip" in report
    assert "![Sample images, one class per row]" in report
    # predict: images in class folders are scored; loose images are named by their path
    query = write_dataset(make_dataset(task.X_query, task.y_query), tmp_path / "query.zip")
    result = runner.invoke(cli, ["predict", run_id, str(query)])
    assert result.exit_code == 0, result.output
    scored = pd.read_csv(io.StringIO(result.stdout), dtype=str)
    assert list(scored.columns) == ["row", "prediction", "label"] and len(scored) == 8
    model = load_run(run_id).model
    assert scored["prediction"].tolist() == [str(c) for c in model.predict(task.X_query)]
    hits = (scored["prediction"] == scored["label"]).mean()
    assert f"accuracy {100 * hits:.1f} %" in result.stderr
    loose = tmp_path / "loose"
    loose.mkdir()
    with zipfile.ZipFile(query) as archive:
        for number, member in enumerate(m for m in archive.namelist() if m.endswith(".png")):
            (loose / f"new-{number:02d}.png").write_bytes(archive.read(member))
    result = runner.invoke(cli, ["predict", run_id, str(loose), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert [p["id"] for p in document["predictions"]] == [f"new-{i:02d}.png" for i in range(8)]
    assert document["accuracy"] is None


def test_cli_run_reads_the_test_table_the_training_way(
    tiny_kb: Path, tmp_path: Path, monkeypatch
) -> None:
    """A test file lacking one of the training categories is encoded with the training
    table's encoder (on its own, its one-hot columns would differ), and the encoder is saved
    beside the model for later predictions."""
    from advisor.datasets import TabularEncoder, load_dataset

    rng = np.random.default_rng(0)
    cities = ["Paris", "Lyon", "Nice"] * 6
    kind = {"Paris": "north", "Lyon": "centre", "Nice": "south"}
    train = pd.DataFrame({"noise": rng.normal(size=18), "city": cities})
    train["region"] = train["city"].map(kind)
    test = train[train["city"] != "Paris"].assign(noise=rng.normal(size=12))
    train.to_csv(tmp_path / "train.csv", index=False)
    test.to_csv(tmp_path / "test.csv", index=False)
    monkeypatch.setattr("advisor.kb.store.SHIPPED", tiny_kb)
    result = CliRunner().invoke(
        cli,
        ["run", str(tmp_path / "train.csv"), "--label", "region", "--family", "scratch",
         "--trials", "2", "--test", str(tmp_path / "test.csv"), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["test_score"] == 1.0  # the region follows the city exactly
    assert summary["warnings"] == []
    typo = test.assign(region=test["region"].replace({"south": "South"}))  # a label typo
    typo.to_csv(tmp_path / "typo.csv", index=False)
    result = CliRunner().invoke(
        cli,
        ["run", str(tmp_path / "train.csv"), "--label", "region", "--family", "scratch",
         "--trials", "2", "--test", str(tmp_path / "typo.csv")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Test         50.0 %" in result.stdout  # the 6 'South' rows count as wrong
    assert "Warning      Test labels the model was not trained on: 'South'" in result.stdout
    typo_run = result.stdout.split("Run ")[1].split(":")[0]
    printed = [w.removeprefix("Warning      ") for w in result.stdout.splitlines() if "Warn" in w]
    assert load_run(typo_run).warnings == printed and len(printed) == 1
    report = CliRunner().invoke(cli, ["report", typo_run, "-o", str(tmp_path / "typo.md")])
    assert report.exit_code == 0 and "Warning: Test labels" in (tmp_path / "typo.md").read_text()
    encoder = TabularEncoder.load(summary["model_path"])
    assert encoder.feature_names_out_ == ["noise", "city_Lyon", "city_Nice", "city_Paris"]
    again = load_dataset(tmp_path / "test.csv", label="region", encoder=encoder)
    model = load_run(summary["run_id"]).model
    assert (model.predict(again.X) == again.y).all()


def test_cli_commands_read_a_file_with_the_same_options(
    tiny_kb: Path, tmp_path: Path, monkeypatch
) -> None:
    """`recommend` and `run` (its test file too) take inspect's reading options: a column
    dropped by name, a row number left out as an identifier and said so, and kept on demand."""
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"number": 0, "x": rng.normal(size=24)})
    frame["leak"] = np.repeat([0.0, 1.0], 12)
    frame["label"] = np.repeat(["a", "b"], 12)
    frame.iloc[::2].assign(number=np.arange(1, 13)).to_csv(tmp_path / "train.csv", index=False)
    frame.iloc[1::2].assign(number=np.arange(13, 25)).to_csv(tmp_path / "test.csv", index=False)
    monkeypatch.setattr("advisor.kb.store.SHIPPED", tiny_kb)
    runner = CliRunner()
    shown = runner.invoke(cli, ["recommend", str(tmp_path / "train.csv"), "--drop", "leak"])
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.startswith("Data         Column 'number' looks like a row identifier")
    features = {}
    for extra in ([], ["--identifiers", "keep"]):
        answer = runner.invoke(
            cli, ["recommend", str(tmp_path / "train.csv"), "--drop", "leak", "--json", *extra]
        )
        assert answer.exit_code == 0, answer.output
        features[bool(extra)] = json.loads(answer.stdout)["meta_features"]["nr_attr"]
    assert features == {False: 1, True: 2}
    result = runner.invoke(
        cli,
        ["run", str(tmp_path / "train.csv"), "--drop", "leak", "--family", "scratch",
         "--trials", "1", "--test", str(tmp_path / "test.csv"), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert load_run(summary["run_id"]).encoder.feature_names_out_ == ["x"]
    assert summary["test_score"] is not None and summary["test_score"] < 1.0  # no leak to learn
    predicted = runner.invoke(cli, ["predict", summary["run_id"], str(tmp_path / "test.csv")])
    assert predicted.exit_code == 0, predicted.output
    assert predicted.stdout.startswith("number,prediction\n13,")  # named by their identifier
    refused = runner.invoke(cli, ["run", str(tmp_path / "train.csv"), "--drop", "nope"])
    assert refused.exit_code == 1 and "error [dataset.bad_option]" in refused.stderr


def test_cli_predict_reads_new_rows_the_training_way(
    tiny_kb: Path, tmp_path: Path, monkeypatch
) -> None:
    """``advisor predict`` on the rows of a tuned run on a table: unlabeled (columns moved,
    a gap, an unseen city, other columns) and labeled (scored, one example of a class)."""
    from advisor.datasets import load_dataset

    rng = np.random.default_rng(1)
    cities = ["Paris", "Lyon", "Nice"] * 6
    kind = {"Paris": "north", "Lyon": "centre", "Nice": "south"}
    train = pd.DataFrame({"noise": rng.normal(size=18), "city": cities})
    train["region"] = train["city"].map(kind)
    train.to_csv(tmp_path / "train.csv", index=False)
    monkeypatch.setattr("advisor.kb.store.SHIPPED", tiny_kb)
    runner = CliRunner()
    result = runner.invoke(
        cli,
        ["run", str(tmp_path / "train.csv"), "--label", "region", "--family", "scratch",
         "--trials", "2"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    run_id = result.stdout.split("Run ")[1].split(":")[0]
    assert f"advisor predict {run_id} NEW_DATA" in result.stdout  # the next step, named
    new = pd.DataFrame(
        {"city": ["Nice", "Paris", "Rome", "Lyon"], "id": [7, 8, 9, 10], "noise": [0.1, None, 0, 2]}
    )
    new.to_csv(tmp_path / "new.csv", index=False)
    result = runner.invoke(cli, ["predict", run_id, str(tmp_path / "new.csv")])
    assert result.exit_code == 0, result.output
    answer = pd.read_csv(io.StringIO(result.stdout), dtype=str)
    assert answer["row"].tolist() == ["1", "2", "3", "4"]
    assert answer["prediction"][[0, 1, 3]].tolist() == ["south", "north", "centre"]
    assert "'Rome'" in result.stderr and "['id'] are not the model's inputs" in result.stderr
    assert "1 missing feature values filled" in result.stderr

    labeled = new.assign(region=["south", "north", "north", "centre"])  # one 'centre', 'south'
    labeled.to_csv(tmp_path / "labeled.csv", index=False)
    out = tmp_path / "answers" / "labeled.csv"
    result = runner.invoke(
        cli,
        ["predict", run_id, str(tmp_path / "labeled.csv"), "--label", "region", "-o", str(out),
         "--proba"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out)
    assert list(written.columns) == ["row", "prediction", "label", "p_centre", "p_north", "p_south"]
    assert np.allclose(written[["p_centre", "p_north", "p_south"]].sum(axis=1), 1, atol=1e-5)
    model = load_run(run_id).model
    X = load_dataset(tmp_path / "labeled.csv", label="region", encoder=load_run(run_id).encoder,
                     purpose="score").X  # fmt: skip
    assert written["prediction"].tolist() == [str(c) for c in model.predict(X)]
    hits = (written["prediction"] == written["label"]).mean()
    assert f"to {out}; accuracy {100 * hits:.1f} %" in result.stdout

    result = runner.invoke(cli, ["predict", run_id, str(tmp_path / "new.csv"), "-o",
                                 str(tmp_path / "a.json")])  # fmt: skip
    document = json.loads((tmp_path / "a.json").read_text())
    assert document["classes"] == ["centre", "north", "south"] and document["rows"] == 4
    assert [p["prediction"] for p in document["predictions"]] == answer["prediction"].tolist()
    assert "label" not in document["predictions"][0]  # unlabeled rows

    new.drop(columns="city").to_csv(tmp_path / "lacking.csv", index=False)
    for args, code in (
        ([run_id, str(tmp_path / "lacking.csv")], "predict.bad_instances"),
        ([run_id, str(tmp_path / "absent.csv")], "dataset.not_found"),
        (["0000", str(tmp_path / "new.csv")], "run.not_found"),
        ([run_id, str(tmp_path / "new.csv"), "--label", "region"], "dataset.no_label_column"),
    ):
        result = runner.invoke(cli, ["predict", *args])
        assert result.exit_code == 1 and f"error [{code}]" in result.stderr, result.output
    assert [p.name for p in out.parent.iterdir()] == ["labeled.csv"]  # no partial file left


def test_a_family_that_cannot_start_from_the_source_is_refused_before_tuning() -> None:
    """A table with an image source: meta would fail every trial; it is refused at once."""
    X = np.random.default_rng(0).normal(size=(12, 4))
    y = np.array(["a", "b"] * 6)
    with pytest.raises(AdvisorError) as caught:
        Advisor("glyphs").run(X, y, family="meta", n_trials=2)
    assert caught.value.code == "run.source_mismatch"
    assert "takes image inputs (28x28) but this dataset is vector data" in caught.value.message
    assert Advisor("glyphs").plan_run(X, y, family="scratch").family == "scratch"


def test_a_run_measures_a_table_as_recommend_does(tiny_kb: Path, monkeypatch) -> None:
    """`Advisor.run` recommends from the table's categorical columns, taken from its encoder,
    as `recommend(..., categorical=)` does (it measured them as numbers: nr_cat 0)."""
    from advisor.datasets import load_dataset

    frame = pd.DataFrame({"x": np.arange(12.0), "city": ["Paris", "Lyon", "Nice"] * 4})
    frame["label"] = ["a", "b"] * 6
    table = load_dataset(frame.to_csv(index=False).encode(), name="cities.csv")
    adv = Advisor("glyphs", kb=tiny_kb)
    expected = adv.recommend(table.X, table.y, categorical=table.categorical_mask)
    plan = adv.plan_run(table.X, table.y, categorical=table.categorical_mask)
    assert plan.recommendation is not None and expected.meta_features["nr_cat"] == 3
    assert pd.Series(plan.recommendation.meta_features).equals(pd.Series(expected.meta_features))
    seen: list[np.ndarray] = []

    class PlannedError(Exception):
        pass

    def plan_run(self, X, y, family=None, *, categorical=None):
        seen.append(categorical)
        raise PlannedError

    monkeypatch.setattr(Advisor, "plan_run", plan_run)
    with pytest.raises(PlannedError):
        adv.run(table.X, table.y, n_trials=1, encoder=table.encoder)
    assert np.array_equal(seen[0], table.categorical_mask)


def test_recommend_names_its_slow_steps_as_it_goes(tiny_kb: Path, capsys) -> None:
    import io

    from advisor.cli.advise import recommend_in_steps

    task = sample_task(load_domain("glyphs:numerals"), ways=2, shots=3, queries=4, seed=6)
    stream = io.StringIO()
    adv = Advisor("glyphs", kb=tiny_kb)
    rec = recommend_in_steps(adv, task.X_support, task.y_support, stream=stream)
    shown = stream.getvalue()
    loading = shown.index("Loading the knowledge base's models [0/2")
    assert shown.index("Measuring your data against the source [1/2", loading) > loading
    assert rec == adv.recommend(task.X_support, task.y_support).model_copy(
        update={"seconds": rec.seconds}
    )
    capsys.readouterr()
    recommend_in_steps(adv, task.X_support, task.y_support, stream=None)  # no terminal
    assert capsys.readouterr() == ("", "")


@pytest.mark.slow  # tunes two families and refits the recommender with the local outcomes
def test_the_regret_check_measures_the_runner_up_and_remembers_both(
    tiny_kb: Path, own_home: Path
) -> None:
    task = sample_task(load_domain("glyphs:numerals"), ways=2, shots=3, queries=4, seed=11)
    adv = Advisor("glyphs", kb=tiny_kb)
    result = adv.run(task.X_support, task.y_support, n_trials=2, check_runner_up=True)
    check, rec = result.runner_up, result.recommendation
    assert check is not None and rec is not None
    assert check["family"] == rec.explanation.runner_up != result.family
    assert 0.0 <= check["cv_score"] <= 1.0
    assert check["difference"] == pytest.approx(result.cv_score - check["cv_score"])
    local = pd.read_parquet(adv.local_kb_path())
    assert set(local["family"]) == {result.family, check["family"]}
    assert (local["kind"] == "local").all()
    # Vectors against the image source: only scratch can run, so there is no runner-up; the
    # check says so instead of failing the run after its model was fitted.
    X = np.random.default_rng(0).normal(size=(12, 4))
    y = np.repeat([0, 1, 2], 4)
    alone = adv.run(X, y, n_trials=1, check_runner_up=True)
    assert alone.family == "scratch" and alone.recommendation is not None
    assert alone.recommendation.explanation.runner_up is None
    assert alone.runner_up is not None and "only scratch can run" in alone.runner_up["skipped"]
    assert len(pd.read_parquet(adv.local_kb_path())) == len(local)  # nothing new remembered


def test_a_runner_up_that_cannot_be_tuned_leaves_the_run_whole(
    tiny_kb: Path, own_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import advisor.core

    real_tune = advisor.core.tune

    def tune(family: str, *args: object, **kwargs: object) -> object:
        if kwargs.get("n_trials") == 5:  # the regret check's budget
            raise AdvisorError("No trial of the study completed.", code="learners.bad_parameter")
        return real_tune(family, *args, **kwargs)

    monkeypatch.setattr(advisor.core, "tune", tune)
    task = sample_task(load_domain("glyphs:numerals"), ways=2, shots=3, queries=4, seed=12)
    adv = Advisor("glyphs", kb=tiny_kb)
    result = adv.run(task.X_support, task.y_support, n_trials=1, check_runner_up=True)
    assert result.runner_up is not None and result.runner_up["cv_score"] is None
    assert result.runner_up["skipped"] == (
        f"The runner-up {result.runner_up['family']} could not be tuned: "
        "No trial of the study completed."
    )
    assert load_run(result.run_id).cv_score == result.cv_score  # the run was saved whole
    assert not adv.local_kb_path().exists()  # no half outcome remembered


def _kb_copy(tiny_kb: Path, path: Path, table: pd.DataFrame) -> Path:
    """``table`` written as a knowledge base at ``path``, with ``tiny_kb``'s provenance."""
    record = json.loads(tiny_kb.with_suffix(".json").read_text())
    keep = {k: v for k, v in record.items() if k not in ("sha256", "tasks", "rows", "tuned_tasks")}
    store.write_part(path, table, 0)
    store.finish(path, keep)
    return path


def test_remeasuring_keeps_every_outcome_and_measures_the_tasks_again(
    tiny_kb: Path, tmp_path: Path
) -> None:
    from advisor.kb.remeasure import remeasure

    table = read_kb(tiny_kb)
    features = [c for c in table.columns if c.startswith("mf.")]
    stale = table.copy()
    measured = ~stale["tuned"]  # a study's rows carry no meta-features
    stale.loc[measured, "mf.one_nn.mean"] = -1.0  # as an older extractor might have left them
    stale["mf.retired_feature"] = np.where(measured, 0.5, np.nan)
    old = _kb_copy(tiny_kb, tmp_path / "old.parquet", stale)

    untouched = remeasure(
        old, tmp_path / "images-kept.parquet", modalities=["vector"], progress=False
    )
    assert (untouched.loc[measured, "mf.one_nn.mean"] == -1.0).all()  # no tables in the KB

    again = remeasure(old, tmp_path / "again.parquet", progress=False)
    assert set(again["task_id"]) == set(table["task_id"]) and len(again) == len(table)
    pd.testing.assert_frame_equal(again[features], table[features])  # measured again, exactly
    assert again["mf.retired_feature"].isna().all()
    outcomes = ["task_id", "family", "variant", "tuned", "accuracy", "fit_seconds", "params"]
    pd.testing.assert_frame_equal(again[outcomes], table[outcomes])
    record = json.loads((tmp_path / "again.json").read_text())
    assert record["meta_features"]["config"]["rescale"] == "standard"
    assert record["meta_features"]["remeasured"] == "all"
    assert record["sources"] == json.loads(tiny_kb.with_suffix(".json").read_text())["sources"]
    assert read_kb(tmp_path / "again.parquet")["task_id"].nunique() == len(SPECS)  # checksum

    store.write_part(tmp_path / "busy.parquet", table.head(1), 0)  # a build under way
    with pytest.raises(AdvisorError) as caught:
        remeasure(old, tmp_path / "busy.parquet", progress=False)
    assert caught.value.code == "kb.busy"


def test_cli_remeasure_replaces_a_kb_in_place(tiny_kb: Path, tmp_path: Path) -> None:
    path = _kb_copy(tiny_kb, tmp_path / "kb.parquet", read_kb(tiny_kb))
    result = CliRunner().invoke(cli, ["kb", "remeasure", str(path), "--out", str(path)])
    assert result.exit_code == 0, result.output
    assert "4 tasks, 4 to measure again" in result.output
    assert f"Wrote {path}: 4 tasks" in result.output
    assert "meta_features" in json.loads(path.with_suffix(".json").read_text())
    missing = CliRunner().invoke(
        cli, ["kb", "remeasure", str(tmp_path / "no.parquet"), "--out", str(path)]
    )
    assert missing.exit_code == 1 and "kb.not_found" in missing.output


def test_a_regret_check_whose_outcome_cannot_be_kept_leaves_the_run_whole(
    tiny_kb: Path, own_home: Path
) -> None:
    """The local knowledge base cannot be written (a file stands where its folder goes): the
    run and its measured check stand, and the check says its outcome was not kept."""
    (own_home / "kb").parent.mkdir(parents=True, exist_ok=True)
    (own_home / "kb").write_text("not a folder")
    task = sample_task(load_domain("glyphs:numerals"), ways=2, shots=3, queries=4, seed=13)
    adv = Advisor("glyphs", kb=tiny_kb)
    result = adv.run(task.X_support, task.y_support, n_trials=1, check_runner_up=True)
    check = result.runner_up
    assert check is not None and check["cv_score"] is not None  # measured
    assert "io.unwritable" not in check["not_kept"] and "Cannot write" in check["not_kept"]
    assert load_run(result.run_id).runner_up == check  # saved whole, the note with it
    line = regret_check_line(check)
    assert "Its outcome was not added to the local knowledge base: Cannot write" in line
