"""MAML and first-order MAML (Finn, Abbeel & Levine, ICML 2017) and ANIL (Raghu et al., ICLR 2020).

Model-Agnostic Meta-Learning looks for meta-parameters ``θ`` from which a few gradient steps
on a task's support set give a good model for that task's query set. For a task ``τ`` the
*inner loop* takes ``s`` steps of plain gradient descent with step size ``α`` on the support
cross-entropy::

    θ'_0 = θ,   θ'_{j+1} = θ'_j − α ∇L_support(θ'_j),   θ' = θ'_s

and the *outer loop* moves ``θ`` down the query loss of the adapted parameters, averaged over a
meta-batch of tasks, with Adam (step size ``β``)::

    θ ← θ − β · Adam( (1/B) Σ_τ ∇_θ L_query,τ(θ'_τ(θ)) )

The meta-gradient goes *through* the inner loop. For one step, by the chain rule,
``∇_θ L_query(θ') = (I − α ∇²L_support(θ)) ∇L_query(θ')``: the second-order form keeps the
Hessian-vector products (autograd differentiates the inner gradients, which are computed with
``create_graph=True``). *First-order MAML* (FOMAML, in the same paper) drops them, treating the
inner gradients as constants, so that ``∂θ'/∂θ = I`` and the meta-gradient is simply
``∇L_query(θ')``, the gradient of the query loss at the adapted parameters.

*ANIL* ("Almost No Inner Loop", Raghu, Raghu, Bengio & Vinyals, ICLR 2020) adapts only the
head in the inner loop; the body is still meta-learned by the outer loop (here with
second-order or first-order gradients, as ``first_order`` says).

Everything is functional: parameters and buffers are dictionaries passed to
``torch.func.functional_call``; the inner gradients come from ``torch.autograd.grad``. Nothing
is stored on the model, and no third-party library (``higher``, ``learn2learn``) is needed.

Batch normalisation, per task (the choice matters, and is stated here once):

* **Adaptation** runs the model in train mode, so every layer normalises with the batch
  statistics of the task's support set; it runs on a *copy* of the buffers made per task, so
  the in-place running-statistics update of ``BatchNorm`` touches the copy, never the shared
  model. The shared running statistics are therefore left as they were (MAML never uses them).
* **Prediction** (:func:`predict_adapted`, hence the outer query loss too) normalises query
  examples with the statistics *of the support set*, not of the query batch. Finn et al.'s
  code normalised with the query batch's statistics ("transductive batch norm"), which makes a
  query's prediction depend on the other queries and fails for a single query; normalising
  with the support statistics ("MetaBN" in Bronskill et al., "TaskNorm: Rethinking Batch
  Normalization for Meta-Learning", ICML 2020) makes each query's prediction independent of
  the rest of the query batch, and is the same normalisation the inner loop adapted under.
  It is implemented with temporary forward hooks on the ``BatchNorm`` layers that, in one
  forward pass of support and query together, renormalise every example with the mean and
  (biased) variance of the support rows, differentiably.

Deviations from the papers: no learned per-parameter step sizes (Meta-SGD) or other MAML++
refinements; the meta-batch is a loop over tasks (``vmap`` would conflict with the in-place
running-statistics update of ``BatchNorm``), with one backward pass per task so that only one
task's second-order graph is alive at a time.

``functional_call`` and the hooks swap attributes of ``model`` for the duration of a call: do
not call these functions on the *same* model object from several threads at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import partial
from typing import Any

import torch
from torch import nn
from torch.func import functional_call
from torch.nn import functional
from torch.nn.modules.batchnorm import _BatchNorm

from learners.backbones import Classifier
from learners.episodes import (
    Callback,
    Episode,
    EpisodeSampler,
    accuracy,
    check_training_options,
    train_mode,
)
from learners.errors import BAD_PARAMETER, ConfigurationError

Params = Mapping[str, torch.Tensor]
"""Parameters (or buffers) by their ``named_parameters`` (``named_buffers``) names."""

DEFAULT_INNER_LR = 0.05
"""Default inner step size ``α`` of :func:`meta_train_maml` (see there why)."""


def adapt(
    model: nn.Module,
    params: Params,
    buffers: Params,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    steps: int,
    inner_lr: float,
    first_order: bool,
    adapt_names: frozenset[str] | None = None,
) -> dict[str, torch.Tensor]:
    """The inner loop: ``steps`` steps ``θ' ← θ' − α ∇ L_support(θ')`` from ``θ = params``.

    ``L_support`` is the cross-entropy of ``functional_call(model, (params, task_buffers),
    (x,))`` against ``y``, with the model in train mode and ``task_buffers`` a copy of
    ``buffers`` (module docstring). Gradients are enabled even inside ``torch.no_grad()``, so
    the function also serves at test time (then prefer ``first_order=True``).

    Args:
        model: the network; its own parameters and buffers are not modified (nor used, but
            for any missing from ``params`` or ``buffers``).
        params: the starting parameters ``θ`` by name (tensors that need no gradient are
            fine: they are treated as leaves).
        buffers: the buffers by name (batch-norm running statistics); copied, not modified.
        x: support inputs.
        y: support labels (episode codes).
        steps: number of gradient steps ``s`` (0 returns the tensors of ``params`` as they are).
        inner_lr: step size ``α``.
        first_order: ``False`` keeps the graph of the inner gradients (``create_graph=True``)
            so that the meta-gradient holds the second-order terms; ``True`` treats them as
            constants (FOMAML).
        adapt_names: the parameters to adapt (ANIL: those of the head); the others are
            returned as the same tensor objects. ``None`` adapts every parameter.

    Returns:
        The adapted parameters ``θ'`` by name, differentiable with respect to ``params``.

    Raises:
        ConfigurationError: ``learners.bad_parameter`` for negative ``steps`` or ``inner_lr``,
            or names in ``adapt_names`` that are not in ``params``.
    """
    if steps < 0 or inner_lr < 0:
        raise ConfigurationError(
            f"The inner loop needs steps >= 0 and inner_lr >= 0, got {steps} and {inner_lr}.",
            code=BAD_PARAMETER,
        )
    names = _adapted_names(params, adapt_names)
    if steps == 0 or not names:
        return dict(params)
    leaves = {name for name in names if not params[name].requires_grad}
    fast = {
        name: value.detach().requires_grad_() if name in leaves else value
        for name, value in params.items()
    }
    task_buffers = _copy(buffers)
    with torch.enable_grad():
        for _ in range(steps):
            loss = functional.cross_entropy(_task_forward(model, fast, task_buffers, x), y)
            gradients = torch.autograd.grad(
                loss,
                [fast[name] for name in names],
                create_graph=not first_order,
                allow_unused=True,
                materialize_grads=True,
            )
            fast |= {
                name: fast[name] - inner_lr * gradient
                for name, gradient in zip(names, gradients, strict=True)
            }
    return fast


def predict_adapted(
    model: nn.Module,
    params: Params,
    buffers: Params,
    x_support: torch.Tensor,
    x_query: torch.Tensor,
) -> torch.Tensor:
    """Query logits of ``model`` with (adapted) ``params``, batch-normalised by the support set.

    Support and query go through the model in one forward pass (train mode, copied buffers);
    every ``BatchNorm`` layer normalises all rows with the mean and biased variance of the
    support rows (module docstring). Each query's logits are therefore independent of the other
    queries, and the support rows see exactly the normalisation of the inner loop.

    Returns:
        ``(len(x_query), n_outputs)`` logits, differentiable with respect to ``params``.
    """
    n_support = x_support.shape[0]
    with _support_statistics(model, n_support):
        logits = _task_forward(model, dict(params), _copy(buffers), torch.cat([x_support, x_query]))
    return logits[n_support:]


def outer_loss(
    model: nn.Module,
    params: Params,
    buffers: Params,
    episode: Episode,
    *,
    steps: int,
    inner_lr: float,
    first_order: bool,
    adapt_names: frozenset[str] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``L_query(θ'(θ))``: adapt on the episode's support set, then score its query set.

    Returns:
        ``(query_loss, query_accuracy)``: the query cross-entropy of the adapted parameters,
        differentiable with respect to ``params`` (through the inner loop, see
        :func:`adapt`), and the query accuracy (a detached 0-dim tensor).
    """
    fast = adapt(
        model,
        params,
        buffers,
        episode.support_x,
        episode.support_y,
        steps=steps,
        inner_lr=inner_lr,
        first_order=first_order,
        adapt_names=adapt_names,
    )
    logits = predict_adapted(model, fast, buffers, episode.support_x, episode.query_x)
    return functional.cross_entropy(logits, episode.query_y), accuracy(logits, episode.query_y)


def meta_train_maml(
    model: Classifier,
    sampler: EpisodeSampler,
    *,
    episodes: int,
    meta_batch: int = 4,
    outer_lr: float = 1e-3,
    inner_lr: float = DEFAULT_INNER_LR,
    steps: int = 5,
    first_order: bool = False,
    anil: bool = False,
    callback: Callback | None = None,
) -> list[float]:
    """Meta-train ``model`` with MAML, FOMAML (``first_order``) or ANIL (``anil``).

    Each of the ``episodes`` outer steps draws ``meta_batch`` tasks from ``sampler``, computes
    every task's :func:`outer_loss` and takes one Adam step on the mean (gradients are
    accumulated task by task). ANIL adapts the head's parameters only.

    Defaults: ``outer_lr = 10⁻³`` (Adam) and ``steps = 5`` are Finn et al.'s settings;
    ``meta_batch = 4`` is their miniImageNet meta-batch. Their inner step size was 0.4 for
    Omniglot (one step) and 0.01 for miniImageNet (five steps). A gradient step on a linear
    head moves the logits by about ``α · ‖f‖²`` (``f`` the embedding), so the right ``α``
    shrinks as the embedding grows, and the backbones here differ: Conv-4's max-pooled
    64-dimensional features are larger than the MLP's. In short trial runs (FOMAML, 5-way
    5-shot, five steps, 100–300 updates), Conv-4 on glyphs did best near ``α`` = 0.01–0.03 and
    stalled at 0.4, while the MLP on vectors did best at 0.1–0.4 and stalled at 0.01; 0.05 came
    within a few points of the best for both. It is a starting point for the tuner, not a
    tuned value.

    Args:
        model: a :class:`~learners.backbones.Classifier` whose head has ``sampler.ways``
            outputs (one per episode code).
        sampler: the source of training tasks.
        episodes: number of outer (meta-) updates; ``episodes · meta_batch`` tasks are drawn.
        meta_batch: tasks per update.
        outer_lr: Adam's step size ``β``.
        inner_lr: the inner step size ``α``.
        steps: inner gradient steps per task.
        first_order: drop the second-order terms (FOMAML).
        anil: adapt the head only in the inner loop (ANIL).
        callback: ``callback(step, loss, accuracy)`` after every update, with the meta-batch's
            mean query loss and accuracy.

    Returns:
        The mean query loss of every update, in order.

    Raises:
        ConfigurationError: ``learners.bad_parameter`` for a non-positive option or a head
            whose number of outputs is not ``sampler.ways``.
    """
    check_training_options(
        episodes=episodes,
        meta_batch=meta_batch,
        outer_lr=outer_lr,
        inner_lr=inner_lr,
        steps=steps,
    )
    _check_head(model, sampler.ways)
    adapt_names = (
        frozenset(f"head.{name}" for name, _ in model.head.named_parameters()) if anil else None
    )
    optimiser = torch.optim.Adam(model.parameters(), lr=outer_lr)
    params = dict(model.named_parameters())
    buffers = dict(model.named_buffers())
    history: list[float] = []
    for step in range(episodes):
        optimiser.zero_grad(set_to_none=True)
        losses, accuracies = [], []
        for episode in sampler.sample_batch(meta_batch):
            loss, correct = outer_loss(
                model,
                params,
                buffers,
                episode,
                steps=steps,
                inner_lr=inner_lr,
                first_order=first_order,
                adapt_names=adapt_names,
            )
            torch.autograd.backward(loss / meta_batch)
            losses.append(float(loss.detach()))
            accuracies.append(float(correct))
        optimiser.step()
        history.append(sum(losses) / meta_batch)
        if callback is not None:
            callback(step, history[-1], sum(accuracies) / meta_batch)
    return history


# -- internals --------------------------------------------------------------------------------


def _adapted_names(params: Params, adapt_names: frozenset[str] | None) -> list[str]:
    """The names to adapt, in the order of ``params``; unknown names are an error."""
    if adapt_names is None:
        return list(params)
    unknown = sorted(adapt_names - params.keys())
    if unknown:
        raise ConfigurationError(
            f"adapt_names lists parameters the model does not have: {unknown}.",
            code=BAD_PARAMETER,
        )
    return [name for name in params if name in adapt_names]


def _copy(buffers: Params) -> dict[str, torch.Tensor]:
    """A per-task copy of the buffers, which a train-mode forward pass may update in place."""
    return {name: value.clone() for name, value in buffers.items()}


def _task_forward(
    model: nn.Module,
    params: dict[str, torch.Tensor],
    task_buffers: dict[str, torch.Tensor],
    x: torch.Tensor,
) -> torch.Tensor:
    """``model(x)`` with ``params`` and ``task_buffers``, in train mode (task statistics)."""
    with train_mode(model):
        output: torch.Tensor = functional_call(model, (params, task_buffers), (x,))
    return output


def _support_normalised(
    module: _BatchNorm, inputs: tuple[Any, ...], output: Any, *, n_support: int
) -> torch.Tensor:
    """Forward hook: the layer's output, normalised with its first ``n_support`` rows' moments.

    ``(x − μ_S) / √(σ²_S + ε) · γ + β`` with ``μ_S``, ``σ²_S`` the per-channel mean and biased
    variance of the support rows; ``γ``, ``β`` are read from the module during the call, i.e.
    the parameters ``functional_call`` swapped in.
    """
    x: torch.Tensor = inputs[0]
    dims = [0, *range(2, x.ndim)]
    support = x[:n_support]
    mean = support.mean(dims, keepdim=True)
    variance = support.var(dims, unbiased=False, keepdim=True)
    normalised = (x - mean) * torch.rsqrt(variance + module.eps)
    if module.weight is not None:
        normalised = normalised * module.weight.reshape(mean.shape)
    if module.bias is not None:
        normalised = normalised + module.bias.reshape(mean.shape)
    return normalised


@contextmanager
def _support_statistics(model: nn.Module, n_support: int) -> Iterator[None]:
    """For the block, every ``BatchNorm`` layer of ``model`` uses the support rows' moments."""
    hook: Callable[[_BatchNorm, tuple[Any, ...], Any], torch.Tensor] = partial(
        _support_normalised, n_support=n_support
    )
    handles = [
        module.register_forward_hook(hook)
        for module in model.modules()
        if isinstance(module, _BatchNorm)
    ]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def _check_head(model: Classifier, ways: int) -> None:
    """Raise ``learners.bad_parameter`` unless the head has one output per episode code."""
    reference = next(model.parameters())
    probe = torch.zeros(
        2, model.backbone.embedding_dim, dtype=reference.dtype, device=reference.device
    )
    with torch.no_grad():
        outputs = model.head(probe).shape[-1]
    if outputs != ways:
        raise ConfigurationError(
            f"MAML needs a head with one output per episode code: {ways} for {ways}-way "
            f"episodes, but this head has {outputs}.",
            code=BAD_PARAMETER,
        )
