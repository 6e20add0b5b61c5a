"""The one interface of every learner: a scikit-learn estimator that saves without pickle.

Each learner is a :class:`Learner`: ``fit(X, y)`` on raw inputs (images or vectors) and any
labels, ``predict`` and ``predict_proba`` (columns in the order of ``classes_``),
``get_params`` / ``set_params`` from scikit-learn's :class:`~sklearn.base.BaseEstimator`, and
``save`` / ``load``: a folder with ``model.json`` (family, variant, hyper-parameters, classes,
input spec, the source's name), ``model.safetensors`` (tensors) and ``model.npz`` (arrays,
read back with ``allow_pickle=False``).

Subclasses implement ``_fit(X, codes, spec)``, ``_predict_proba(X)``, and the pair
``_state()`` / ``_restore(tensors, arrays)`` that :meth:`save` and :meth:`load` use.

**Class priors.** A learner fitted by a loss such as cross-entropy on imbalanced classes
estimates ``p(c | x)`` under the training classes' frequencies ``π_c``, and its most probable
class favours the larger classes. Setting ``class_prior = "equal"`` (after construction; it is
saved with the model) re-weights its probabilities to equal priors,
:func:`equal_prior_probabilities` — the Bayes decision for balanced accuracy when the
probabilities are calibrated. A learner whose scores hold no prior (``learns_priors`` false:
nearest prototypes) needs no correction, and the tuner does not default to it there.

**Calibration temperature.** ``calibration_temperature = T`` (set after fitting, saved with
the model; 1 leaves the probabilities as they are) tempers them — temperature scaling (Guo et
al., "On Calibration of Modern Neural Networks", ICML 2017), which changes how sure the
learner says it is, never which class it answers: ``log p'(c | x) = log p(c | x) / T``,
renormalised (:func:`tempered_log_probabilities`). It is applied to the learner's
log-probabilities (:meth:`Learner.predict_log_proba`), which a learner whose probabilities
underflow to 0 and 1 computes exactly from its scores (ProtoNet's ``−d(f(x), c_k)``), so a
temperature can soften even those. It is not a hyper-parameter: the search never sets it (a
ProtoNet's own ``temperature`` divides its distances, and is one).
"""

from __future__ import annotations

import hashlib
import io
import json
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar, Literal, Self

import numpy as np
import safetensors.torch
import torch
from sklearn.base import BaseEstimator, ClassifierMixin

from learners.errors import (
    BAD_PARAMETER,
    BAD_TRAINING_DATA,
    CORRUPT_FILE,
    INPUT_MISMATCH,
    NEEDS_SOURCE,
    NOT_FITTED,
    ConfigurationError,
    InvalidInputError,
)
from learners.source import Source
from learners.store import load_source
from learners.tensors import InputSpec

MODEL_FORMAT = "automl-advisor/model"
MODEL_VERSION = 1
State = tuple[dict[str, torch.Tensor], dict[str, np.ndarray]]
ClassPrior = Literal["training", "equal"]
CLASS_PRIORS: tuple[ClassPrior, ...] = ("training", "equal")


