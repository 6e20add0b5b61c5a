"""Transfer learning: start from the source's pretrained backbone.

* ``linear_probe`` — the backbone frozen; multinomial logistic regression on its standardised
  embeddings (the "linear evaluation protocol"; Kornblith, Shlens & Le, CVPR 2019).
* ``finetune`` — a new linear head, then the whole network trained with cross-entropy (Adam,
  ``steps`` steps on mini-batches of 64), the first ``frozen_blocks`` blocks frozen — by
  default the input-side half, rounded down (2 of a 4-block CNN, 1 of the 2-block MLP): early
  blocks learn general features, late ones source-specific ones (Yosinski, Clune, Bengio &
  Lipson, NeurIPS 2014, *How transferable are features in deep neural networks?*) — and
  batch-norm statistics kept from the source (batch statistics of a handful of support
  examples are noise); augmentation of strength ``augment``.
* ``baseline_pp`` — Baseline++ (Chen, Liu, Kira, Wang, Huang, ICLR 2019): the backbone frozen,
  a cosine-similarity classifier ``s · cos(w_k, f(x))`` trained on the embeddings.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from learners.backbones import Classifier, CosineHead
from learners.families._linear import LinearModel
from learners.families._networks import NetworkLearner, check_positive, freeze_blocks, softmax
from learners.families.base import Learner, State
from learners.source import Source
from learners.tensors import InputSpec, to_tensor
from learners.training import generator, infer, train_classifier


class LinearProbe(Learner):
    """Logistic regression on the frozen pretrained embeddings (module docstring)."""

    family = "transfer"
    variant = "linear_probe"

    def __init__(self, source: Source | None = None, *, C: float = 1.0, random_state: int = 0):
        self.source = source
        self.C = C
        self.random_state = random_state

    def _embed(self, X: np.ndarray) -> np.ndarray:
        return self._require_source().embed(X)

    def _fit(self, X: np.ndarray, codes: np.ndarray, spec: InputSpec) -> None:
        check_positive(C=self.C)
        self.model_ = LinearModel.fit(self._embed(X), codes, C=self.C, seed=self.random_state)

    def _predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.model_.predict_proba(self._embed(X))

    def _state(self) -> State:
        return {}, self.model_.arrays()

    def _restore(self, tensors: dict[str, torch.Tensor], arrays: dict[str, np.ndarray]) -> None:
        self.model_ = LinearModel.from_arrays(arrays)


class FineTune(NetworkLearner):
    """Fine-tuning of the pretrained network with a new head (module docstring)."""

    family = "transfer"
    variant = "finetune"

    def __init__(
        self,
        source: Source | None = None,
        *,
        frozen_blocks: int | None = None,
        lr: float = 1e-3,
        steps: int = 40,
        weight_decay: float = 0.0,
        augment: float = 0.5,
        random_state: int = 0,
    ):
        self.source = source
        self.frozen_blocks = frozen_blocks
        self.lr = lr
        self.steps = steps
        self.weight_decay = weight_decay
        self.augment = augment
        self.random_state = random_state

    def _network(self, n_classes: int) -> Classifier:
        backbone = self._require_source().new_backbone("pretrained")
        return Classifier(backbone, nn.Linear(backbone.embedding_dim, n_classes))

    def _prepare(self, model: Classifier, X: np.ndarray, codes: np.ndarray) -> None:
        frozen = self.frozen_blocks
        freeze_blocks(model.backbone, len(model.backbone.blocks) // 2 if frozen is None else frozen)


class BaselinePlusPlus(Learner):
    """Baseline++'s cosine classifier on frozen pretrained embeddings (module docstring)."""

    family = "transfer"
    variant = "baseline_pp"

    def __init__(
        self,
        source: Source | None = None,
        *,
        lr: float = 1e-2,
        epochs: int = 100,
        scale: float = 10.0,
        random_state: int = 0,
    ):
        self.source = source
        self.lr = lr
        self.epochs = epochs
        self.scale = scale
        self.random_state = random_state

    def _embeddings(self, X: np.ndarray) -> torch.Tensor:
        return self._require_source().embed_tensor(to_tensor(X, self.spec_))

    def _fit(self, X: np.ndarray, codes: np.ndarray, spec: InputSpec) -> None:
        check_positive(lr=self.lr, epochs=self.epochs, scale=self.scale)
        features = self._embeddings(X)
        head = CosineHead(features.shape[1], len(self.classes_), scale=self.scale)
        train_classifier(
            head,
            features,
            torch.from_numpy(codes),
            epochs=self.epochs,
            lr=self.lr,
            rng=generator(self.random_state),
            batch_size=256,
        )
        self.head_ = head

    def _predict_proba(self, X: np.ndarray) -> np.ndarray:
        return softmax(infer(self.head_, self._embeddings(X)))

    def _state(self) -> State:
        return dict(self.head_.state_dict()), {}

    def _restore(self, tensors: dict[str, torch.Tensor], arrays: dict[str, np.ndarray]) -> None:
        weight = tensors["weight"]
        self.head_ = CosineHead(weight.shape[1], weight.shape[0], scale=self.scale)
        self.head_.load_state_dict(tensors)
