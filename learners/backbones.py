"""Backbones: networks that map an input to an embedding, with a replaceable head on top.

* :class:`Conv4` — the few-shot literature's standard for 28×28 images (Vinyals et al. 2016;
  Snell et al. 2017): four blocks of 3×3 convolution (64 filters), batch normalisation, ReLU
  and 2×2 max-pooling; a 28×28 input leaves a 1×1×64 map, the 64-dimensional embedding
  (smaller inputs skip the pooling once the map is 1×1, larger ones are average-pooled).
* :class:`ResNet12` — the residual network of Oreshkin et al. (2018) and Lee et al. (2019),
  narrowed to widths (16, 32, 64, 128) so that it trains on a CPU: four residual blocks of three
  3×3 convolutions with batch normalisation and leaky ReLU (slope 0.1), a 1×1 convolution on
  the shortcut, 2×2 max-pooling after each block, global average pooling; 128 dimensions.
* :class:`MLP` — for vector data: two blocks of linear layer, batch normalisation and ReLU
  (128 then 64 units); 64 dimensions.

Every backbone exposes its ``blocks`` in input-to-output order (fine-tuning freezes the first
``frozen_blocks`` of them) and its ``embedding_dim``. A :class:`Classifier` puts a head on a
backbone: a linear layer, or the cosine classifier of Baseline++ (Chen et al. 2019).
"""

from __future__ import annotations

from itertools import pairwise
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from learners.errors import BAD_PARAMETER, ConfigurationError
from learners.tensors import InputSpec

BackboneName = Literal["conv4", "resnet12", "mlp"]


class Backbone(nn.Module):
    """Base class: ``blocks`` applied in order, then flattened to ``(N, embedding_dim)``."""

    blocks: nn.ModuleList
    embedding_dim: int

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The embedding of a batch."""
        for block in self.blocks:
            x = block(x)
        return self.finish(x)

    def finish(self, x: torch.Tensor) -> torch.Tensor:
        """Turn the last block's output into ``(N, embedding_dim)``."""
        return x.flatten(1)


class _ConvBlock(nn.Module):
    """3×3 convolution, batch norm, ReLU, then 2×2 max-pooling while the map is at least 2×2."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False)
        self.norm = nn.BatchNorm2d(out_channels)
        self.pool = nn.MaxPool2d(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.norm(self.conv(x)))
        return self.pool(out) if min(out.shape[-2:]) >= 2 else out


class Conv4(Backbone):
    """Four convolutional blocks of ``hidden`` filters; see the module docstring."""

    def __init__(self, in_channels: int = 1, hidden: int = 64) -> None:
        super().__init__()
        widths = [in_channels, hidden, hidden, hidden, hidden]
        self.blocks = nn.ModuleList(_ConvBlock(a, b) for a, b in pairwise(widths))
        self.embedding_dim = hidden

    def finish(self, x: torch.Tensor) -> torch.Tensor:
        """Average-pool what is left of the image to 1×1 and flatten."""
        return F.adaptive_avg_pool2d(x, 1).flatten(1)


class _ResidualBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for i in range(3):
            layers += [
                nn.Conv2d(
                    in_channels if i == 0 else out_channels, out_channels, 3, padding=1, bias=False
                ),
                nn.BatchNorm2d(out_channels),
            ]
            if i < 2:
                layers.append(nn.LeakyReLU(0.1))
        self.body = nn.Sequential(*layers)
        self.shortcut = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 1, bias=False), nn.BatchNorm2d(out_channels)
        )
        self.pool = nn.MaxPool2d(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.leaky_relu(self.body(x) + self.shortcut(x), 0.1)
        return self.pool(out) if min(out.shape[-2:]) >= 2 else out


class ResNet12(Backbone):
    """A narrow ResNet-12; see the module docstring."""

    def __init__(self, in_channels: int = 1, widths: tuple[int, ...] = (16, 32, 64, 128)) -> None:
        super().__init__()
        channels = [in_channels, *widths]
        self.blocks = nn.ModuleList(_ResidualBlock(a, b) for a, b in pairwise(channels))
        self.embedding_dim = widths[-1]

    def finish(self, x: torch.Tensor) -> torch.Tensor:
        """Global average pooling."""
        return F.adaptive_avg_pool2d(x, 1).flatten(1)


class MLP(Backbone):
    """Linear → batch norm → ReLU blocks for vectors; see the module docstring."""

    def __init__(self, in_features: int, widths: tuple[int, ...] = (128, 64)) -> None:
        super().__init__()
        sizes = [in_features, *widths]
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.Linear(a, b, bias=False), nn.BatchNorm1d(b), nn.ReLU())
            for a, b in pairwise(sizes)
        )
        self.embedding_dim = widths[-1]


def make_backbone(name: BackboneName | None, spec: InputSpec) -> Backbone:
    """The backbone ``name`` for inputs of ``spec`` (``None``: Conv-4 for images, MLP for vectors).

    Raises:
        ConfigurationError: ``learners.bad_parameter`` for an unknown name or a convolutional
            backbone on vectors.
    """
    chosen = name or ("conv4" if spec.modality == "image" else "mlp")
    if spec.modality == "vector":
        if chosen != "mlp":
            raise ConfigurationError(
                f"Vector data takes the 'mlp' backbone, not {chosen!r}.", code=BAD_PARAMETER
            )
        return MLP(spec.shape[0])
    if chosen == "conv4":
        return Conv4(spec.channels)
    if chosen == "resnet12":
        return ResNet12(spec.channels)
    raise ConfigurationError(
        f"Unknown backbone {chosen!r} for images; choose 'conv4' or 'resnet12'.",
        code=BAD_PARAMETER,
    )


class CosineHead(nn.Module):
    """Baseline++'s classifier: ``s · cos(w_k, f)`` per class weight ``w_k`` (Chen et al. 2019).

    ``s`` is a fixed scale (10 in the paper for small backbones); it sharpens the softmax over
    cosine similarities, which lie in [−1, 1].
    """

    def __init__(self, in_features: int, n_classes: int, scale: float = 10.0) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_classes, in_features) * 0.01)
        self.scale = scale

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Scaled cosine similarities ``(N, n_classes)``."""
        return self.scale * F.normalize(features, dim=1) @ F.normalize(self.weight, dim=1).T


class Classifier(nn.Module):
    """A backbone with a head: ``logits = head(backbone(x))``."""

    def __init__(self, backbone: Backbone, head: nn.Module) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores of a batch."""
        logits: torch.Tensor = self.head(self.backbone(x))
        return logits
