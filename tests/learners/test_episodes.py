"""Episode sampling (learners.episodes): sizes, balance, disjointness, determinism, errors."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from learners.episodes import (
    Episode,
    EpisodeSampler,
    accuracy,
    check_training_options,
    train_mode,
)
from learners.errors import ConfigurationError, InvalidInputError

WAYS, SHOTS, QUERIES = 4, 3, 5

pytestmark = pytest.mark.usefixtures("one_thread")


def indexed_pool(sizes: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs whose only feature is their own row index, and labels 10, 20, 30… by class."""
    y = torch.cat([torch.full((n,), 10 * (k + 1)) for k, n in enumerate(sizes)])
    return torch.arange(y.numel(), dtype=torch.float32)[:, None], y


def sampler(sizes: list[int], seed: int = 0, **options: int) -> tuple[EpisodeSampler, torch.Tensor]:
    x, y = indexed_pool(sizes)
    shape = {"ways": WAYS, "shots": SHOTS, "queries": QUERIES} | options
    return EpisodeSampler(x, y, generator=torch.Generator().manual_seed(seed), **shape), y


def rows(inputs: torch.Tensor) -> torch.Tensor:
    return inputs[:, 0].long()


def test_episode_sizes_labels_and_disjointness() -> None:
    draw, y = sampler([12, 9, 8, 20, 15, 8])
    for episode in draw.sample_batch(50):
        assert episode.support_x.shape == (WAYS * SHOTS, 1)
        assert episode.query_x.shape == (WAYS * QUERIES, 1)
        assert episode.support_y.dtype == episode.query_y.dtype == torch.long
        assert episode.support_y.bincount().tolist() == [SHOTS] * WAYS
        assert episode.query_y.bincount().tolist() == [QUERIES] * WAYS
        assert episode.ways == WAYS
        support, query = rows(episode.support_x), rows(episode.query_x)
        everything = torch.cat([support, query])
        assert everything.unique().numel() == everything.numel()  # distinct and disjoint
        # Every code stands for one original class, and different codes for different ones.
        assert episode.classes is not None
        assert episode.classes.unique().numel() == WAYS
        assert (y[support] == episode.classes[episode.support_y]).all()
        assert (y[query] == episode.classes[episode.query_y]).all()


def test_class_to_code_assignment_is_random() -> None:
    draw, _ = sampler([8] * 6)
    first_codes = {int(episode.classes[0]) for episode in draw.sample_batch(40)}
    assert len(first_codes) == 6


def test_only_classes_with_enough_examples_appear_and_all_their_examples_can() -> None:
    # Classes 10…40 have enough examples; 50 has 7 < shots + queries = 8.
    draw, y = sampler([8, 8, 9, 10, 7])
    assert draw.classes.tolist() == [10, 20, 30, 40]
    seen = torch.cat(
        [torch.cat([rows(e.support_x), rows(e.query_x)]) for e in draw.sample_batch(200)]
    )
    assert set(seen.tolist()) == set(torch.nonzero(y != 50).flatten().tolist())


def test_same_seed_same_episodes_other_seed_others() -> None:
    def flat(episodes: list[Episode]) -> torch.Tensor:
        return torch.cat([torch.cat([e.support_x, e.query_x]) for e in episodes])

    a = flat(sampler([10] * 8, seed=3)[0].sample_batch(5))
    b = flat(sampler([10] * 8, seed=3)[0].sample_batch(5))
    c = flat(sampler([10] * 8, seed=4)[0].sample_batch(5))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_sample_batch_is_successive_samples() -> None:
    batch = sampler([10] * 5, seed=1)[0].sample_batch(3)
    single = sampler([10] * 5, seed=1)[0]
    for episode in batch:
        assert torch.equal(episode.query_x, single.sample().query_x)


def test_augment_is_applied_to_support_and_query_with_the_generator() -> None:
    def jitter(inputs: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return inputs + 1000 + torch.rand(inputs.shape, generator=generator)

    def draw(seed: int) -> Episode:
        x, y = indexed_pool([10] * 5)
        return EpisodeSampler(
            x,
            y,
            ways=3,
            shots=2,
            queries=2,
            generator=torch.Generator().manual_seed(seed),
            augment=jitter,
        ).sample()

    episode = draw(0)
    assert (episode.support_x >= 1000).all() and (episode.query_x >= 1000).all()
    assert torch.equal(episode.support_x, draw(0).support_x)


def test_too_few_classes_is_bad_training_data() -> None:
    with pytest.raises(InvalidInputError) as caught:
        sampler([20, 20, 20, 7])  # 4 ways, but one class has fewer than 8 examples
    assert caught.value.code == "learners.bad_training_data"
    assert "3 of the 4 classes" in caught.value.message
    assert caught.value.details["eligible_classes"] == 3


@pytest.mark.parametrize(
    "options", [{"ways": 0}, {"shots": 0}, {"queries": -1}], ids=["ways", "shots", "queries"]
)
def test_bad_episode_shapes_are_bad_parameters(options: dict[str, int]) -> None:
    with pytest.raises(ConfigurationError) as caught:
        sampler([10] * 5, **options)
    assert caught.value.code == "learners.bad_parameter"


def test_labels_must_fit_the_inputs() -> None:
    x, y = indexed_pool([10] * 5)
    generator = torch.Generator()
    for labels in (y[:-1], y.float(), y[:, None]):
        with pytest.raises(ConfigurationError):
            EpisodeSampler(x, labels, ways=2, shots=1, queries=1, generator=generator)


def test_training_helpers() -> None:
    check_training_options(episodes=0, lr=1e-3)
    for bad in ({"episodes": -1}, {"episodes": 1, "lr": 0.0}):
        with pytest.raises(ConfigurationError):
            check_training_options(**bad)
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2)).eval()
    model[0].train()
    with train_mode(model):
        assert all(m.training for m in model.modules())
    assert [m.training for m in model.modules()] == [False, True, False]
    logits = torch.tensor([[2.0, 1.0], [0.0, 3.0], [5.0, 1.0]], requires_grad=True)
    result = accuracy(logits, torch.tensor([0, 1, 1]))
    assert result.item() == pytest.approx(2 / 3) and not result.requires_grad
