"""Scratch: no source at all — the control that reveals negative transfer.

* ``logreg`` — multinomial logistic regression on the standardised raw inputs (images
  flattened, pixels in [0, 1]); ``C`` is the inverse L2 strength.
* ``gbm`` — gradient boosting of regression trees (Friedman, Annals of Statistics 2001;
  scikit-learn's exact-split implementation, which does better than histogram binning on the
  few dozen rows of a few-shot set) on the same flattened inputs, without early stopping
  (there is no data to spare for it); boosted stumps (``max_depth=1``) by default, the most
  robust choice on a few dozen rows; ``min_samples_leaf`` is capped by the smallest class.
  From :data:`HIST_ROWS` training rows on, where exact splits cost minutes per fit and binning
  loses nothing, it is histogram boosting (scikit-learn's ``HistGradientBoostingClassifier``,
  after LightGBM, Ke et al. 2017: 255 bins per feature) with the same learning rate, number
  and depth of trees and leaf size, without early stopping; ``subsample`` has no counterpart
  there and is not used. The knowledge base's tasks (at most 1,000 rows) never reach it.
* ``cnn`` — a network trained from random weights: a Conv-4 with 32 filters for images, the
  MLP for vectors, a linear head, cross-entropy with Adam (``steps`` steps on mini-batches of
  64) and augmentation.

A fitted ``gbm`` is saved as its trees, as plain arrays (:mod:`learners.trees`: scikit-learn's
trees can only be stored with pickle, which this project never uses), and predicts with them,
exactly as scikit-learn does. Models saved before 2026-11-28 hold their training data instead,
and are refitted — with the same seed, to the same trees — on load.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier
from torch import nn

from learners.backbones import MLP, Classifier, Conv4
from learners.errors import CORRUPT_FILE, InvalidInputError
from learners.families._linear import LinearModel
from learners.families._networks import NetworkLearner, check_positive
from learners.families.base import Learner, State
from learners.source import Source
from learners.tensors import InputSpec, to_tensor
from learners.trees import (
    NODE_DTYPES,
    TreeEnsemble,
    classifier_ensembles,
    classifier_probabilities,
)

HIST_ROWS = 10_000
"""From this many training rows on, ``gbm`` is histogram boosting (module docstring); the
size from which scikit-learn's guide recommends it."""


def flat_inputs(X: np.ndarray, spec: InputSpec) -> np.ndarray:
    """Inputs as ``(N, features)`` float64: images flattened in [0, 1], vectors as given."""
    if spec.modality == "vector":
        return np.asarray(X, dtype=np.float64)
    return to_tensor(X, spec).flatten(1).double().numpy()


class LogisticRegressionLearner(Learner):
    """Logistic regression on the raw inputs (module docstring)."""

    family = "scratch"
    variant = "logreg"
    needs_source = False

    def __init__(self, source: Source | None = None, *, C: float = 1.0, random_state: int = 0):
        self.source = source
        self.C = C
        self.random_state = random_state

    def _fit(self, X: np.ndarray, codes: np.ndarray, spec: InputSpec) -> None:
        check_positive(C=self.C)
        inputs = flat_inputs(X, spec)
        self.model_ = LinearModel.fit(inputs, codes, C=self.C, seed=self.random_state)

    def _predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.model_.predict_proba(flat_inputs(X, self.spec_))

    def _state(self) -> State:
        return {}, self.model_.arrays()

    def _restore(self, tensors: dict[str, torch.Tensor], arrays: dict[str, np.ndarray]) -> None:
        self.model_ = LinearModel.from_arrays(arrays)


