"""Prototypical Networks (Snell, Swersky & Zemel, NeurIPS 2017).

A backbone ``f_φ`` embeds every example; each class ``k`` of an episode is represented by the
*prototype* ``c_k``, the mean embedding of its support examples ``S_k``, and a query ``x`` is
classified by a softmax over negative squared Euclidean distances to the prototypes::

    c_k = (1/|S_k|) Σ_{(x_i, y_i) ∈ S_k} f_φ(x_i)
    p_φ(y = k | x) = exp(−d(f_φ(x), c_k) / T) / Σ_k' exp(−d(f_φ(x), c_k') / T),
    d(z, c) = ‖z − c‖²

Meta-training minimises the query cross-entropy ``J(φ) = −log p_φ(y = k | x)`` averaged over
the query set of each episode, one episode per Adam step.

Deviations from the paper, all optional and off by default:

* the temperature ``T`` (metric scaling, Oreshkin et al., "TADAM", NeurIPS 2018); ``T = 1``
  is the paper's model;
* the paper halves the learning rate every 2000 episodes; :func:`meta_train_protonet` keeps it
  constant (a schedule belongs to the caller, who knows the budget), and offers weight decay.

Batch normalisation: as in the authors' implementation, support and query examples are
embedded in one forward pass in train mode, so the batch statistics are those of the whole
episode (transductive over the episode's query set).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional

from learners.episodes import (
    Callback,
    Episode,
    EpisodeSampler,
    accuracy,
    check_training_options,
    train_mode,
)
from learners.errors import BAD_TRAINING_DATA, InvalidInputError


def prototypes(embeddings: torch.Tensor, labels: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Class means ``c_k = (1/|S_k|) Σ_{y_i = k} z_i`` of ``(N, d)`` embeddings, as ``(K, d)``.

    Computed as one matrix product: ``onehot(y)ᵀ · Z`` divided by the class counts.

    Raises:
        InvalidInputError: ``learners.bad_training_data`` if a label is outside
            ``0 … n_classes−1`` or a class has no example.
    """
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= n_classes):
        raise InvalidInputError(
            f"Labels must be episode codes 0 … {n_classes - 1}; got values from "
            f"{int(labels.min())} to {int(labels.max())}.",
            code=BAD_TRAINING_DATA,
        )
    one_hot = functional.one_hot(labels, n_classes).to(embeddings.dtype)
    counts = one_hot.sum(0)
    if bool((counts == 0).any()):
        missing = torch.nonzero(counts == 0).flatten().tolist()
        raise InvalidInputError(
            f"Every class needs at least one support example; classes {missing} have none.",
            code=BAD_TRAINING_DATA,
        )
    return (one_hot.T @ embeddings) / counts[:, None]


def prototype_logits(
    query_embeddings: torch.Tensor, prototypes: torch.Tensor, temperature: float = 1.0
) -> torch.Tensor:
    """Logits ``−‖q − c_k‖² / T`` of ``(M, d)`` queries against ``(K, d)`` prototypes, ``(M, K)``.

    The squared distance is expanded as ``‖q‖² − 2 q·c + ‖c‖²`` (one matrix product) and
    clamped at 0 against rounding; unlike ``torch.cdist(...)²`` it never takes a square root,
    whose gradient is infinite at distance 0.
    """
    squared = (
        query_embeddings.pow(2).sum(1, keepdim=True)
        - 2.0 * query_embeddings @ prototypes.T
        + prototypes.pow(2).sum(1)[None, :]
    ).clamp_min(0.0)
    return -squared / temperature


def episode_loss(
    backbone: nn.Module, episode: Episode, temperature: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Query cross-entropy and accuracy of a Prototypical Network on one episode.

    Support and query inputs go through ``backbone`` in one forward pass (see the module
    docstring for what that means for batch normalisation).

    Returns:
        ``(loss, accuracy)``: the mean query cross-entropy (differentiable) and the fraction of
        queries whose nearest prototype is their class (a detached 0-dim tensor).
    """
    n_support = episode.support_x.shape[0]
    embeddings = backbone(torch.cat([episode.support_x, episode.query_x]))
    centres = prototypes(embeddings[:n_support], episode.support_y, episode.ways)
    logits = prototype_logits(embeddings[n_support:], centres, temperature)
    loss = functional.cross_entropy(logits, episode.query_y)
    return loss, accuracy(logits, episode.query_y)


def meta_train_protonet(
    backbone: nn.Module,
    sampler: EpisodeSampler,
    *,
    episodes: int,
    lr: float = 1e-3,
    temperature: float = 1.0,
    weight_decay: float = 0.0,
    callback: Callback | None = None,
) -> list[float]:
    """Meta-train ``backbone`` as a Prototypical Network on ``episodes`` sampled episodes.

    One Adam step (Kingma & Ba 2015; the paper's optimiser, ``lr = 10⁻³``) per episode on the
    query cross-entropy of :func:`episode_loss`, with the backbone in train mode; its previous
    mode is restored at the end.

    Returns:
        The loss of every episode, in order.

    Raises:
        ConfigurationError: ``learners.bad_parameter`` for a negative ``episodes`` or a
            non-positive ``lr`` or ``temperature``.
    """
    check_training_options(episodes=episodes, lr=lr, temperature=temperature)
    optimiser = torch.optim.Adam(backbone.parameters(), lr=lr, weight_decay=weight_decay)
    history: list[float] = []
    with train_mode(backbone):
        for step in range(episodes):
            loss, correct = episode_loss(backbone, sampler.sample(), temperature)
            optimiser.zero_grad(set_to_none=True)
            torch.autograd.backward(loss)
            optimiser.step()
            history.append(float(loss.detach()))
            if callback is not None:
                callback(step, history[-1], float(correct))
    return history
