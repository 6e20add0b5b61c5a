"""Supervised training, embedding and prediction loops shared by sources and learners.

Everything is batched (no per-example Python loop), seeded through an explicit
:class:`torch.Generator`, and inference runs under :func:`torch.inference_mode` in eval mode.
The number of CPU threads is torch's (``torch.set_num_threads`` is honoured, never changed
here).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator

import torch
import torch.nn.functional as F
from torch import nn

Augment = Callable[[torch.Tensor, torch.Generator], torch.Tensor]
Progress = Callable[[int, float], None]


def generator(seed: int) -> torch.Generator:
    """A CPU generator seeded with ``seed``."""
    return torch.Generator().manual_seed(int(seed))


def minibatches(n_rows: int, batch_size: int, rng: torch.Generator) -> Iterator[torch.Tensor]:
    """Index tensors of a seeded random permutation of ``0..n_rows−1``, ``batch_size`` at a time."""
    order = torch.randperm(n_rows, generator=rng)
    yield from torch.split(order, batch_size)


def augment_images(
    images: torch.Tensor, rng: torch.Generator, strength: float = 1.0
) -> torch.Tensor:
    """Random affine jitter of a batch ``(N, C, H, W)``, one transform per image.

    Rotation ``U(−15°, 15°)·s``, isotropic scale ``1 + U(−0.1, 0.1)·s``, translation
    ``U(−0.1, 0.1)·s`` of the image size, bilinear resampling with zero padding — the kind of
    augmentation used for Omniglot-style characters. ``s = strength``; 0 returns the batch.
    """
    if strength <= 0:
        return images
    n = images.shape[0]
    uniform = torch.rand((n, 4), generator=rng, dtype=images.dtype) * 2 - 1
    angle = uniform[:, 0] * math.radians(15.0) * strength
    scale = 1 + uniform[:, 1] * 0.1 * strength
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [
            torch.stack([cos, -sin, uniform[:, 2] * 0.2 * strength], dim=1),
            torch.stack([sin, cos, uniform[:, 3] * 0.2 * strength], dim=1),
        ],
        dim=1,
    )
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def jitter_vectors(
    vectors: torch.Tensor, rng: torch.Generator, strength: float = 1.0
) -> torch.Tensor:
    """Gaussian noise of standard deviation ``0.1·s`` on standardised vectors."""
    if strength <= 0:
        return vectors
    noise = torch.randn(vectors.shape, generator=rng, dtype=vectors.dtype)
    return vectors + 0.1 * strength * noise


def train_classifier(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    lr: float,
    rng: torch.Generator,
    epochs: int | None = None,
    steps: int | None = None,
    weight_decay: float = 0.0,
    batch_size: int = 64,
    parameters: Iterable[nn.Parameter] | None = None,
    augment: Augment | None = None,
    progress: Progress | None = None,
    keep_bn_statistics: bool = False,
) -> list[float]:
    """Minimise the cross-entropy of ``model(x)`` against ``y`` with Adam; the pass losses.

    The budget is ``epochs`` passes over the data, or ``steps`` optimiser steps on
    mini-batches of ``batch_size`` (passes repeat as needed). A step budget keeps the cost of
    fine-tuning bounded whatever the size of the training set; with up to ``batch_size``
    examples one step is one pass. Only ``parameters`` are optimised (all the model's by
    default). ``augment`` transforms each mini-batch's inputs. ``progress(pass, loss)`` is
    called after every pass. With ``keep_bn_statistics`` the batch-norm layers use (and keep)
    their running statistics — what fine-tuning on a handful of examples needs, where batch
    statistics would be noise.
    """
    if (epochs is None) == (steps is None):
        raise ValueError("give exactly one of epochs and steps")
    trainable = [p for p in (parameters or model.parameters()) if p.requires_grad]
    optimizer = torch.optim.Adam(trainable, lr=lr, weight_decay=weight_decay)
    history: list[float] = []
    model.train()
    if keep_bn_statistics:
        freeze_batch_norm(model)
    taken = 0
    while (epochs is not None and len(history) < epochs) or (steps is not None and taken < steps):
        total, count = 0.0, 0
        for index in minibatches(x.shape[0], batch_size, rng):
            if steps is not None and taken >= steps:
                break
            inputs = x[index] if augment is None else augment(x[index], rng)
            loss = F.cross_entropy(model(inputs), y[index])
            optimizer.zero_grad(set_to_none=True)
            torch.autograd.backward(loss)
            optimizer.step()
            taken += 1
            total += float(loss.detach()) * index.numel()
            count += index.numel()
        history.append(total / max(count, 1))
        if progress is not None:
            progress(len(history) - 1, history[-1])
    return history


def freeze_batch_norm(model: nn.Module) -> None:
    """Put every batch-norm layer of ``model`` in eval mode (running statistics, no updates)."""
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.eval()


def apply_in_batches(
    function: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, batch_size: int = 512
) -> torch.Tensor:
    """``function`` over ``x`` in batches, concatenated; for inference."""
    if x.shape[0] == 0:
        return function(x)
    return torch.cat([function(part) for part in torch.split(x, batch_size)])


def infer(model: nn.Module, x: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    """``model(x)`` in eval mode under :func:`torch.inference_mode`, in batches."""
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            return apply_in_batches(model, x, batch_size)
    finally:
        model.train(was_training)
