"""Classify rows with a fitted learner: each row's label, its class probabilities, a score.

The one place where rows meet a saved model — ``advisor predict`` and the service's predict
route both end here — so that both refuse the same inputs the same way
(``predict.bad_instances``): missing or infinite values, and rows whose shape the model does
not take.

It also holds the one rule by which a model's answers are matched to the labels it is scored
against — ``advisor run``'s test score, confusion matrix and column importances,
``advisor predict``'s accuracy and balanced accuracy, ``advisor compare``, the service's
routes and the warning that names labels the model was not trained on (:func:`label_key`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from advisor import errors
from advisor.datasets.encoder import TabularEncoder
from advisor.datasets.rows import Rows, load_rows
from advisor.datasets.sources import DataSource
from advisor.datasets.tabular import quoted
from advisor.errors import AdvisorError, InvalidInputError
from advisor.wire import Predictions
from learners import Learner
from learners.families.base import check_inputs
from learners.tensors import InputSpec
from learners.tuning import Metric, fold_score


@dataclass(frozen=True)
class Classified:
    """Rows to classify and the model's answers; scored when the rows carry labels."""

    rows: Rows
    predictions: Predictions

    @property
    def accuracy(self) -> float | None:
        """The share of rows predicted right, or ``None`` for unlabeled rows."""
        return None if self.rows.y is None else accuracy(self.predictions, self.rows.y)

    @property
    def balanced_accuracy(self) -> float | None:
        """The mean of the classes' recalls, or ``None`` for unlabeled rows."""
        if self.rows.y is None:
            return None
        return accuracy(self.predictions, self.rows.y, metric="balanced_accuracy")

    def answer(self) -> Predictions:
        """The predictions with the rows' ids, the scores and the reading's warnings."""
        return self.predictions.model_copy(
            update={
                "ids": self.rows.ids,
                "accuracy": self.accuracy,
                "balanced_accuracy": self.balanced_accuracy,
                "warnings": self.rows.warnings,
            }
        )


def classify(
    model: Learner,
    source: DataSource,
    *,
    encoder: TabularEncoder | None = None,
    name: str | None = None,
    label: str | int | None = None,
) -> Classified:
    """Read the rows of ``source`` the training data's way and classify them with ``model``.

    ``encoder`` is the training table's (``None`` for images and arrays); images are read at
    the model's input size and colour (:func:`reading_options`); ``label`` names the rows'
    label column, if any, to score the predictions. See
    :func:`~advisor.datasets.rows.load_rows` for what is read and how.

    Raises:
        AdvisorError: the data layer's codes for a file it cannot read;
            ``predict.bad_instances`` for rows the model does not take.
    """
    try:
        rows = load_rows(source, name=name, label=label, encoder=encoder, **reading_options(model))
    except AdvisorError as error:  # a table that is not numbers: for images, not the kind
        spec = getattr(model, "spec_", None)
        if error.code != errors.BAD_INSTANCES or spec is None or spec.modality != "image":
            raise
        raise InvalidInputError(
            f"The rows do not fit the model's input: The model takes image inputs "
            f"({_shape(spec)}); got a table, not images (give a folder or zip of images, or an "
            "NPZ of image arrays).",
            code=errors.BAD_INSTANCES,
        ) from None
    predictions = predict_rows(model, rows.X)
    if rows.y is not None:  # a typo ("Setosa") or a class the training data lacked: say so
        notes = unknown_label_warnings(rows.y, model.classes_)
        rows = replace(rows, warnings=[*rows.warnings, *notes])
    return Classified(rows, predictions)


_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_WHOLE = re.compile(r"[+-]?[0-9]+")


def label_texts(labels: Any) -> list[str]:
    """Each label as text, the way a model's classes are written (``str``).

    A NumPy scalar is written as NumPy prints it (``np.float32(0.1)`` as ``0.1``); the
    values of a list are taken as they are, not coerced to one NumPy type (``[True, 2]``
    stays a boolean and a number).
    """
    values = labels if isinstance(labels, np.ndarray) else np.asarray(labels, dtype=object)
    return [str(value) for value in values.ravel()]


