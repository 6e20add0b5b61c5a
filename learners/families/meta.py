"""Meta learning: start from a backbone meta-trained on episodes of the source.

* ``protonet`` — Prototypical Networks (Snell et al. 2017): the ProtoNet-trained backbone
  embeds the support set; each class is its mean embedding (prototype); a query's class
  probabilities are ``softmax_k(−d(f(x), c_k) / T)`` with ``d`` the squared Euclidean distance
  (or ``distance="cosine"``: ``1 − cos``, on L2-normalised embeddings). Nothing is trained on
  the target.
* ``maml``, ``fomaml``, ``anil`` — MAML (Finn et al. 2017) with second-order or first-order
  meta-gradients, and ANIL (Raghu et al. 2020), each from its own meta-trained start in the
  source: ``steps`` gradient steps of size ``inner_lr`` on the support set's cross-entropy, on
  every parameter (ANIL: on the head only). The meta-trained head has ``meta_ways`` outputs for
  episode codes that were shuffled in every episode, so no output belongs to a class; the
  target's ``K``-output head starts with every row equal to the mean of the meta-trained rows
  (the symmetric start of Ye & Chao's UNICORN-MAML, ICLR 2022), which fits any ``K``.
  Batch-norm statistics are the task's own (see :mod:`learners.maml`).
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from learners.backbones import Classifier
from learners.errors import BAD_PARAMETER, ConfigurationError
from learners.families._networks import check_positive, softmax
from learners.families.base import Learner, State
from learners.maml import DEFAULT_INNER_LR, adapt, predict_adapted
from learners.protonet import prototype_logits, prototypes
from learners.source import Source
from learners.tensors import InputSpec, to_tensor


class ProtoNet(Learner):
    """Nearest-prototype classification in the meta-trained embedding (module docstring)."""

    family = "meta"
    variant = "protonet"
    learns_priors = False  # distances to class means: no class frequency enters the scores

    def __init__(
        self,
        source: Source | None = None,
        *,
        distance: Literal["euclidean", "cosine"] = "euclidean",
        temperature: float = 1.0,
        random_state: int = 0,
    ):
        self.source = source
        self.distance = distance
        self.temperature = temperature
        self.random_state = random_state

    def _embed(self, X: np.ndarray) -> torch.Tensor:
        embeddings = self._require_source().embed_tensor(to_tensor(X, self.spec_), "protonet")
        return F.normalize(embeddings, dim=1) if self.distance == "cosine" else embeddings

    def _fit(self, X: np.ndarray, codes: np.ndarray, spec: InputSpec) -> None:
        check_positive(temperature=self.temperature)
        if self.distance not in ("euclidean", "cosine"):
            raise ConfigurationError(
                f"distance must be 'euclidean' or 'cosine', got {self.distance!r}.",
                code=BAD_PARAMETER,
            )
        self.prototypes_ = prototypes(self._embed(X), torch.from_numpy(codes), len(self.classes_))

    def _logits(self, X: np.ndarray) -> torch.Tensor:
        queries = self._embed(X)
        centres = self.prototypes_
        if self.distance == "cosine":
            centres = F.normalize(centres, dim=1)
            # ‖a − b‖² = 2 − 2 cos for unit vectors: the same ranking as 1 − cos, scaled by 2.
            return prototype_logits(queries, centres, 2 * self.temperature)
        return prototype_logits(queries, centres, self.temperature)

    def _predict_proba(self, X: np.ndarray) -> np.ndarray:
        return softmax(self._logits(X))

    def _predict_log_proba(self, X: np.ndarray) -> np.ndarray:
        # Squared distances in the embedding differ by hundreds: the probabilities underflow to
        # exactly 0 and 1, their logarithms do not.
        return torch.log_softmax(self._logits(X).double(), dim=1).numpy()

    def _state(self) -> State:
        return {"prototypes": self.prototypes_}, {}

    def _restore(self, tensors: dict[str, torch.Tensor], arrays: dict[str, np.ndarray]) -> None:
        self.prototypes_ = tensors["prototypes"]


class MAML(Learner):
    """Adaptation of a MAML-family meta-trained start on the support set (module docstring)."""

    family = "meta"
    variant = "maml"
    start: ClassVar[str] = "maml"
    head_only: ClassVar[bool] = False

    def __init__(
        self,
        source: Source | None = None,
        *,
        steps: int = 10,
        inner_lr: float = DEFAULT_INNER_LR,
        random_state: int = 0,
    ):
        self.source = source
        self.steps = steps
        self.inner_lr = inner_lr
        self.random_state = random_state

    def _network(self, n_classes: int) -> Classifier:
        model = self._require_source().meta_classifier(self.start)
        trained = model.head
        assert isinstance(trained, nn.Linear)
        head = nn.Linear(model.backbone.embedding_dim, n_classes)
        with torch.no_grad():
            head.weight.copy_(trained.weight.mean(dim=0, keepdim=True).expand_as(head.weight))
            head.bias.fill_(float(trained.bias.mean()))
        model.head = head
        return model

    def _fit(self, X: np.ndarray, codes: np.ndarray, spec: InputSpec) -> None:
        check_positive(steps=self.steps, inner_lr=self.inner_lr)
        model = self._network(len(self.classes_))
        params = {name: p.detach().clone().requires_grad_() for name, p in model.named_parameters()}
        buffers = {name: b.clone() for name, b in model.named_buffers()}
        support = to_tensor(X, spec)
        names = frozenset(n for n in params if n.startswith("head.")) if self.head_only else None
        adapted = adapt(
            model,
            params,
            buffers,
            support,
            torch.from_numpy(codes),
            steps=self.steps,
            inner_lr=self.inner_lr,
            first_order=True,
            adapt_names=names,
        )
        self.model_ = model
        self.params_ = {k: v.detach() for k, v in adapted.items()}
        self.buffers_ = buffers
        self.support_ = support

    def _predict_proba(self, X: np.ndarray) -> np.ndarray:
        query = to_tensor(X, self.spec_)
        logits = predict_adapted(self.model_, self.params_, self.buffers_, self.support_, query)
        return softmax(logits)

    def _state(self) -> State:
        tensors = {f"params/{k}": v for k, v in self.params_.items()}
        tensors.update({f"buffers/{k}": v for k, v in self.buffers_.items()})
        tensors["support"] = self.support_
        return tensors, {}

    def _restore(self, tensors: dict[str, torch.Tensor], arrays: dict[str, np.ndarray]) -> None:
        self.model_ = self._network(len(self.classes_))
        self.params_ = {k[7:]: v for k, v in tensors.items() if k.startswith("params/")}
        self.buffers_ = {k[8:]: v for k, v in tensors.items() if k.startswith("buffers/")}
        self.support_ = tensors["support"]


class FOMAML(MAML):
    """MAML from the start meta-trained with first-order meta-gradients."""

    variant = "fomaml"
    start = "fomaml"


class ANIL(MAML):
    """ANIL: only the head adapts, from the ANIL-trained start."""

    variant = "anil"
    start = "anil"
    head_only = True
