"""Few-shot episodes: N-way K-shot classification tasks drawn from a labelled pool.

An *episode* (Vinyals et al., "Matching Networks for One Shot Learning", NeurIPS 2016) is a
small classification task built from a larger labelled set: choose ``ways`` classes at random,
then ``shots`` support and ``queries`` query examples of each, all distinct. The classes are
relabelled with *episode codes* ``0 … ways−1`` in a random order, so that a meta-learner cannot
memorise a fixed class→output assignment and has to learn from the support set.

:class:`EpisodeSampler` precomputes a padded table of the example indices of every class, so
that drawing an episode is a handful of tensor operations (one random key per candidate
example, one ``topk``), with no Python loop over examples or classes. Every random draw comes
from the ``torch.Generator`` it is given: the same seed gives the same episodes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn

from learners.errors import (
    BAD_PARAMETER,
    BAD_TRAINING_DATA,
    ConfigurationError,
    InvalidInputError,
)

Augment = Callable[[torch.Tensor, torch.Generator], torch.Tensor]
"""An augmentation: a batch of inputs and a generator in, a batch of the same shape out."""

Callback = Callable[[int, float, float], None]
"""``callback(step, loss, accuracy)`` of the meta-training loops: called after every update
with its index ``step`` (``0 … episodes−1``) and the update's loss and query accuracy."""


@dataclass(frozen=True, eq=False)
class Episode:
    """One N-way few-shot task; labels are episode codes ``0 … ways−1``.

    The examples are grouped by code: the support set holds ``shots`` rows of code 0, then
    ``shots`` of code 1, and so on; the query set likewise with ``queries`` rows per code.
    Episodes compare by identity (tensors have no single truth value for ``==``).

    Attributes:
        support_x: ``(ways·shots, …)`` support inputs.
        support_y: ``(ways·shots,)`` int64 episode codes of the support inputs.
        query_x: ``(ways·queries, …)`` query inputs.
        query_y: ``(ways·queries,)`` int64 episode codes of the query inputs.
        classes: ``(ways,)`` the original label of each episode code (``classes[c]`` is the
            label that code ``c`` stands for), or ``None`` for an episode built by hand.
    """

    support_x: torch.Tensor
    support_y: torch.Tensor
    query_x: torch.Tensor
    query_y: torch.Tensor
    classes: torch.Tensor | None = None

    @property
    def ways(self) -> int:
        """Number of classes of the episode."""
        return int(self.support_y.max().item()) + 1