class GradientBoostingLearner(Learner):
    """Gradient boosting of trees on the raw inputs (module docstring)."""

    family = "scratch"
    variant = "gbm"
    needs_source = False

    def __init__(
        self,
        source: Source | None = None,
        *,
        learning_rate: float = 0.1,
        n_estimators: int = 100,
        max_depth: int = 1,
        min_samples_leaf: int = 1,
        subsample: float = 1.0,
        random_state: int = 0,
    ):
        self.source = source
        self.learning_rate = learning_rate
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.subsample = subsample
        self.random_state = random_state

    def _fit(self, X: np.ndarray, codes: np.ndarray, spec: InputSpec) -> None:
        check_positive(
            learning_rate=self.learning_rate,
            n_estimators=self.n_estimators,
            max_depth=self.max_depth,
            subsample=self.subsample,
        )
        self._train(flat_inputs(X, spec), codes)

    def _train(self, X: np.ndarray, codes: np.ndarray, *, histogram: bool | None = None) -> None:
        """Fit the boosted trees: histogram boosting from ``HIST_ROWS`` rows on, unless told."""
        smallest = int(np.bincount(codes).min())
        leaf = max(1, min(self.min_samples_leaf, smallest))
        self.histogram_ = len(X) >= HIST_ROWS if histogram is None else histogram
        model: GradientBoostingClassifier | HistGradientBoostingClassifier
        if self.histogram_:
            model = HistGradientBoostingClassifier(
                learning_rate=self.learning_rate,
                max_iter=self.n_estimators,
                max_depth=self.max_depth,
                max_leaf_nodes=None,  # the depth bounds the trees, as in the exact model
                min_samples_leaf=leaf,
                early_stopping=False,
                random_state=self.random_state,
            )
        else:
            model = GradientBoostingClassifier(
                learning_rate=self.learning_rate,
                n_estimators=self.n_estimators,
                max_depth=self.max_depth,
                min_samples_leaf=leaf,
                subsample=min(self.subsample, 1.0),
                random_state=self.random_state,
            )
        self.trees_ = classifier_ensembles(model.fit(X, codes))

    def _predict_proba(self, X: np.ndarray) -> np.ndarray:
        return classifier_probabilities(
            self.trees_, flat_inputs(X, self.spec_), float32_inputs=not self.histogram_
        )

    def _state(self) -> State:
        arrays = {"baselines": np.array([trees.baseline for trees in self.trees_])}
        for k, trees in enumerate(self.trees_):
            arrays |= {f"trees.{k}.{name}": values for name, values in trees.arrays().items()}
        arrays["n_features"] = np.array(self.trees_[0].n_features)
        arrays["histogram"] = np.array(self.histogram_)
        return {}, arrays

    def _restore(self, tensors: dict[str, torch.Tensor], arrays: dict[str, np.ndarray]) -> None:
        if "train_x" in arrays:  # saved before the trees were: fitted again, to the same trees
            self._train(arrays["train_x"], arrays["train_codes"], histogram=False)
            return
        try:
            self.histogram_ = bool(arrays.get("histogram", False))  # absent: saved before
            width = int(arrays["n_features"])
            self.trees_ = [
                TreeEnsemble.checked(
                    float(baseline),
                    width,
                    {name: arrays[f"trees.{k}.{name}"] for name in NODE_DTYPES},
                )
                for k, baseline in enumerate(arrays["baselines"])
            ]
        except (KeyError, ValueError, TypeError) as error:
            raise InvalidInputError(
                f"The saved trees do not make a boosted model: {error}", code=CORRUPT_FILE
            ) from error


class ScratchNetwork(NetworkLearner):
    """A network trained from random weights (module docstring)."""

    family = "scratch"
    variant = "cnn"
    needs_source = False
    keep_bn_statistics = False

    def __init__(
        self,
        source: Source | None = None,
        *,
        lr: float = 1e-3,
        steps: int = 100,
        weight_decay: float = 1e-4,
        augment: float = 0.5,
        random_state: int = 0,
    ):
        self.source = source
        self.lr = lr
        self.steps = steps
        self.weight_decay = weight_decay
        self.augment = augment
        self.random_state = random_state

    def _network(self, n_classes: int) -> Classifier:
        spec = self.spec_
        backbone = Conv4(spec.channels, hidden=32) if spec.modality == "image" else MLP(spec.width)
        return Classifier(backbone, nn.Linear(backbone.embedding_dim, n_classes))
