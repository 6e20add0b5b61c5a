"""A multinomial logistic regression kept as plain arrays (so it saves without pickle)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression

from learners.errors import INPUT_MISMATCH, InvalidInputError
from learners.tensors import standardisation


@dataclass(frozen=True, eq=False)
class LinearModel:
    """``p(k | x) = softmax_k(W (x − mean) / scale + b)``."""

    mean: np.ndarray
    scale: np.ndarray
    weight: np.ndarray
    bias: np.ndarray

    @classmethod
    def fit(cls, Z: np.ndarray, codes: np.ndarray, *, C: float, seed: int) -> LinearModel:
        """Standardise ``Z`` and fit L2-regularised multinomial logistic regression (lbfgs).

        Columns are standardised by :func:`~learners.tensors.standardisation`, whatever their
        units (values of 1e-13 or 1e300 are not taken for constants).

        ``C`` is the inverse regularisation strength of scikit-learn's
        :class:`~sklearn.linear_model.LogisticRegression`. Two classes are stored as two
        rows (``0`` and ``w``), so that prediction is one softmax for every ``K``.
        """
        mean, scale = standardisation(Z)
        model = LogisticRegression(C=C, max_iter=2000, random_state=seed)
        model.fit((Z - mean) / scale, codes)
        weight, bias = model.coef_, model.intercept_
        if weight.shape[0] == 1:
            weight = np.vstack([np.zeros_like(weight), weight])
            bias = np.array([0.0, bias[0]])
        return cls(mean, scale, weight, bias)

    def predict_proba(self, Z: np.ndarray) -> np.ndarray:
        """Class probabilities ``(N, K)``.

        Raises:
            InvalidInputError: ``learners.input_mismatch`` for rows of another width than the
                fitted ones, or not finite (a NaN would come back as a row of NaN
                probabilities).
        """
        Z = np.asarray(Z, dtype=np.float64)
        width = self.mean.shape[0]
        if Z.ndim != 2 or Z.shape[1] != width:
            raise InvalidInputError(
                f"The linear model takes rows of {width} features; got shape {Z.shape}.",
                code=INPUT_MISMATCH,
            )
        if not np.isfinite(Z).all():
            raise InvalidInputError(
                "The rows hold NaN or infinite values; impute or drop them first.",
                code=INPUT_MISMATCH,
            )
        logits = ((Z - self.mean) / self.scale) @ self.weight.T + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return np.asarray(exp / exp.sum(axis=1, keepdims=True))

    def arrays(self) -> dict[str, np.ndarray]:
        """The parameters, for saving."""
        return {"mean": self.mean, "scale": self.scale, "weight": self.weight, "bias": self.bias}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> LinearModel:
        """Inverse of :meth:`arrays`."""
        return cls(arrays["mean"], arrays["scale"], arrays["weight"], arrays["bias"])