class EpisodeSampler:
    """Draws :class:`Episode` objects of ``ways`` classes, ``shots`` + ``queries`` examples each.

    Only classes with at least ``shots + queries`` examples take part. The class→code
    assignment is a fresh random permutation in every episode.

    Args:
        x: ``(N, …)`` the pool of inputs (vectors or images).
        y: ``(N,)`` integer labels of the pool (any integer values).
        ways: classes per episode.
        shots: support examples per class.
        queries: query examples per class.
        generator: the source of every random draw (seed it for reproducible episodes).
        augment: optional augmentation applied to the support and query inputs of every
            episode (in one call, with the sampler's generator).

    Raises:
        ConfigurationError: ``learners.bad_parameter`` if ``ways``, ``shots`` or ``queries``
            is below 1, or ``x`` and ``y`` do not fit each other.
        InvalidInputError: ``learners.bad_training_data`` if fewer than ``ways`` classes
            have ``shots + queries`` examples.
    """

    def __init__(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        *,
        ways: int,
        shots: int,
        queries: int,
        generator: torch.Generator,
        augment: Augment | None = None,
    ) -> None:
        for name, value in (("ways", ways), ("shots", shots), ("queries", queries)):
            if value < 1:
                raise ConfigurationError(
                    f"An episode needs {name} >= 1, got {value}.", code=BAD_PARAMETER
                )
        if y.ndim != 1 or x.shape[0] != y.shape[0] or y.dtype.is_floating_point:
            raise ConfigurationError(
                f"Expected integer labels of shape ({x.shape[0]},) for {x.shape[0]} inputs, "
                f"got {tuple(y.shape)} of {y.dtype}.",
                code=BAD_PARAMETER,
            )
        self.x = x
        self.ways = ways
        self.shots = shots
        self.queries = queries
        self.generator = generator
        self.augment = augment

        labels, codes, counts = torch.unique(y.cpu(), return_inverse=True, return_counts=True)
        per_class = shots + queries
        eligible = counts >= per_class
        if int(eligible.sum()) < ways:
            raise InvalidInputError(
                f"A {ways}-way episode with {shots} support and {queries} query examples per "
                f"class needs {ways} classes with at least {per_class} examples each; only "
                f"{int(eligible.sum())} of the {labels.numel()} classes have that many "
                f"(largest class: {int(counts.max()) if counts.numel() else 0} examples). "
                "Lower ways, shots or queries, or give more examples per class.",
                code=BAD_TRAINING_DATA,
                ways=ways,
                examples_per_class=per_class,
                eligible_classes=int(eligible.sum()),
            )
        # Padded index table: row c holds the indices of class c, then -1 up to the largest
        # class. A stable sort by class keeps each class's indices in their original order.
        order = torch.sort(codes, stable=True).indices
        starts = torch.cumsum(counts, 0) - counts
        rank = torch.arange(y.numel()) - starts[codes[order]]
        table = torch.full((labels.numel(), int(counts.max())), -1, dtype=torch.long)
        table[codes[order], rank] = order
        self.classes = labels[eligible]
        """The labels of the classes that can appear in an episode."""
        self._table = table[eligible]

    def sample(self) -> Episode:
        """Draw one episode (see the class docstring)."""
        per_class = self.shots + self.queries
        rows = torch.randperm(self.classes.numel(), generator=self.generator)[: self.ways]
        table = self._table[rows]
        # Distinct examples per class without a loop: a uniform random key for every real
        # entry of the class's row (-1 for the padding), and the per_class largest keys.
        keys = torch.rand(table.shape, generator=self.generator)
        keys = keys.masked_fill(table < 0, -1.0)
        picked = table.gather(1, keys.topk(per_class, dim=1).indices)
        support = picked[:, : self.shots].reshape(-1).to(self.x.device)
        query = picked[:, self.shots :].reshape(-1).to(self.x.device)
        inputs = self.x[torch.cat([support, query])]
        if self.augment is not None:
            inputs = self.augment(inputs, self.generator)
        codes = torch.arange(self.ways, device=self.x.device)
        return Episode(
            support_x=inputs[: support.numel()],
            support_y=codes.repeat_interleave(self.shots),
            query_x=inputs[support.numel() :],
            query_y=codes.repeat_interleave(self.queries),
            classes=self.classes[rows],
        )

    def sample_batch(self, n: int) -> list[Episode]:
        """Draw ``n`` episodes, one after the other from the same generator."""
        return [self.sample() for _ in range(n)]


# -- helpers shared by the episodic training loops (protonet, maml) ------------------------------


def check_training_options(*, episodes: int, **positive: float) -> None:
    """Validate a training loop's options: ``episodes >= 0`` and every other value ``> 0``.

    Raises:
        ConfigurationError: ``learners.bad_parameter`` naming the offending option.
    """
    if episodes < 0:
        raise ConfigurationError(f"episodes must be >= 0, got {episodes}.", code=BAD_PARAMETER)
    for name, value in positive.items():
        if not value > 0:
            raise ConfigurationError(f"{name} must be > 0, got {value}.", code=BAD_PARAMETER)


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Fraction of rows whose largest logit is at their label, as a detached 0-dim tensor."""
    return (logits.argmax(1) == labels).float().mean().detach()


@contextmanager
def train_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Put ``model`` in train mode for the block, then restore every submodule's own mode."""
    modes = [(module, module.training) for module in model.modules()]
    model.train()
    try:
        yield model
    finally:
        for module, training in modes:
            module.training = training
