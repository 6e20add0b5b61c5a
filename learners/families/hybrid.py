"""Hybrid: the meta-trained start, fine-tuned on the support set.

``protomaml`` — the recipe of Proto-MAML (Triantafillou et al., ICLR 2020) with the
pretrain → meta-train → fine-tune pipeline of Hu, Li, Stühmer, Kim & Hospedales (CVPR 2022):
the source's ProtoNet backbone (itself pretrained, then meta-trained), a linear head
*initialised from the prototypes* ``c_k`` of the support set so that it starts as the
ProtoNet classifier — ``W_k = 2 c_k``, ``b_k = −‖c_k‖²``, because
``−‖f − c_k‖² = 2 c_k·f − ‖c_k‖² − ‖f‖²`` and the last term is the same for every class — and
then the whole network fine-tuned with cross-entropy (Adam, ``steps`` steps on mini-batches of
64), the first ``frozen_blocks``
blocks frozen and batch-norm statistics kept from the source.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from learners.backbones import Classifier
from learners.families._networks import NetworkLearner, freeze_blocks
from learners.protonet import prototypes
from learners.source import Source
from learners.tensors import to_tensor
from learners.training import infer


class ProtoMAML(NetworkLearner):
    """Prototype-initialised fine-tuning of the meta-trained backbone (module docstring)."""

    family = "hybrid"
    variant = "protomaml"

    def __init__(
        self,
        source: Source | None = None,
        *,
        frozen_blocks: int = 0,
        lr: float = 5e-4,
        steps: int = 30,
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
        backbone = self._require_source().new_backbone("protonet")
        return Classifier(backbone, nn.Linear(backbone.embedding_dim, n_classes))

    def _prepare(self, model: Classifier, X: np.ndarray, codes: np.ndarray) -> None:
        centroids = prototypes(
            infer(model.backbone, to_tensor(X, self.spec_)),
            torch.from_numpy(codes),
            len(self.classes_),
        )
        head = model.head
        assert isinstance(head, nn.Linear)
        with torch.no_grad():
            head.weight.copy_(2 * centroids)
            head.bias.copy_(-(centroids**2).sum(dim=1))
        freeze_blocks(model.backbone, self.frozen_blocks)
