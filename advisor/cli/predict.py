"""``advisor predict``: classify new rows or images with a saved run's model."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from advisor.cli.output import print_json, reports_errors
from advisor.errors import PREDICT_BAD_FORMAT, ConfigurationError

if TYPE_CHECKING:
    import pandas as pd

    from advisor.datasets.rows import Rows
    from advisor.wire import Predictions


@click.command()
@click.argument("run_id", metavar="RUN")
@click.argument("data", type=click.Path(exists=False, path_type=Path))
@click.option(
    "--label",
    help="The rows' label column (name or position) or NPZ array: score the predictions.",
)
@click.option(
    "-o",
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the predictions here, in the format its suffix names: .csv (also without a "
    "suffix), .tsv, .parquet, .json (the --json document) or .jsonl (a row per line); default: "
    "CSV on standard output.",
)
@click.option(
    "--proba",
    is_flag=True,
    help="Add each class's probability to the table (CSV, TSV, Parquet; JSON has them always).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the predictions as JSON.")
@reports_errors
def predict(
    *, run_id: str, data: Path, label: str | None, out: Path | None, proba: bool, as_json: bool
) -> None:
    """Classify the rows (or images) in DATA with the model of RUN (its id, or its folder).

    A table is read the training table's way: its columns by name, in any order (others
    ignored), gaps filled with the training statistics, unseen categories named in a
    warning. Images come as a folder or zip, each named by its path: loose images, or images
    in class sub-folders, labeled by them and then scored. With --label, the predictions are scored
    against that column.
    """
    from advisor.core import load_run  # noqa: PLC0415 - keep `advisor --help` fast

    fmt = None if out is None else output_format(out)  # before any work
    column = int(label) if label is not None and label.lstrip("-").isdigit() else label
    classified = load_run(run_id).classify(data, label=column)
    rows, predictions, score = classified.rows, classified.predictions, classified.accuracy
    document = _document(rows, predictions, score, classified.balanced_accuracy)
    if as_json and out is None:
        print_json(document)
        return
    if out is None:
        click.echo(_frame(rows, predictions, proba=proba).to_csv(index=False), nl=False)
    else:
        from advisor.writing import write_atomically  # noqa: PLC0415

        content = _encoded(fmt or "csv", document, _frame(rows, predictions, proba=proba))
        write_atomically(out, content, what="the predictions")
    if as_json:  # the predictions went to OUT: their summary
        print_json({k: v for k, v in document.items() if k != "predictions"} | {"out": str(out)})
    else:  # on standard error when the CSV takes standard output
        click.echo(_summary(rows, document, out), err=out is None)


def _document(
    rows: Rows, predictions: Predictions, score: float | None, balanced: float | None
) -> dict[str, Any]:
    """The JSON answer: per row its id, prediction, probabilities and (if known) label."""
    return {
        "classes": predictions.classes,
        "rows": len(rows.ids),
        "accuracy": score,
        "balanced_accuracy": balanced,
        "warnings": rows.warnings,
        "predictions": [
            {"id": row, "prediction": label, "probabilities": p}
            | ({} if rows.y is None else {"label": str(rows.y[i])})
            for i, (row, label, p) in enumerate(
                zip(rows.ids, predictions.labels, predictions.probabilities, strict=True)
            )
        ],
    }


def _frame(rows: Rows, predictions: Predictions, *, proba: bool) -> pd.DataFrame:
    """The CSV answer: row, prediction, the label if known, ``p_CLASS`` columns on request.

    The first column is the rows' identifier column, named as in the file, when they have one
    (a customer number: the predictions join back on it), else ``row``, their numbers.
    """
    import pandas as pd  # noqa: PLC0415

    first = rows.named_by if rows.named_by not in (None, "prediction", "label") else "row"
    frame = pd.DataFrame({first: rows.ids, "prediction": predictions.labels})
    if rows.y is not None:
        frame["label"] = [str(v) for v in rows.y]
    if proba:
        for j, name in enumerate(predictions.classes):
            frame[f"p_{name}"] = [p[j] for p in predictions.probabilities]
    return frame


def _summary(rows: Rows, document: dict[str, Any], out: Path | None) -> str:
    n = len(rows.ids)
    score, balanced = document["accuracy"], document["balanced_accuracy"]
    scored = (
        ""
        if score is None
        else f"; accuracy {100 * score:.1f} % (balanced accuracy {100 * balanced:.1f} %) "
        "against their labels"
    )
    where = "" if out is None else f" to {out}"
    lines = [f"Predicted {n} row{'s' if n != 1 else ''}{where}{scored}."]
    lines += [f"Warning    {w}" for w in rows.warnings]
    return "\n".join(lines)


OUTPUT_FORMATS = {
    "": "csv",
    ".csv": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".json": "json",
    ".jsonl": "jsonl",
}
"""``advisor predict -o``'s formats by the output file's suffix (none: CSV)."""


def output_format(path: Path) -> str:
    """The format ``path``'s suffix names (:data:`OUTPUT_FORMATS`).

    Raises:
        ConfigurationError: ``predict.bad_format`` for another suffix.
    """
    fmt = OUTPUT_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ConfigurationError(
            f"Cannot tell how to write predictions to {str(path)!r}: name it .csv, .tsv, "
            ".parquet, .json or .jsonl.",
            code=PREDICT_BAD_FORMAT,
            path=str(path),
        )
    return fmt


def _encoded(fmt: str, document: dict[str, Any], frame: pd.DataFrame) -> bytes | str:
    """The predictions in ``fmt``: the JSON document, its rows as JSON Lines, or the table."""
    if fmt == "json":
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if fmt == "jsonl":
        rows = document["predictions"]
        return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    if fmt == "parquet":
        buffer = io.BytesIO()
        try:
            frame.to_parquet(buffer, index=False)
        except (TypeError, ValueError):  # identifiers of mixed kinds (pyarrow's errors are both)
            buffer = io.BytesIO()
            frame.astype({frame.columns[0]: str}).to_parquet(buffer, index=False)
        return buffer.getvalue()
    return frame.to_csv(index=False, sep="\t" if fmt == "tsv" else ",")
