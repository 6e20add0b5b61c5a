"""MAML, first-order MAML and ANIL (learners.maml): exact meta-gradients, BN hygiene, learning."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.func import functional_call
from torch.nn import functional

from learners.backbones import MLP, Classifier
from learners.episodes import Episode, EpisodeSampler
from learners.errors import ConfigurationError
from learners.maml import adapt, meta_train_maml, outer_loss, predict_adapted

Tensors = dict[str, torch.Tensor]

pytestmark = pytest.mark.usefixtures("one_thread")


def tiny_task(seed: int = 0) -> tuple[nn.Module, Tensors, Episode]:
    """A float64 network without batch norm, its parameters, and a 2-way episode."""
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    params = {name: p.detach().clone().requires_grad_() for name, p in model.named_parameters()}
    g = torch.Generator().manual_seed(seed)
    labels = torch.tensor([0, 0, 0, 1, 1, 1])
    x = torch.randn(12, 3, generator=g, dtype=torch.float64)
    x[:6] += labels[:, None]
    x[6:] += labels[:, None]
    return model, params, Episode(x[:6], labels, x[6:], labels)


def bn_classifier(ways: int = 3, seed: int = 0) -> Classifier:
    torch.manual_seed(seed)
    return Classifier(MLP(5, widths=(8, 6)), nn.Linear(6, ways))


def bn_episode(ways: int = 3, seed: int = 0) -> Episode:
    g = torch.Generator().manual_seed(seed)
    support_y = torch.arange(ways).repeat_interleave(4)
    query_y = torch.arange(ways).repeat_interleave(3)
    means = 3.0 * torch.randn(ways, 5, generator=g)
    return Episode(
        means[support_y] + torch.randn(support_y.numel(), 5, generator=g),
        support_y,
        means[query_y] + torch.randn(query_y.numel(), 5, generator=g),
        query_y,
    )


# -- meta-gradients --------------------------------------------------------------------------

INNER = {"steps": 2, "inner_lr": 0.5}


def test_second_order_meta_gradient_matches_finite_differences() -> None:
    model, params, episode = tiny_task()
    loss, _ = outer_loss(model, params, {}, episode, first_order=False, **INNER)
    analytic = torch.autograd.grad(loss, list(params.values()))
    h = 1e-6
    for (name, value), gradient in zip(params.items(), analytic, strict=True):
        numeric = torch.zeros_like(value)
        for index in np.ndindex(*value.shape):
            shifted = []
            for sign in (1.0, -1.0):
                moved = value.detach().clone()
                moved[index] += sign * h
                at = params | {name: moved}
                shifted.append(outer_loss(model, at, {}, episode, first_order=False, **INNER)[0])
            numeric[index] = (shifted[0] - shifted[1]).detach() / (2 * h)
        np.testing.assert_allclose(
            gradient.numpy(), numeric.numpy(), rtol=1e-4, atol=1e-9, err_msg=name
        )


def test_first_order_gradient_is_the_query_gradient_at_the_adapted_parameters() -> None:
    model, params, episode = tiny_task()
    first, _ = outer_loss(model, params, {}, episode, first_order=True, **INNER)
    second, _ = outer_loss(model, params, {}, episode, first_order=False, **INNER)
    assert first.item() == pytest.approx(second.item(), rel=1e-12)  # same loss, other gradient
    fomaml = torch.autograd.grad(first, list(params.values()))
    maml = torch.autograd.grad(second, list(params.values()))

    adapted = adapt(
        model, params, {}, episode.support_x, episode.support_y, first_order=True, **INNER
    )
    constant = {name: value.detach().requires_grad_() for name, value in adapted.items()}
    query = functional.cross_entropy(
        predict_adapted(model, constant, {}, episode.support_x, episode.query_x), episode.query_y
    )
    expected = torch.autograd.grad(query, list(constant.values()))
    for a, b in zip(fomaml, expected, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)
    difference = torch.cat([(a - b).flatten() for a, b in zip(maml, fomaml, strict=True)])
    assert difference.norm() > 1e-3 * torch.cat([g.flatten() for g in maml]).norm()


def test_anil_adapts_the_head_only_and_still_meta_learns_the_body() -> None:
    model, params, episode = tiny_task()
    head = frozenset({"2.weight", "2.bias"})
    adapted = adapt(
        model,
        params,
        {},
        episode.support_x,
        episode.support_y,
        first_order=False,
        adapt_names=head,
        **INNER,
    )
    for name in params:
        if name in head:
            assert not torch.equal(adapted[name], params[name])
        else:
            assert adapted[name] is params[name]
    loss, _ = outer_loss(model, params, {}, episode, first_order=False, adapt_names=head, **INNER)
    body = torch.autograd.grad(loss, [params["0.weight"]])[0]
    assert body.abs().sum() > 0


# -- the inner loop ---------------------------------------------------------------------------


def test_adapt_lowers_the_support_loss_and_leaves_the_model_alone() -> None:
    model = bn_classifier().eval()
    episode = bn_episode()
    own_params = {k: v.detach().clone() for k, v in model.named_parameters()}
    own_buffers = {k: v.clone() for k, v in model.named_buffers()}
    params, buffers = dict(model.named_parameters()), dict(model.named_buffers())

    def support_loss(at: Tensors) -> float:
        logits = predict_adapted(model, at, buffers, episode.support_x, episode.support_x)
        return functional.cross_entropy(logits, episode.support_y).item()

    adapted = adapt(
        model,
        params,
        buffers,
        episode.support_x,
        episode.support_y,
        steps=5,
        inner_lr=0.2,
        first_order=False,
    )
    assert support_loss(adapted) < 0.5 * support_loss(params)
    for name, value in model.named_parameters():
        assert torch.equal(value, own_params[name]) and value.grad is None
    for name, value in model.named_buffers():  # running statistics and num_batches_tracked
        assert torch.equal(value, own_buffers[name]), name
    assert not any(m.training for m in model.modules())  # the eval mode is restored
    model.train()(episode.support_x)  # while an ordinary train-mode pass does change them
    assert not torch.equal(
        model.backbone.blocks[0][1].running_mean, own_buffers["backbone.blocks.0.1.running_mean"]
    )


def test_adapt_works_under_no_grad_and_on_plain_tensors() -> None:
    model, params, episode = tiny_task()
    plain = {name: value.detach() for name, value in params.items()}
    with torch.no_grad():
        adapted = adapt(
            model, plain, {}, episode.support_x, episode.support_y, first_order=True, **INNER
        )
    assert not torch.equal(adapted["0.weight"], plain["0.weight"])
    same = adapt(
        model,
        plain,
        {},
        episode.support_x,
        episode.support_y,
        steps=0,
        inner_lr=1.0,
        first_order=True,
    )
    assert all(same[name] is plain[name] for name in plain)


@pytest.mark.parametrize(
    "options",
    [{"steps": -1}, {"inner_lr": -0.1}, {"adapt_names": frozenset({"head.weight"})}],
    ids=["steps", "inner_lr", "adapt_names"],
)
def test_bad_inner_loop_options(options: dict[str, object]) -> None:
    model, params, episode = tiny_task()
    settings: dict[str, object] = {"steps": 1, "inner_lr": 0.1, "first_order": True} | options
    with pytest.raises(ConfigurationError) as caught:
        adapt(model, params, {}, episode.support_x, episode.support_y, **settings)
    assert caught.value.code == "learners.bad_parameter"


# -- per-task batch normalisation --------------------------------------------------------------


def test_queries_are_normalised_with_the_support_statistics() -> None:
    model, episode = bn_classifier(), bn_episode()
    # Parameters other than the model's own, to check the hooks read the swapped-in ones.
    params = {k: v.detach() + 0.1 * torch.randn_like(v) for k, v in model.named_parameters()}
    buffers = dict(model.named_buffers())
    logits = predict_adapted(model, params, buffers, episode.support_x, episode.query_x)
    one_by_one = torch.cat(
        [
            predict_adapted(model, params, buffers, episode.support_x, episode.query_x[i : i + 1])
            for i in range(episode.query_x.shape[0])
        ]
    )
    torch.testing.assert_close(logits, one_by_one)  # each query independent of the others
    # The support rows get exactly the train-mode (support batch statistics) forward pass.
    copies = {k: v.clone() for k, v in buffers.items()}
    with torch.no_grad():
        model.train()
        expected = functional_call(model, (params, copies), (episode.support_x,))
    support = predict_adapted(model, params, buffers, episode.support_x, episode.support_x)
    torch.testing.assert_close(support, expected)


# -- meta-training ----------------------------------------------------------------------------


def nuisance_blobs(n_classes: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """20 examples per class; classes differ in 4 of 16 features (means 6·N(0, I), unit noise).

    The other 12 features are noise of standard deviation 4 shared by every class, so a few
    gradient steps from a random network adapt poorly (~40–60% on 5-way 5-shot), while a
    meta-learned start that ignores them adapts well on new classes (another seed).
    """
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n_classes).repeat_interleave(20)
    signal = 6.0 * torch.randn(n_classes, 4, generator=g)[y] + torch.randn(
        y.numel(), 4, generator=g
    )
    return torch.cat([signal, 4.0 * torch.randn(y.numel(), 12, generator=g)], dim=1), y


@pytest.mark.parametrize(
    ("first_order", "anil"),
    [(False, False), (True, False), (False, True)],
    ids=["maml", "fomaml", "anil"],
)
def test_meta_training_improves_adaptation_to_new_classes(first_order: bool, anil: bool) -> None:
    inner = {"steps": 3, "inner_lr": 0.4}
    train_x, train_y = nuisance_blobs(30, seed=0)
    test_x, test_y = nuisance_blobs(20, seed=1)
    torch.manual_seed(0)
    model = Classifier(MLP(16, widths=(32, 16)), nn.Linear(16, 5))
    head = frozenset({"head.weight", "head.bias"}) if anil else None

    def held_out_accuracy() -> float:
        draw = EpisodeSampler(
            test_x, test_y, ways=5, shots=5, queries=10, generator=torch.Generator().manual_seed(1)
        )
        params, buffers = dict(model.named_parameters()), dict(model.named_buffers())
        return float(
            np.mean(
                [
                    outer_loss(
                        model, params, buffers, e, first_order=True, adapt_names=head, **inner
                    )[1]
                    for e in draw.sample_batch(30)
                ]
            )
        )

    before = held_out_accuracy()
    draw = EpisodeSampler(
        train_x, train_y, ways=5, shots=5, queries=5, generator=torch.Generator().manual_seed(0)
    )
    seen: list[int] = []
    history = meta_train_maml(
        model,
        draw,
        episodes=150,
        meta_batch=2,
        outer_lr=1e-2,
        first_order=first_order,
        anil=anil,
        callback=lambda step, loss, accuracy: seen.append(step),
        **inner,
    )
    assert seen == list(range(150)) and len(history) == 150
    assert np.mean(history[-20:]) < 0.3 * np.mean(history[:20])
    after = held_out_accuracy()
    assert before < 0.7 and after >= 0.9, (before, after)


def test_meta_training_needs_one_head_output_per_way() -> None:
    x, y = nuisance_blobs(6, seed=0)
    draw = EpisodeSampler(x, y, ways=3, shots=2, queries=2, generator=torch.Generator())
    model = Classifier(MLP(16, widths=(8,)), nn.Linear(8, 5))
    with pytest.raises(ConfigurationError) as caught:
        meta_train_maml(model, draw, episodes=1)
    assert caught.value.code == "learners.bad_parameter"
    assert "3 for 3-way" in caught.value.message
