"""``advisor recommend``, ``advisor run``, ``advisor report``: the product's main commands."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, cast

import click

from advisor import errors
from advisor.cli.interrupt import StopOnInterrupt, continue_study
from advisor.cli.output import print_json, reports_errors, table, trial_count
from advisor.cli.reading import loader_keywords, reading_options
from advisor.datasets import Dataset, load_dataset
from advisor.errors import DatasetError
from advisor.schemas import Recommendation

if TYPE_CHECKING:
    from collections.abc import Sequence

    from advisor.core import Advisor, RunResult
    from advisor.schemas import ColumnImportance
    from learners.tuning import Metric

CV_RECALL_CLASSES = 6
"""``advisor run`` prints each class's cross-validated recall up to this many classes (the
report lists them all)."""
METRICS = ("accuracy", "balanced_accuracy")
"""``learners.tuning.METRICS``, named here so that ``advisor --help`` need not import torch."""

_SOURCE = click.option(
    "--source",
    default="glyphs",
    show_default=True,
    help="Source name (see `advisor sources list`) or folder.",
)


def _load(path: Path, reading: dict[str, Any], *, test_of: Dataset | None = None) -> Dataset:
    """DATA read with the command's reading options, or the test file of ``test_of``.

    A test file is read with the same options and with the training table's encoder, and its
    labels only score: one class, or one example of a class, will do. It must be the training
    data's kind (images or a table: ``dataset.encoding_mismatch``) and, for vectors, as wide
    (``dataset.shape_mismatch``), refused here, before any tuning.
    """
    if test_of is None:
        return load_dataset(path, **reading)
    test = load_dataset(path, encoder=test_of.encoder, **reading | {"purpose": "score"})
    if test.modality != test_of.modality:  # a table's encoder refuses images; this, the rest
        raise DatasetError(
            f"The training data was {_kind_of(test_of)}, but this file holds {_kind_of(test)}.",
            code=errors.ENCODING_MISMATCH,
        )
    if test.modality == "vector" and test.X.shape[1] != test_of.X.shape[1]:
        raise DatasetError(
            f"The training data has {test_of.X.shape[1]} feature columns, but this file "
            f"has {test.X.shape[1]}.",
            code=errors.SHAPE_MISMATCH,
        )
    return test


def _kind_of(dataset: Dataset) -> str:
    """``images``, ``a table`` or ``vectors`` (an array file's), as errors name the data."""
    if dataset.modality == "image":
        return "images"
    return "a table" if dataset.encoder is not None else "vectors"


def loading_notes(dataset: Dataset) -> str:
    """What reading the data noticed (columns left out, gaps filled…), a line each."""
    return "".join(f"Data         {warning}\n" for warning in dataset.info.warnings)


def score_lines(
    metric: str,
    cv_score: float,
    test_score: float | None,
    interval: tuple[float, float] | None = None,
) -> str:
    """A run's cross-validated and test scores, a line each; a metric not accuracy is named."""
    head = "CV accuracy " if metric == "accuracy" else "CV balanced "
    lines = [f"{head} {100 * cv_score:.1f} %"]
    if metric != "accuracy":
        lines[0] += f"  ({metric.replace('_', ' ')}: the mean of the classes' recalls)"
    if test_score is not None:
        lines.append(f"Test         {100 * test_score:.1f} %{interval_text(interval)}")
    return "\n".join(lines)


def interval_text(interval: tuple[float, float] | None) -> str:
    """`` (95 % interval 86.7–93.9 %)``, or nothing without an interval."""
    from advisor.scores import interval_phrase  # noqa: PLC0415 - numpy, for runs only

    return "" if interval is None else f" ({interval_phrase(interval)})"


def describe_run(result: RunResult) -> str:
    """What a run measured, a line each (``advisor run``'s end, ``advisor runs show``)."""
    from advisor.learning_curve import more_data_phrase  # noqa: PLC0415 - imports torch
    from advisor.recalibration import recalibration_phrase  # noqa: PLC0415
    from advisor.reports.run_sections import regret_check_line  # noqa: PLC0415 - matplotlib

    lines = [score_lines(result.metric, result.cv_score, result.test_score, result.test_interval)]
    if 0 < len(result.cv_recalls) <= CV_RECALL_CLASSES:
        recalls = ", ".join(f"{c.label} {100 * c.recall:.0f} %" for c in result.cv_recalls)
        lines.append(f"CV recall    {recalls}")
    if result.calibration is not None:
        lines.append(
            f"Calibration  expected calibration error {100 * result.calibration.ece:.1f} points "
            "(its probabilities against how often it is right, on the test set)"
        )
    if any(item.drop > 0 for item in result.importance):
        lines.append(f"Relies on    {relied_on(result.importance)}")
    if result.learning_curve is not None:
        lines.append(f"More data    {more_data_phrase(result.learning_curve)}")
    if result.recalibration is not None:
        lines.append(f"Recalibrated {recalibration_phrase(result.recalibration)}")
    if result.model.class_prior == "equal":
        lines.append(
            "Priors       equal: the model's probabilities are re-weighted to equal classes"
        )
    lines += [f"Warning      {warning}" for warning in result.warnings]
    if result.runner_up:
        lines.append(f"Runner-up    {regret_check_line(result.runner_up)}")
    lines.append(f"Model        {result.model_path}")
    lines.append(f"Predict      advisor predict {result.run_id} NEW_DATA  (a table or images)")
    return "\n".join(lines)


def relied_on(importance: Sequence[ColumnImportance], most: int = 3) -> str:
    """The columns whose shuffling costs the most, with the points lost."""
    top = [item for item in importance if item.drop > 0][:most]
    named = ", ".join(f"{item.column} ({100 * item.drop:.1f} points)" for item in top)
    return f"{named} lost when shuffled on the test set"


def describe_recommendation(rec: Recommendation) -> str:
    """The recommendation as text for a terminal."""
    lines = [
        f"Recommended  {rec.family} ({rec.variant})",
        f"Why          {rec.explanation.summary}",
        "",
    ]
    rows = [
        (
            f,
            p.variant,
            f"{100 * p.accuracy:.1f} %",
            f"{100 * p.low:.1f}–{100 * p.high:.1f} %",
            f"{100 * rec.p_best.get(f, 0):.0f} %" if rec.can_run(f) else "cannot run",
        )
        for f, p in sorted(
            rec.predicted.items(),
            key=lambda kv: (not rec.can_run(kv[0]), kv[0] != rec.family, -kv[1].accuracy),
        )
    ]
    lines.append(table(("family", "variant", "predicted", "80 % interval", "P(best)"), rows))
    if any(not rec.can_run(f) for f in rec.predicted):
        lines.append(
            "Note         Rows marked 'cannot run' need a source that takes this data; their "
            "predictions are for reference only."
        )
    if rec.explanation.drivers:
        lines += [
            "",
            "Drivers      "
            + "; ".join(
                f"{d.name} = {d.value if d.value is None else round(d.value, 3)} "
                f"(typical {d.typical if d.typical is None else round(d.typical, 3)}, "
                f"{d.effect:+.1f} points)"
                for d in rec.explanation.drivers
            ),
        ]
    if (record := rec.explanation.track_record) is not None:
        sentence = record.sentence()
        lines += ["", "Record       " + sentence[0].upper() + sentence[1:]]
    lines += [f"Risk         {risk}" for risk in rec.explanation.risks]
    lines.append(f"({rec.seconds:.2f} s; source {rec.source})")
    return "\n".join(lines)


def recommend_in_steps(
    adv: Advisor, X: Any, y: Any, *, categorical: Any = None, stream: TextIO | None = None
) -> Recommendation:
    """:meth:`Advisor.recommend`, its two slow steps shown on ``stream`` (none if ``None``).

    The first recommendation of a process loads (or, on a new knowledge base, fits) the
    recommender's models, seconds on 2 cores; every recommendation measures the data's
    meta-features against the source. A bar names the step under way and is cleared after.
    """
    from tqdm import tqdm  # noqa: PLC0415 - keep `advisor --help` fast

    steps = ("Loading the knowledge base's models", "Measuring your data against the source")
    with tqdm(
        total=len(steps),
        file=stream,
        disable=stream is None,
        leave=False,
        bar_format="{desc} [{n_fmt}/{total_fmt}, {elapsed}]",
    ) as bar:
        bar.set_description_str(steps[0])
        adv.recommender  # noqa: B018 - fitted once per process, cached
        bar.update()
        bar.set_description_str(steps[1])
        rec = adv.recommend(X, y, categorical=categorical)
        bar.update()
    return rec


def progress_stream(enabled: bool = True) -> TextIO | None:
    """Standard error where a person watches it (a terminal), else ``None``."""
    return sys.stderr if enabled and sys.stderr.isatty() else None


REPORT_FORMATS = {".html": "html", ".htm": "html", "": "html", ".md": "md", ".json": "json"}
"""A report's format by its file's suffix; a name without a suffix gets HTML."""


def report_format(path: Path) -> str:
    """A report's format from its file's suffix (:data:`REPORT_FORMATS`).

    Raises:
        ConfigurationError: ``report.bad_format`` for another suffix (``r.txt``, ``r.pdf``),
            before any work: it was written as HTML until 2026-11-29.
    """
    fmt = REPORT_FORMATS.get(path.suffix.lower())
    if fmt is None:
        from advisor.reports.render import BAD_FORMAT  # noqa: PLC0415 - matplotlib

        raise errors.ConfigurationError(
            f"Cannot tell how to write a report to {str(path)!r}: name it .html, .md or .json "
            "(a name without a suffix gets HTML).",
            code=BAD_FORMAT,
            path=str(path),
        )
    return fmt


_REPORT = click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write a report to this file: .html, .md or .json, by its suffix (none: html; "
    "another suffix is refused before any work).",
)


@click.command()
@click.argument("data", type=click.Path(exists=False, path_type=Path))
@_SOURCE
@reading_options
@_REPORT
@click.option("--json", "as_json", is_flag=True, help="Print the recommendation as JSON.")
@reports_errors
def recommend(
    *, data: Path, source: str, report_path: Path | None, as_json: bool, **reading: Any
) -> None:
    """Recommend transfer, meta, hybrid or scratch learning for the labeled data in DATA.

    DATA is read as `advisor datasets inspect` reads it, with the same options.
    """
    from advisor.core import Advisor  # noqa: PLC0415 - keep `advisor --help` fast

    if report_path is not None:
        report_format(report_path)  # an unknown suffix is refused before any work
    dataset = _load(data, loader_keywords(reading))
    adv = Advisor(source)
    rec = recommend_in_steps(
        adv,
        dataset.X,
        dataset.y,
        categorical=dataset.categorical_mask,
        stream=progress_stream(not as_json),
    )
    if as_json:
        print_json(rec.model_dump(mode="json"))
    else:
        click.echo(loading_notes(dataset) + describe_recommendation(rec))
    if report_path is not None:  # after the answer: a report that cannot be written loses nothing
        adv.report(
            rec,
            report_path,
            format=report_format(report_path),
            X=dataset.X,
            y=dataset.y,
            data_info=dataset.info,
        )
        if not as_json:
            click.echo(f"Report       {report_path}")


@click.command()
@click.argument("data", type=click.Path(exists=False, path_type=Path))
@_SOURCE
@reading_options
@click.option(
    "--family",
    type=click.Choice(["transfer", "meta", "hybrid", "scratch"]),
    help="Run this family instead of the recommended one.",
)
@click.option(
    "--trials",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="Optuna trial budget (at least 1).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    help="Time budget in seconds (above 0).",
)
@click.option(
    "--metric",
    type=click.Choice(METRICS),
    help="What tuning maximises and the scores measure [default: accuracy]. balanced_accuracy "
    "(the mean of the classes' recalls) suits imbalanced classes, where accuracy rewards "
    "predicting the larger ones. A study continued with --study keeps its metric.",
)
@click.option(
    "--test",
    "test_path",
    type=click.Path(exists=False, path_type=Path),
    help="A test file (same format and label, read with the same options) to score the final "
    "model on.",
)
@click.option(
    "--check-runner-up",
    is_flag=True,
    help="Also tune the runner-up family briefly and report the difference.",
)
@click.option(
    "--learning-curve",
    is_flag=True,
    help="Also measure the chosen configuration on a quarter, half and three quarters of the "
    "data, and say what twice the examples per class would add (about four trials' worth of "
    "fits more, after the study: not within --timeout).",
)
@click.option(
    "--recalibrate",
    is_flag=True,
    help="Temperature-scale the model's probabilities by a T fitted on the chosen "
    "configuration's cross-validated predictions (one trial's worth of fits more; the answers "
    "do not change).",
)
@click.option(
    "--study",
    help="The Optuna study's name. A run cut short (closed terminal, kill, crash) left its "
    "trials under the name it printed: give it to continue them (they count toward --trials).",
)
@_REPORT
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON.")
@reports_errors
def run(
    *,
    data: Path,
    source: str,
    family: str | None,
    trials: int,
    timeout: float | None,
    metric: str | None,
    test_path: Path | None,
    check_runner_up: bool,
    learning_curve: bool,
    recalibrate: bool,
    study: str | None,
    report_path: Path | None,
    as_json: bool,
    **reading: Any,
) -> None:
    """Tune and fit the recommended (or given) family on DATA; save the model and the run.

    DATA is read as `advisor datasets inspect` reads it, with the same options.
    """
    import optuna  # noqa: PLC0415 (imported by the commands that run studies only)

    from advisor.core import Advisor  # noqa: PLC0415

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # the progress bar says enough
    if report_path is not None:
        report_format(report_path)  # an unknown suffix is refused before the study
    keywords = loader_keywords(reading)
    dataset = _load(data, keywords)
    # a test table is encoded the training table's way (its columns, fills and categories)
    test = _load(test_path, keywords, test_of=dataset) if test_path is not None else None
    adv = Advisor(source)
    from learners.tuning import fresh_study_name  # noqa: PLC0415 - imports torch

    name = study or fresh_study_name("run")
    to_run, done, recorded = continue_study(name, trials) if study else (trials, 0, None)
    cut_off = left = 0
    if recorded is not None:  # a study in the storage: count its trials as the run will
        done, cut_off = finished_and_cut_off(name)
        to_run = left = max(0, trials - done)
    metric = metric or recorded or "accuracy"  # a continued study keeps its own
    if not as_json and recorded is None:  # scripts get JSON alone (and name their study)
        click.echo(
            f"Study        {name} (if the run is cut off, --study {name} continues it)", err=True
        )
    started = time.perf_counter()
    categorical = dataset.encoder.categorical_mask_ if dataset.encoder is not None else None
    plan = adv.plan_run(dataset.X, dataset.y, family, categorical=categorical)
    if recorded is not None:  # refused (learners.study_mismatch) before it is announced
        check_continued(name, plan.family, dataset.X, dataset.y, cast("Metric", metric))
        if not as_json:
            click.echo(f"Study        {name}: {continued_phrase(done, left, cut_off)}", err=True)
    with StopOnInterrupt() as stop:  # Ctrl-C: finish with the trials so far
        tuned = adv.tune_run(
            plan,
            dataset.X,
            dataset.y,
            n_trials=to_run,
            study_name=name,
            timeout=timeout,
            progress=progress_stream(not as_json) is not None,  # a bar where one watches
            callbacks=[stop],
            metric=cast("Metric", metric),
        )
    try:  # the study is over: Ctrl-C now aborts, and the study keeps the trials
        result = adv.finish_run(
            plan,
            tuned,
            dataset.X,
            dataset.y,
            X_test=None if test is None else test.X,
            y_test=None if test is None else test.y,
            check_runner_up=check_runner_up,
            seconds_so_far=time.perf_counter() - started,
            encoder=dataset.encoder,
            data_info=dataset.info,
            learning_curve=learning_curve,
            recalibrate=recalibrate,
        )
    except KeyboardInterrupt:
        click.echo(
            f"\nInterrupted after the study, before the run was saved. Its trials are kept: "
            f"the same command with --study {name} finishes it (the trials done count toward "
            "--trials).",
            err=True,
        )
        raise SystemExit(130) from None
    if as_json:
        print_json(result.summary() | {"interrupted": stop.requested})
    else:
        click.echo(loading_notes(dataset), nl=False)
        if result.recommendation is not None:
            click.echo(describe_recommendation(result.recommendation) + "\n")
        stopped = f" (stopped by Ctrl-C; the budget was {trials})" if stop.requested else ""
        killed = (
            f" ({cut_off} of them cut off when a run was killed: failed, not counted toward "
            f"--trials {trials})"
            if cut_off
            else ""
        )
        click.echo(
            f"Run {result.run_id}: {result.family} ({result.variant}), "
            f"{trial_count(result.trials)} in {result.seconds:.0f} s{killed}{stopped}"
        )
        click.echo(describe_run(result))
    if report_path is not None:  # the run is saved and printed: its report cannot lose it
        write_run_report(adv, result, report_path)
        if not as_json:
            click.echo(f"Report       {report_path}")


def finished_and_cut_off(name: str) -> tuple[int, int]:
    """The stored study ``name``'s finished trials that count toward ``--trials``; those cut off.

    A run counts its finished trials (``advisor.core.FINISHED``: complete, pruned, failed),
    as Optuna's ``n_trials`` does. A trial cut off by a killed run — left running, then
    marked failed by :func:`~advisor.cli.interrupt.continue_study` — is failed too, but with
    no ``fail_reason`` (a configuration that raised records its reason): it spent no whole
    trial's budget, so it does not count toward ``--trials``, and the run's total names it
    apart. The first count is ``done``; the run's total is both.
    """
    import optuna  # noqa: PLC0415 - only the commands that tune import it

    from advisor.core import FINISHED  # noqa: PLC0415
    from learners.tuning import default_storage_url  # noqa: PLC0415

    study = optuna.load_study(study_name=name, storage=default_storage_url())
    finished = study.get_trials(deepcopy=False, states=FINISHED)
    cut_off = sum(
        t.state == optuna.trial.TrialState.FAIL and "fail_reason" not in t.user_attrs
        for t in finished
    )
    return len(finished) - cut_off, cut_off


def continued_phrase(done: int, to_run: int, cut_off: int) -> str:
    """``continued, 7 trials done, 1 to go`` and the trials cut off by a killed run."""
    phrase = f"continued, {done} trials done, {to_run} to go"
    if cut_off:
        phrase += (
            f" ({cut_off} more cut off when a run was killed: failed, not counted toward --trials)"
        )
    return phrase


def check_continued(name: str, family: str, X: Any, y: Any, metric: Metric) -> None:
    """Refuse a stored study that was tuning another family, other data or another metric.

    What the study would refuse once tuning starts (``learners.tuning.tune``), checked before
    ``advisor run`` says it continues it.

    Raises:
        ConfigurationError: ``learners.study_mismatch``.
    """
    import numpy as np  # noqa: PLC0415
    import optuna  # noqa: PLC0415

    from learners.families.base import label_codes  # noqa: PLC0415
    from learners.tuning import claim_study, data_fingerprint, default_storage_url  # noqa: PLC0415

    inputs = np.asarray(X)
    codes = label_codes(inputs, y, "Tuning")[1]
    study = optuna.load_study(study_name=name, storage=default_storage_url())
    claim_study(study, family, data_fingerprint(inputs, codes), metric)  # tune claims it the same


def write_run_report(adv: Advisor, result: RunResult, path: Path) -> None:
    """Write a saved run's report to ``path``; if it cannot be, say how to write it later.

    Raises:
        AdvisorError: what writing the report raised (``io.unwritable``…), after a line on
            standard error saying that the run is saved and ``advisor report`` writes it.
    """
    try:
        adv.report(result, path, format=report_format(path))
    except errors.AdvisorError:
        click.echo(
            f"Run {result.run_id} is saved; its report was not written: "
            f"`advisor report {result.run_id} -o FILE` writes it.",
            err=True,
        )
        raise


@click.command()
@click.argument("run_id")
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["html", "md", "json"]),
    help="Default: from the file's suffix (.html, .md, .json; none: html); another suffix is "
    "refused unless --format is given.",
)
@reports_errors
def report(*, run_id: str, out: Path, fmt: str | None) -> None:
    """Write the report of a saved run (its id, or its folder) to OUT."""
    from advisor.core import Advisor, load_run  # noqa: PLC0415

    chosen = fmt or report_format(out)  # an unknown suffix is refused before any work
    result = load_run(run_id)
    source = result.recommendation.source if result.recommendation else "glyphs"
    Advisor(source).report(result, out, format=chosen)
    click.echo(f"Wrote {out}")