def equal_prior_probabilities(probabilities: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """Probabilities fitted under class priors ``π`` re-weighted to equal priors.

    ``p'(c | x) = (p(c | x) / π_c) / Σ_k (p(k | x) / π_k)`` — Bayes' rule with the priors
    swapped (Saerens, Latinne & Decaestecker, "Adjusting the outputs of a classifier to new a
    priori probabilities: a simple procedure", Neural Computation 14(1), 2002). Its most
    probable class, ``argmax_c log p(c | x) − log π_c``, is the post-hoc logit adjustment of
    Menon et al., "Long-tail learning via logit adjustment", ICLR 2021 (τ = 1), consistent
    for the balanced error. Equal priors change nothing.
    """
    p = np.asarray(probabilities, dtype=np.float64)
    weights = 1.0 / np.maximum(np.asarray(prior, dtype=np.float64), np.finfo(np.float64).tiny)
    adjusted = p * weights[None, :]
    total = adjusted.sum(axis=1, keepdims=True)
    return np.asarray(
        np.divide(adjusted, total, out=np.full_like(p, 1.0 / p.shape[1]), where=total > 0)
    )


def log_probabilities(probabilities: np.ndarray) -> np.ndarray:
    """``log p``, with probabilities of 0 read as the smallest positive float (log ≈ −708)."""
    p = np.asarray(probabilities, dtype=np.float64)
    return np.asarray(np.log(np.maximum(p, np.finfo(np.float64).tiny)))


def log_softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise ``z_c − log Σ_k exp z_k``, computed without overflow or underflow."""
    z = np.asarray(scores, dtype=np.float64)
    top = z.max(axis=1, keepdims=True)
    return np.asarray(z - top - np.log(np.exp(z - top).sum(axis=1, keepdims=True)))


def tempered_log_probabilities(log_probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """``log p'(c | x) = log p(c | x) / T − log Σ_k p(k | x)^(1/T)``: log-softmax of ``log p / T``.

    ``T > 1`` flattens over-confident probabilities, ``T < 1`` sharpens under-confident ones,
    and the order of the classes, so the answer, never changes (Guo et al., ICML 2017).
    """
    return log_softmax(np.asarray(log_probabilities, dtype=np.float64) / temperature)


def tempered_probabilities(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """``p'(c | x) = p(c | x)^(1/T) / Σ_k p(k | x)^(1/T)`` (:func:`tempered_log_probabilities`)."""
    return np.asarray(
        np.exp(tempered_log_probabilities(log_probabilities(probabilities), temperature))
    )


def check_inputs(X: Any, spec: InputSpec) -> np.ndarray:
    """``X`` as an array a learner built on ``spec`` takes, or a clear refusal.

    Vectors must be ``(N, D)`` with the spec's ``D``; images ``(N, H, W)`` or
    ``(N, H, W, C)`` (another size or channel count is converted, see
    :func:`learners.tensors.to_tensor`); every value a finite number — a NaN or an infinity
    would reach the model and come back as a NaN probability or the first class, without a
    word. An object array is read as numbers.

    Raises:
        InvalidInputError: ``learners.input_mismatch``.
    """
    inputs = _as_array(X)
    _require_fit(inputs, spec)
    _require_finite(inputs)
    return inputs


def _require_fit(inputs: np.ndarray, spec: InputSpec) -> None:
    """Refuse inputs of another kind than ``spec``'s, or vectors of another width."""
    if spec.modality == "vector":
        fits = inputs.ndim == 2 and inputs.shape[1] == spec.shape[0]
    else:
        fits = inputs.ndim in (3, 4)
    if not fits:
        wanted = "x".join(str(s) for s in spec.shape)
        raise InvalidInputError(
            f"The model takes {spec.modality} inputs ({wanted}); got an array of shape "
            f"{inputs.shape}.",
            code=INPUT_MISMATCH,
        )


def _require_finite(inputs: np.ndarray) -> None:
    """Refuse NaN and infinite values (the model would answer them without a word)."""
    if inputs.dtype.kind == "f" and inputs.ndim and not np.isfinite(inputs).all():
        bad = np.flatnonzero(~np.isfinite(inputs.reshape(inputs.shape[0], -1)).all(axis=1))
        raise InvalidInputError(
            f"{bad.size} of the {inputs.shape[0]} inputs hold NaN or infinite values (the "
            f"first at row {int(bad[0]) + 1}, numbered from 1); impute or drop them first.",
            code=INPUT_MISMATCH,
        )


def label_codes(inputs: np.ndarray, y: Any, what: str) -> tuple[np.ndarray, np.ndarray]:
    """The sorted classes of ``y`` and each label's code, for ``what`` (``"Fitting"``…).

    Raises:
        InvalidInputError: ``learners.bad_training_data`` unless there is one label per input,
            of kinds that sort together (not None beside strings), and two classes or more.
    """
    labels = np.asarray(y)
    if labels.ndim != 1 or inputs.ndim == 0 or labels.shape[0] != inputs.shape[0]:
        raise InvalidInputError(
            f"{inputs.shape[0] if inputs.ndim else 0} inputs but labels of shape "
            f"{labels.shape}: give one label per input.",
            code=BAD_TRAINING_DATA,
        )
    try:
        classes, codes = np.unique(labels, return_inverse=True)
    except TypeError:  # kinds that do not sort together (None beside strings, 1 beside "a")
        raise InvalidInputError(
            "The labels mix kinds that do not sort together (None beside strings, numbers "
            "beside text): give labels of one kind, none missing.",
            code=BAD_TRAINING_DATA,
        ) from None
    if classes.size < 2:
        raise InvalidInputError(
            f"{what} needs at least two classes; the labels hold {classes.size}.",
            code=BAD_TRAINING_DATA,
        )
    return classes, np.asarray(codes.reshape(-1).astype(np.int64))


def _as_array(X: Any) -> np.ndarray:
    """``X`` as a numeric array (objects read as numbers); ``learners.input_mismatch`` if not."""
    try:
        inputs = np.asarray(X)
        if inputs.dtype.kind == "O":
            inputs = inputs.astype(np.float64)
    except (TypeError, ValueError):
        raise InvalidInputError(
            "Inputs must be a rectangular array of numbers.", code=INPUT_MISMATCH
        ) from None
    if inputs.dtype.kind not in "biuf":
        raise InvalidInputError(
            f"Inputs must be numbers, got an array of dtype {inputs.dtype}.", code=INPUT_MISMATCH
        )
    return inputs


class Learner(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Base class of the learner families (see the module docstring)."""

    family: ClassVar[str] = ""
    variant: ClassVar[str] = ""
    needs_source: ClassVar[bool] = True
    learns_priors: ClassVar[bool] = True
    """Whether the learner's probabilities carry the training classes' frequencies."""
    class_prior: ClassPrior = "training"
    """``training`` (as fitted) or ``equal``: see the module docstring; saved with the model."""
    calibration_temperature: float = 1.0
    """Temperature scaling of the probabilities (see the module docstring); saved with them."""
    source: Source | None
    random_state: int

    # -- scikit-learn API ---------------------------------------------------------------------

    def fit(self, X: Any, y: Any) -> Self:
        """Fit on inputs ``X`` (``(N, D)`` or ``(N, H, W[, C])``) and ``N`` labels of any kind.

        Raises:
            InvalidInputError: ``learners.bad_training_data`` for fewer than two classes,
                mismatched lengths or labels of kinds that do not sort together;
                ``learners.input_mismatch`` for inputs the source cannot take, or that are not
                finite numbers (:func:`check_inputs`); ``learners.needs_source`` when the
                family needs a source.
        """
        inputs = _as_array(X)
        classes, codes = label_codes(inputs, y, "Fitting")
        _require_finite(inputs)
        spec = self._input_spec(inputs)
        _require_fit(inputs, spec)
        self.classes_ = classes
        self.class_frequencies_ = np.bincount(codes) / codes.size
        self.spec_ = spec
        with seeded(self.random_state):
            self._fit(inputs, codes, spec)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(N, K)``, columns in the order of ``classes_``.

        With ``class_prior == "equal"``, re-weighted to equal class priors
        (:func:`equal_prior_probabilities`); with a ``calibration_temperature`` other than 1,
        tempered by it (:meth:`predict_log_proba`).

        Raises:
            InvalidInputError: ``learners.not_fitted``; ``learners.input_mismatch`` for inputs
                of another kind or width than the model's, or not finite numbers
                (:func:`check_inputs`).
        """
        self._check_adjustments()
        inputs = check_inputs(X, self.spec_)
        if self.class_prior == "training" and self.calibration_temperature == 1.0:
            with torch.inference_mode():
                return np.asarray(self._predict_proba(inputs), dtype=np.float64)
        return np.asarray(np.exp(self._adjusted_log_proba(inputs)))

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """``log`` of :meth:`predict_proba`, computed in log space from the learner's scores.

        ``log p'(c | x) = (log p(c | x) − [log π_c]) / T``, renormalised: ``− log π_c`` only
        with ``class_prior == "equal"`` (:func:`equal_prior_probabilities`), ``T`` the
        ``calibration_temperature``. A learner whose probabilities underflow (ProtoNet) gives
        its exact log-probabilities here, never ``log 0``.

        Raises:
            InvalidInputError: as :meth:`predict_proba`.
        """
        self._check_adjustments()
        return self._adjusted_log_proba(check_inputs(X, self.spec_))

    def _adjusted_log_proba(self, inputs: np.ndarray) -> np.ndarray:
        """:meth:`predict_log_proba` of inputs already checked (:func:`check_inputs`)."""
        with torch.inference_mode():
            scores = np.asarray(self._predict_log_proba(inputs), dtype=np.float64)
        if self.class_prior == "equal":
            scores = scores - log_probabilities(self.class_frequencies_)[None, :]
        return tempered_log_probabilities(scores, self.calibration_temperature)

    def _check_adjustments(self) -> None:
        self._check_fitted()
        if self.class_prior not in CLASS_PRIORS:
            raise ConfigurationError(
                f"class_prior is {self.class_prior!r}; choose one of {', '.join(CLASS_PRIORS)}.",
                code=BAD_PARAMETER,
            )
        temperature = self.calibration_temperature
        if not (np.isfinite(temperature) and temperature > 0):
            raise ConfigurationError(
                f"calibration_temperature is {temperature!r}; it must be a positive number.",
                code=BAD_PARAMETER,
            )

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each input (original labels)."""
        probabilities = self.predict_proba(X)
        return np.asarray(self.classes_[np.argmax(probabilities, axis=1)])

    # -- what subclasses implement --------------------------------------------------------------

    def _fit(self, X: np.ndarray, codes: np.ndarray, spec: InputSpec) -> None:
        raise NotImplementedError

    def _predict_proba(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _predict_log_proba(self, X: np.ndarray) -> np.ndarray:
        """The log of :meth:`_predict_proba`; override where the scores give it exactly."""
        return log_probabilities(self._predict_proba(X))

    def _state(self) -> State:
        raise NotImplementedError

    def _restore(self, tensors: dict[str, torch.Tensor], arrays: dict[str, np.ndarray]) -> None:
        raise NotImplementedError

    # -- helpers ------------------------------------------------------------------------------

    def _input_spec(self, X: np.ndarray) -> InputSpec:
        if self.source is not None:
            return self.source.spec
        if self.needs_source:
            raise ConfigurationError(
                f"The {self.family}/{self.variant} learner starts from a source; pass source=…",
                code=NEEDS_SOURCE,
            )
        return InputSpec.from_data(X)

    def _require_source(self) -> Source:
        if self.source is None:
            raise ConfigurationError(
                f"The {self.family}/{self.variant} learner needs a source.", code=NEEDS_SOURCE
            )
        return self.source

    def _check_fitted(self) -> None:
        if not hasattr(self, "classes_"):
            raise InvalidInputError(
                f"This {type(self).__name__} is not fitted yet; call fit(X, y) first.",
                code=NOT_FITTED,
            )

    def hyper_parameters(self) -> dict[str, Any]:
        """The constructor's parameters except the source (JSON-ready)."""
        return {k: v for k, v in self.get_params(deep=False).items() if k != "source"}

    # -- persistence --------------------------------------------------------------------------

    def save(self, path: str | Path) -> Path:
        """Write the fitted learner to the folder ``path``; return the folder."""
        self._check_fitted()
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        tensors, arrays = self._state()
        weights = safetensors.torch.save({k: v.contiguous() for k, v in tensors.items()})
        buffer = io.BytesIO()
        np.savez(
            buffer,
            allow_pickle=False,
            classes=np.asarray(self.classes_),
            class_frequencies=np.asarray(self.class_frequencies_),
            **_loose(arrays),
        )
        (folder / "model.safetensors").write_bytes(weights)
        (folder / "model.npz").write_bytes(buffer.getvalue())
        document = {
            "format": MODEL_FORMAT,
            "version": MODEL_VERSION,
            "family": self.family,
            "variant": self.variant,
            "params": self.hyper_parameters(),
            "class_prior": self.class_prior,
            "calibration_temperature": self.calibration_temperature,
            "spec": self.spec_.to_json(),
            "source": None if self.source is None else self.source.name,
            "sha256": {
                "model.safetensors": hashlib.sha256(weights).hexdigest(),
                "model.npz": hashlib.sha256(buffer.getvalue()).hexdigest(),
            },
        }
        (folder / "model.json").write_text(json.dumps(document, indent=2, default=str))
        return folder

    @classmethod
    def load(cls, path: str | Path, *, source: Source | str | None = None) -> Learner:
        """Read a learner saved by :meth:`save` (the source by object, name or path).

        Raises:
            InvalidInputError: ``learners.corrupt_file`` for a damaged or foreign folder.
        """
        # The registry imports every family module, which import this one: import it late.
        from learners.registry import learner_class  # noqa: PLC0415

        folder = Path(path)
        document = _manifest(folder)
        files = {name: (folder / name).read_bytes() for name in document["sha256"]}
        for name, payload in files.items():
            if hashlib.sha256(payload).hexdigest() != document["sha256"][name]:
                raise InvalidInputError(
                    f"{name} in {str(folder)!r} does not match its checksum.", code=CORRUPT_FILE
                )
        learner_type = learner_class(document["family"], document["variant"])
        chosen = source if source is not None else document["source"]
        learner = learner_type(
            source=None if chosen is None else load_source(chosen), **document["params"]
        )
        with np.load(io.BytesIO(files["model.npz"]), allow_pickle=False) as stored:
            arrays = {k: stored[k] for k in stored.files}
        learner.classes_ = arrays.pop("classes")
        count = len(learner.classes_)  # models saved before priors were kept: equal frequencies
        learner.class_frequencies_ = arrays.pop("class_frequencies", np.full(count, 1.0 / count))
        learner.class_prior = document.get("class_prior", "training")
        learner.calibration_temperature = _saved_temperature(document)
        learner.spec_ = InputSpec.from_json(document["spec"])
        with seeded(learner.random_state):
            learner._restore(safetensors.torch.load(files["model.safetensors"]), arrays)
        return learner


def _saved_temperature(document: dict[str, Any]) -> float:
    """The calibration temperature of a ``model.json``; 1 for models saved before there was one.

    Models of 2026-11-28 kept it as ``temperature``, the name ProtoNet's own hyper-parameter has
    (and then shared): read as such only from a learner without that hyper-parameter.
    """
    if "calibration_temperature" in document:
        return float(document["calibration_temperature"])
    if "temperature" in document.get("params", {}):
        return 1.0
    return float(document.get("temperature", 1.0))


def saved_source_name(path: str | Path) -> str | None:
    """The name of the source a learner saved by :meth:`Learner.save` was fitted on.

    ``None`` for a learner without a source (scratch). Resolve the name as the caller's
    sources are found (a user's own sources live outside this package) and pass the
    :class:`Source` to :meth:`Learner.load`.

    Raises:
        InvalidInputError: ``learners.corrupt_file`` for a folder without a readable model.
    """
    name = _manifest(Path(path)).get("source")
    return None if name is None else str(name)


def _manifest(folder: Path) -> dict[str, Any]:
    try:
        document = json.loads((folder / "model.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InvalidInputError(
            f"No readable saved model in {str(folder)!r}: {error}.", code=CORRUPT_FILE
        ) from None
    if document.get("format") != MODEL_FORMAT or document.get("version", 99) > MODEL_VERSION:
        raise InvalidInputError(
            f"{str(folder)!r} is not a model this version can read.", code=CORRUPT_FILE
        )
    return dict(document)


def _loose(arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """The arrays typed loosely (numpy's stubs mistake ``**arrays`` for ``allow_pickle``)."""
    return dict(arrays)


@contextmanager
def seeded(seed: int) -> Any:
    """Seed torch's global generator inside the block only (the caller's state is restored)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        yield
