"""The training loop in one function (``gankit.lessons.loop``)."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from gankit import GANConfig, Trainer, synthetic_dataset
from gankit.lessons.loop import train_dcgan
from gankit.step import build_models


@pytest.fixture(scope="module")
def data():
    return synthetic_dataset(16, channels=1, seed=0)  # 2 batches of 8 an epoch


def small(**changes) -> GANConfig:
    base = replace(GANConfig.for_dataset("mnist"), batch_size=8, sample_every=1000)
    return replace(base, **changes)


def assert_same_state(ours: torch.nn.Module, theirs: torch.nn.Module) -> None:
    mine, other = ours.state_dict(), theirs.state_dict()
    assert mine.keys() == other.keys()
    for name, value in mine.items():  # weights and batch-norm statistics alike
        torch.testing.assert_close(value, other[name], rtol=0, atol=0, msg=name)


@pytest.mark.parametrize(
    "changes",
    [
        {},  # the article's: 2 G steps, label smoothing 0.1, non-saturating
        {"g_steps_per_d_step": 1},
        {"g_loss": "saturating", "label_smoothing": 0.0},
    ],
    ids=["article", "one-g-step", "saturating-unsmoothed"],
)
def test_ends_on_the_trainers_weights_from_the_same_config(data, changes):
    """Three steps (into a second epoch) from one seed: the loop and the
    Trainer's CPU step (``gankit.train_step``) land on the same weights, bit
    for bit."""
    cfg = small(**changes)
    generator, discriminator = train_dcgan(data, cfg, steps=3)
    trainer = Trainer(cfg, data, device="cpu", progress=False)
    trainer.fit(3)
    assert_same_state(generator, trainer.generator)
    assert_same_state(discriminator, trainer.discriminator)


def test_trains_both_networks_and_leaves_the_discriminator_trainable(data):
    cfg = small()
    g0, d0 = build_models(cfg)
    generator, discriminator = train_dcgan(data, cfg, steps=1)
    for before, after in ((g0, generator), (d0, discriminator)):
        for a, b in zip(before.parameters(), after.parameters(), strict=True):
            assert not torch.equal(a, b)
    assert all(p.requires_grad for p in discriminator.parameters())


def test_more_generator_steps_change_what_it_learns(data):
    one, _ = train_dcgan(data, small(g_steps_per_d_step=1), steps=1)
    two, _ = train_dcgan(data, small(g_steps_per_d_step=2), steps=1)
    assert not torch.equal(
        next(one.parameters()).detach(), next(two.parameters()).detach()
    )
