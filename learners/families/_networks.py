"""Pieces shared by the learners that fit a network."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import torch
from torch import nn

from learners.backbones import Backbone, Classifier
from learners.errors import BAD_PARAMETER, ConfigurationError
from learners.families.base import Learner, State
from learners.tensors import InputSpec, to_tensor
from learners.training import (
    Augment,
    augment_images,
    generator,
    infer,
    jitter_vectors,
    train_classifier,
)


def softmax(logits: torch.Tensor) -> np.ndarray:
    """Row-wise softmax as a float64 array."""
    return torch.softmax(logits.double(), dim=1).numpy()


def probabilities(model: nn.Module, X: np.ndarray, spec: InputSpec) -> np.ndarray:
    """``softmax(model(X))`` in eval mode."""
    return softmax(infer(model, to_tensor(X, spec)))


def freeze_blocks(backbone: Backbone, frozen_blocks: int) -> None:
    """Stop gradients into the first ``frozen_blocks`` blocks (input side) of ``backbone``.

    Raises:
        ConfigurationError: ``learners.bad_parameter`` outside ``0..len(blocks)``.
    """
    if not 0 <= frozen_blocks <= len(backbone.blocks):
        raise ConfigurationError(
            f"frozen_blocks must lie in 0..{len(backbone.blocks)}, got {frozen_blocks}.",
            code=BAD_PARAMETER,
        )
    for index, block in enumerate(backbone.blocks):
        for parameter in block.parameters():
            parameter.requires_grad_(index >= frozen_blocks)


def augmenter(spec: InputSpec, strength: float) -> Augment | None:
    """The seeded augmentation of ``spec``'s modality at ``strength`` (``None`` for 0)."""
    if strength <= 0:
        return None
    if spec.modality == "image":
        return lambda x, rng: augment_images(x, rng, strength)
    return lambda x, rng: jitter_vectors(x, rng, strength)


def fit_network(
    model: nn.Module,
    X: np.ndarray,
    codes: np.ndarray,
    spec: InputSpec,
    *,
    steps: int,
    lr: float,
    weight_decay: float,
    augment: float,
    seed: int,
    keep_bn_statistics: bool,
) -> list[float]:
    """Train ``model`` on raw inputs with cross-entropy (see :func:`train_classifier`)."""
    return train_classifier(
        model,
        to_tensor(X, spec),
        torch.from_numpy(codes),
        steps=steps,
        lr=lr,
        weight_decay=weight_decay,
        rng=generator(seed),
        augment=augmenter(spec, augment),
        keep_bn_statistics=keep_bn_statistics,
    )


def check_positive(**values: float) -> None:
    """Raise ``learners.bad_parameter`` unless every value is positive."""
    bad = {k: v for k, v in values.items() if not v > 0}
    if bad:
        raise ConfigurationError(f"Parameters must be positive: {bad}.", code=BAD_PARAMETER)


class NetworkLearner(Learner):
    """A learner whose fitted state is one network ``model_``, trained with cross-entropy.

    Subclasses build the untrained network in ``_network(n_classes)`` (``spec_`` is set) and
    may prepare it in ``_prepare`` (freeze blocks, initialise the head); they hold the
    hyper-parameters ``lr``, ``steps`` (optimiser steps on mini-batches of 64),
    ``weight_decay`` and ``augment``.
    """

    keep_bn_statistics: ClassVar[bool] = True
    lr: float
    steps: int
    weight_decay: float
    augment: float

    def _network(self, n_classes: int) -> Classifier:
        raise NotImplementedError

    def _prepare(self, model: Classifier, X: np.ndarray, codes: np.ndarray) -> None:
        """Adjust the untrained network before training (nothing by default)."""

    def _fit(self, X: np.ndarray, codes: np.ndarray, spec: InputSpec) -> None:
        check_positive(lr=self.lr, steps=self.steps)
        model = self._network(len(self.classes_))
        self._prepare(model, X, codes)
        fit_network(
            model,
            X,
            codes,
            spec,
            steps=self.steps,
            lr=self.lr,
            weight_decay=self.weight_decay,
            augment=self.augment,
            seed=self.random_state,
            keep_bn_statistics=self.keep_bn_statistics,
        )
        self.model_ = model

    def _predict_proba(self, X: np.ndarray) -> np.ndarray:
        return probabilities(self.model_, X, self.spec_)

    def _state(self) -> State:
        return dict(self.model_.state_dict()), {}

    def _restore(self, tensors: dict[str, torch.Tensor], arrays: dict[str, np.ndarray]) -> None:
        self.model_ = self._network(len(self.classes_))
        self.model_.load_state_dict(tensors)
