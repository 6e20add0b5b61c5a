"""A *source*: what a source domain offers to transfer and meta learning.

A :class:`Source` bundles

* the **pretrained** network — a backbone and a linear head trained with cross-entropy on all
  source classes (transfer learning's start, and the source classifier LEEP needs);
* **meta-trained** starts, one per meta-learning algorithm: a ProtoNet backbone, and MAML,
  first-order MAML and ANIL initialisations (backbone and a ``ways``-output head);
* the **input spec** (modality, shape, standardisation);
* the **profile** arrays :mod:`meta_features` needs (mean and covariance of the pretrained
  embeddings of the source data, a fixed sample of them, class centroids).

Sources are built by :func:`learners.build.build_source` and stored by :mod:`learners.store`
(safetensors + JSON, never pickle).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from learners.backbones import Backbone, BackboneName, Classifier, make_backbone
from learners.errors import BAD_PARAMETER, ConfigurationError
from learners.tensors import InputSpec, to_tensor
from learners.training import infer
from meta_features import SourceProfile

META_ALGORITHMS = ("protonet", "maml", "fomaml", "anil")
PROFILE_KEYS = ("embedding_mean", "embedding_cov", "embedding_sample", "class_centroids")


@dataclass(eq=False)
class Source:
    """A built source domain (see the module docstring).

    Attributes:
        name: the source's name (``"glyphs"`` for the built-in one).
        spec: the input spec every network of the source takes.
        backbone: which backbone architecture (``conv4``, ``resnet12``, ``mlp``).
        classes: the source's class labels, in the order of the pretrained head's outputs.
        pretrained: state dict of the pretrained :class:`Classifier` (backbone + linear head).
        meta: per meta-learning algorithm, the state dict of its start (a backbone for
            ``protonet``; a :class:`Classifier` with a ``meta_ways``-output head otherwise).
        profile_arrays: the arrays of the :class:`~meta_features.SourceProfile`.
        meta_ways: the number of outputs of the MAML-family heads.
        info: how the source was built (settings, seeds, timings, versions).
    """

    name: str
    spec: InputSpec
    backbone: BackboneName
    classes: tuple[str, ...]
    pretrained: dict[str, torch.Tensor]
    meta: dict[str, dict[str, torch.Tensor]]
    profile_arrays: dict[str, np.ndarray]
    meta_ways: int = 5
    info: dict[str, Any] = field(default_factory=dict)
    _frozen: dict[str, nn.Module] = field(default_factory=dict, init=False, repr=False)

    def new_backbone(self, start: str = "pretrained") -> Backbone:
        """A fresh backbone holding the weights of ``start`` (``pretrained`` or an algorithm).

        Raises:
            ConfigurationError: ``learners.bad_parameter`` for a start the source lacks.
        """
        backbone = make_backbone(self.backbone, self.spec)
        backbone.load_state_dict(_backbone_part(self._state(start), start))
        return backbone

    def pretrained_classifier(self) -> Classifier:
        """The pretrained backbone with its source-class head."""
        model = Classifier(make_backbone(self.backbone, self.spec), nn.Identity())
        model.head = nn.Linear(model.backbone.embedding_dim, len(self.classes))
        model.load_state_dict(self.pretrained)
        return model

    def meta_classifier(self, algorithm: str) -> Classifier:
        """The meta-learned start of a MAML-family ``algorithm`` (backbone and head)."""
        state = self._state(algorithm)
        model = Classifier(make_backbone(self.backbone, self.spec), nn.Identity())
        model.head = nn.Linear(model.backbone.embedding_dim, self.meta_ways)
        model.load_state_dict(state)
        return model

    def _state(self, start: str) -> dict[str, torch.Tensor]:
        if start == "pretrained":
            return self.pretrained
        if start not in self.meta:
            raise ConfigurationError(
                f"The source {self.name!r} has no {start!r} start; it has "
                f"{['pretrained', *self.meta]}.",
                code=BAD_PARAMETER,
            )
        return self.meta[start]

    def frozen(self, start: str = "pretrained") -> nn.Module:
        """A shared, read-only network of ``start`` for inference (built once, in eval mode).

        ``"classifier"`` is the pretrained network with its source-class head; other names
        are backbones. Never train it: learners that fine-tune take :meth:`new_backbone`.
        """
        if start not in self._frozen:
            model = (
                self.pretrained_classifier() if start == "classifier" else self.new_backbone(start)
            )
            model.eval().requires_grad_(False)
            self._frozen[start] = model
        return self._frozen[start]

    def embed_tensor(self, x: torch.Tensor, start: str = "pretrained") -> torch.Tensor:
        """Embeddings by the ``start`` backbone of inputs already in tensor form."""
        return infer(self.frozen(start), x)

    def embed(self, X: Any) -> np.ndarray:
        """Pretrained embeddings of raw inputs ``X``, ``(N, d)``."""
        return self.embed_tensor(to_tensor(X, self.spec)).numpy().astype(np.float64)

    def predict_proba(self, X: Any) -> np.ndarray:
        """The source classifier's class probabilities for raw inputs ``X``, ``(N, Z)``."""
        logits = infer(self.frozen("classifier"), to_tensor(X, self.spec))
        return torch.softmax(logits, dim=1).numpy().astype(np.float64)

    def profile(self) -> SourceProfile:
        """The :class:`~meta_features.SourceProfile` of this source."""
        arrays = self.profile_arrays
        return SourceProfile(
            embed=self.embed,
            predict_proba=self.predict_proba,
            embedding_mean=arrays["embedding_mean"],
            embedding_cov=arrays["embedding_cov"],
            embedding_sample=arrays["embedding_sample"],
            class_centroids=arrays["class_centroids"],
            name=self.name,
        )

    def __repr__(self) -> str:
        return (
            f"Source(name={self.name!r}, backbone={self.backbone!r}, "
            f"spec={self.spec.modality}{list(self.spec.shape)}, classes={len(self.classes)}, "
            f"starts={['pretrained', *self.meta]})"
        )


def _backbone_part(state: dict[str, torch.Tensor], start: str) -> dict[str, torch.Tensor]:
    """The backbone's entries of a state dict (a ProtoNet start *is* a backbone)."""
    if start == "protonet":
        return state
    prefix = "backbone."
    return {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