def label_key(text: str) -> str:
    """The key a label (as text, :func:`label_texts`) is matched by: equal keys, one label.

    The rule, the same wherever a model's answers meet given labels: **a number matches by
    its numeric value, anything else by its text.** A label written as a decimal number
    (``1``, ``1.0``, ``+1``, ``1e0``, as a number or as text) keys as that number's shortest
    form (``1``; ``0.5``), so the labels ``1``, ``1.0`` and ``"1"`` are one label — a table
    read with labels ``1.0, 2.0`` and another with ``1, 2`` agree. Every other label keys as
    its text, case and spaces included: booleans are not numbers (``True`` matches ``True``,
    never ``1``; ``False`` never ``0``), and ``"Setosa"`` does not match ``"setosa"``.
    """
    if _NUMBER.fullmatch(text) is None:
        return text
    try:
        if _WHOLE.fullmatch(text) is not None:
            return str(int(text))
        number = float(text)
        if not np.isfinite(number):  # past the range of floats: keep it as written
            return text
        return str(int(number)) if number.is_integer() else repr(number)
    except ValueError:  # an integer too long to convert (Python's digit limit)
        return text


def label_keys(labels: Any) -> np.ndarray:
    """Each label's key (:func:`label_key`), as an array of text."""
    keys: dict[str, str] = {}
    found = [keys.setdefault(text, label_key(text)) for text in label_texts(labels)]
    return np.asarray(found, dtype=str)


def judge(given: Any, predicted: Any) -> tuple[np.ndarray, np.ndarray]:
    """Which ``predicted`` labels are the ``given`` ones (:func:`label_key`), and the given keys.

    The keys are the classes that balanced accuracy averages the recalls of: a given label
    the model has no class for is a class of its own, never recalled.

    Raises:
        ValueError: when there is not one given label per prediction.
    """
    truth, answers = label_keys(given), label_keys(predicted)
    if truth.size != answers.size:
        raise ValueError(f"{truth.size} labels for {answers.size} predictions")
    return answers == truth, truth


def match_labels(given: Any, classes: Any) -> np.ndarray:
    """Each given label's index in ``classes`` (:func:`label_key`), or -1 for none.

    Were two classes one label by the rule (the texts ``"1"`` and ``"01"``), a label written
    like one of them is that one's, else the first's.
    """
    texts = label_texts(classes)
    exact = {text: i for i, text in enumerate(texts)}
    by_key: dict[str, int] = {}
    for i, text in enumerate(texts):
        by_key.setdefault(label_key(text), i)
    return np.asarray(
        [exact.get(text, by_key.get(label_key(text), -1)) for text in label_texts(given)],
        dtype=np.intp,
    )


def unknown_labels(y: Any, classes: Any) -> str | None:
    """The labels of ``y`` that match none of ``classes`` (:func:`label_key`), quoted; or None."""
    known = set(label_keys(classes).tolist())
    unknown = sorted({text for text in label_texts(y) if label_key(text) not in known})
    return quoted(unknown) if unknown else None


def unknown_label_warnings(y: Any, classes: Any, *, test: bool = False) -> list[str]:
    """The warning naming the labels of ``y`` that match none of ``classes``; else none.

    Such rows are scored like any other and count as wrong — in balanced accuracy each such
    label is a class of its own, never recalled — on every path (:func:`judge`). ``test``: the
    run's test set, whose confusion matrix (the model's classes only) leaves those rows out.
    """
    unknown = unknown_labels(y, classes)
    if unknown is None:
        return []
    where = "; they are left out of the confusion matrix" if test else ""
    note = (
        f"{'Test labels' if test else 'Labels'} the model was not trained on: {unknown} "
        "(their rows count as wrong — in balanced accuracy, a class of its own, never "
        f"recalled{where})."
    )
    texts = set(label_texts(classes))
    numbers = any(_NUMBER.fullmatch(text) for text in label_texts(y))
    if texts <= {"True", "False"} and numbers:
        note += (
            " The model's classes are True and False, which match only True and False, "
            "never the numbers 1 and 0."
        )
    return [note]


def reading_options(model: Learner) -> dict[str, Any]:
    """The load options that read images to ``model``'s input: its size and colour.

    Images to classify are resized to the size the model was trained at and converted to its
    colour mode, whatever the defaults (``image_size``, ``color`` of
    :class:`~advisor.datasets.LoadOptions`); vectors need none.
    """
    spec = model.spec_
    if spec.modality != "image":
        return {}
    return {
        "image_size": (int(spec.shape[0]), int(spec.shape[1])),
        "color": "rgb" if spec.channels == 3 else "grayscale",
    }


