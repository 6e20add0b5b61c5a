"""Prototypical Networks (learners.protonet) against independent numpy/scipy computations."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.spatial.distance import cdist
from torch import nn

from learners.backbones import MLP
from learners.episodes import EpisodeSampler
from learners.errors import ConfigurationError, InvalidInputError
from learners.protonet import episode_loss, meta_train_protonet, prototype_logits, prototypes

pytestmark = pytest.mark.usefixtures("one_thread")


def nuisance_blobs(n_classes: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """30 examples of each Gaussian class; the classes differ in 8 of 32 features only.

    Class means are 4·N(0, I) in the first 8 features with unit noise; the other 24 are
    noise of standard deviation 3 for every class. Raw nearest-centroid is poor (~60% on
    5-way 5-shot); an embedding that learns to drop the 24 nuisance features transfers to
    new classes (another seed).
    """
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n_classes).repeat_interleave(30)
    signal = 4.0 * torch.randn(n_classes, 8, generator=g)[y] + torch.randn(
        y.numel(), 8, generator=g
    )
    return torch.cat([signal, 3.0 * torch.randn(y.numel(), 24, generator=g)], dim=1), y


def test_prototypes_are_class_means() -> None:
    g = torch.Generator().manual_seed(0)
    z = torch.randn(17, 6, generator=g, dtype=torch.float64)
    labels = torch.randint(0, 4, (17,), generator=g)
    labels[:4] = torch.arange(4)  # every class present
    expected = np.stack([z.numpy()[labels.numpy() == k].mean(axis=0) for k in range(4)])
    np.testing.assert_allclose(prototypes(z, labels, 4).numpy(), expected, rtol=1e-12)


@pytest.mark.parametrize("labels", [[0, 0, 2, 2], [0, 1, 2, 4], [-1, 0, 1, 2]])
def test_prototypes_need_every_class_and_valid_codes(labels: list[int]) -> None:
    with pytest.raises(InvalidInputError) as caught:
        prototypes(torch.zeros(4, 2), torch.tensor(labels), 3)
    assert caught.value.code == "learners.bad_training_data"


@pytest.mark.parametrize("temperature", [1.0, 0.25])
def test_logits_are_negative_squared_distances(temperature: float) -> None:
    g = torch.Generator().manual_seed(1)
    q = torch.randn(9, 5, generator=g, dtype=torch.float64)
    c = torch.randn(3, 5, generator=g, dtype=torch.float64)
    expected = -cdist(q.numpy(), c.numpy(), "sqeuclidean") / temperature
    np.testing.assert_allclose(prototype_logits(q, c, temperature).numpy(), expected, rtol=1e-10)


def test_gradient_is_finite_when_a_query_sits_on_its_prototype() -> None:
    c = torch.randn(3, 4, requires_grad=True)
    logits = prototype_logits(c.detach().clone().requires_grad_(), c)
    assert logits.diagonal().abs().max() < 1e-5  # 0 up to rounding, never negative distance
    assert (logits <= 0).all()
    logits.sum().backward()
    assert c.grad is not None and torch.isfinite(c.grad).all()


def test_predictions_are_nearest_centroids_of_the_embeddings() -> None:
    torch.manual_seed(0)
    backbone = MLP(32, widths=(16, 8)).train()
    x, y = nuisance_blobs(10, seed=2)
    draw = EpisodeSampler(x, y, ways=5, shots=3, queries=7, generator=torch.Generator())
    for episode in draw.sample_batch(5):
        with torch.no_grad():
            loss, accuracy = episode_loss(backbone, episode)
            z = backbone(torch.cat([episode.support_x, episode.query_x])).numpy()
        support, query = z[: episode.support_y.numel()], z[episode.support_y.numel() :]
        codes = episode.support_y.numpy()
        centres = np.stack([support[codes == k].mean(axis=0) for k in range(5)])
        nearest = cdist(query, centres, "sqeuclidean").argmin(axis=1)
        logits = prototype_logits(
            torch.from_numpy(query), prototypes(torch.from_numpy(support), episode.support_y, 5)
        )
        np.testing.assert_array_equal(logits.argmax(1).numpy(), nearest)
        assert accuracy.item() == pytest.approx(np.mean(nearest == episode.query_y.numpy()))
        probabilities = torch.softmax(logits, 1)[torch.arange(35), episode.query_y]
        assert loss.item() == pytest.approx(-probabilities.log().mean().item(), rel=1e-5)


def test_meta_training_learns_an_embedding_for_new_classes() -> None:
    train_x, train_y = nuisance_blobs(40, seed=0)
    test_x, test_y = nuisance_blobs(20, seed=1)  # other classes: other means

    def held_out_accuracy(backbone: nn.Module) -> float:
        draw = EpisodeSampler(
            test_x, test_y, ways=5, shots=5, queries=10, generator=torch.Generator().manual_seed(1)
        )
        backbone.eval()
        with torch.no_grad():
            return float(np.mean([episode_loss(backbone, e)[1] for e in draw.sample_batch(40)]))

    torch.manual_seed(0)
    backbone = MLP(32, widths=(64, 32))
    before = held_out_accuracy(backbone)
    seen: list[tuple[int, float, float]] = []
    draw = EpisodeSampler(
        train_x, train_y, ways=5, shots=5, queries=10, generator=torch.Generator().manual_seed(0)
    )
    history = meta_train_protonet(
        backbone, draw, episodes=200, lr=3e-3, callback=lambda *report: seen.append(report)
    )
    assert len(history) == 200 and [s[0] for s in seen] == list(range(200))
    assert np.mean(history[-20:]) < 0.25 * np.mean(history[:20])
    assert not backbone.training  # the mode it was in is restored
    after = held_out_accuracy(backbone)
    assert before < 0.8 and after >= 0.95, (before, after)


def test_training_is_deterministic_and_validates_options() -> None:
    x, y = nuisance_blobs(8, seed=0)

    def run() -> list[float]:
        torch.manual_seed(0)
        draw = EpisodeSampler(x, y, ways=3, shots=2, queries=2, generator=torch.Generator())
        return meta_train_protonet(MLP(32, widths=(8,)), draw, episodes=5)

    assert run() == run()
    draw = EpisodeSampler(x, y, ways=3, shots=2, queries=2, generator=torch.Generator())
    for bad in ({"episodes": -1}, {"episodes": 1, "lr": 0.0}, {"episodes": 1, "temperature": 0}):
        with pytest.raises(ConfigurationError) as caught:
            meta_train_protonet(MLP(32), draw, **bad)
        assert caught.value.code == "learners.bad_parameter"