def as_rows(instances: Any) -> np.ndarray:
    """``instances`` (nested lists or an array) as a float64 array, or uint8 pixel levels.

    Images — ``(n, h, w)`` or ``(n, h, w, c)``, the shapes only an image model takes — made
    entirely of integers in 0–255 are pixel levels, as a uint8 array's ``tolist()`` writes
    them to JSON: they become uint8, read as 0–255 like any uint8 image. Anything else is
    float64: vectors, and images holding a number written with a fraction (JSON ``0.5``,
    ``1.0``) or outside 0–255, which must hold values in [0, 1]
    (:func:`learners.tensors.to_tensor`).

    Raises:
        InvalidInputError: ``predict.bad_instances`` for ragged rows or values that are not
            numbers.
    """
    try:
        array = np.asarray(instances)
    except (TypeError, ValueError):
        array = None  # ragged: the float64 conversion below says why
    if array is not None and _pixel_levels(array):
        return array.astype(np.uint8)
    try:
        if array is not None and array.dtype.kind in "biuf":
            return array.astype(np.float64)
        return np.asarray(instances, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise InvalidInputError(
            f"instances must be a rectangular array of numbers: {error}",
            code=errors.BAD_INSTANCES,
        ) from None


def _pixel_levels(array: np.ndarray) -> bool:
    """Whether ``array`` is images (3 or 4 dimensions) of integers, all in 0–255."""
    if array.ndim not in (3, 4) or array.dtype.kind not in "iu" or array.size == 0:
        return False
    return bool(array.min() >= 0 and array.max() <= np.iinfo(np.uint8).max)


def predict_rows(model: Learner, X: np.ndarray) -> Predictions:
    """The model's answer for each row of ``X`` (probabilities rounded to 6 decimals).

    Raises:
        InvalidInputError: ``predict.bad_instances`` when ``X`` holds missing or infinite
            values or does not fit the model's input (width, image size, kind of data).
    """
    spec = getattr(model, "spec_", None)
    finite = not np.issubdtype(X.dtype, np.number) or bool(np.isfinite(X).all())
    if spec is not None:  # the kind and width first, whatever the values
        _check_fit(X if finite else np.nan_to_num(X), spec)
    if not finite:
        raise InvalidInputError(
            "The rows hold missing or infinite values; send finite numbers.",
            code=errors.BAD_INSTANCES,
        )
    try:
        probabilities = np.asarray(model.predict_proba(X))
    except AdvisorError:
        raise
    except Exception as error:  # the learner's own complaint about the input, as ours
        raise InvalidInputError(
            f"The rows do not fit the model's input: {error}", code=errors.BAD_INSTANCES
        ) from None
    if probabilities.shape != (X.shape[0], len(model.classes_)):  # e.g. 3-D rows, vector model
        raise InvalidInputError(
            f"The rows (shape {list(X.shape)}) do not fit the model's input.",
            code=errors.BAD_INSTANCES,
        )
    classes = [str(c) for c in model.classes_]
    return Predictions(
        labels=[classes[i] for i in np.argmax(probabilities, axis=1)],
        probabilities=np.round(probabilities, 6).tolist(),
        classes=classes,
    )


def _check_fit(X: np.ndarray, spec: InputSpec) -> None:
    """The kind and width of the rows, as the learner checks them, said as ours."""
    try:
        check_inputs(X, spec)
    except AdvisorError as error:
        raise InvalidInputError(
            f"The rows do not fit the model's input: {error.message}", code=errors.BAD_INSTANCES
        ) from None


def _shape(spec: InputSpec) -> str:
    return "x".join(str(s) for s in spec.shape)


def accuracy(predictions: Predictions, y: Any, *, metric: Metric = "accuracy") -> float:
    """The share of rows whose predicted label is ``y``'s (matched by :func:`label_key`).

    With ``metric="balanced_accuracy"``, the mean of the classes' recalls (``fold_score``).

    Raises:
        ValueError: when there is not one label per prediction.
    """
    right, truth = judge(y, predictions.labels)
    return fold_score(right, truth, metric)
