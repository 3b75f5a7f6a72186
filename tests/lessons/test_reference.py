"""The plain loop the Trainer is measured against (``gankit.lessons.reference``)."""

from __future__ import annotations

import copy
import itertools
import math
from dataclasses import replace

import pytest
import torch

from gankit import GANConfig, synthetic_dataset, train_step
from gankit.lessons.reference import reference_steps
from gankit.step import build_models


@pytest.fixture()
def cfg() -> GANConfig:
    return replace(GANConfig.for_dataset("mnist"), batch_size=8)


def test_steps_count_up_across_epochs_and_losses_are_floats(cfg):
    data = synthetic_dataset(20, channels=1)  # 2 batches of 8 per epoch, 4 dropped
    torch.manual_seed(0)
    steps = list(itertools.islice(reference_steps(data, cfg, "cpu"), 5))
    assert [s.step for s in steps] == [1, 2, 3, 4, 5]
    for s in steps:
        assert isinstance(s.d_loss, float) and math.isfinite(s.d_loss)
        assert isinstance(s.g_loss, float) and math.isfinite(s.g_loss)
    # One pair of networks trained throughout.
    assert all(s.generator is steps[0].generator for s in steps)


def test_starts_from_the_trainers_networks_and_updates_both(cfg, monkeypatch):
    import gankit.lessons.reference

    data = synthetic_dataset(16, channels=1)
    g0, d0 = build_models(cfg)
    started = []

    def recorded(config):
        g, d = build_models(config)
        started.append((copy.deepcopy(g), copy.deepcopy(d)))
        return g, d

    monkeypatch.setattr(gankit.lessons.reference, "build_models", recorded)
    torch.manual_seed(0)
    first = next(reference_steps(data, cfg, "cpu"))
    (start,) = started  # the loop's networks, before its first update
    for ours, theirs in zip((g0, d0), start, strict=True):
        for k, v in ours.state_dict().items():
            assert torch.equal(v, theirs.state_dict()[k]), k
    for before, after in ((g0, first.generator), (d0, first.discriminator)):
        moved = [
            not torch.equal(a, b)
            for a, b in zip(before.parameters(), after.parameters(), strict=True)
        ]
        assert all(moved)


def test_first_step_losses_match_the_trainers_on_the_same_batch(cfg, monkeypatch):
    """The same networks, the same real batch and noise: the losses the loop
    reports are the ones the Trainer's step computes (label smoothing included)."""
    import gankit.lessons.reference

    seen: dict[str, list[torch.Tensor]] = {"g": [], "d": []}

    def recording_models(c):
        g, d = build_models(c)
        g.register_forward_pre_hook(lambda m, args: seen["g"].append(args[0].clone()))
        d.register_forward_pre_hook(lambda m, args: seen["d"].append(args[0].clone()))
        return g, d

    monkeypatch.setattr(gankit.lessons.reference, "build_models", recording_models)
    data = synthetic_dataset(16, channels=1)
    torch.manual_seed(0)
    step = next(reference_steps(data, cfg, "cpu"))
    real, z = seen["d"][0], seen["g"][0]  # D saw the real batch first
    g, d = build_models(replace(cfg, g_steps_per_d_step=1))
    opt_g = torch.optim.Adam(g.parameters(), lr=cfg.lr_g, betas=(cfg.beta1, cfg.beta2))
    opt_d = torch.optim.Adam(d.parameters(), lr=cfg.lr_d, betas=(cfg.beta1, cfg.beta2))
    figures = train_step(
        g, d, opt_g, opt_d, real, z, replace(cfg, g_steps_per_d_step=1)
    )
    assert step.d_loss == pytest.approx(float(figures["d_loss"]), rel=1e-5)
    assert step.g_loss == pytest.approx(float(figures["g_loss"]), rel=1e-5)
    for a, b in zip(g.parameters(), step.generator.parameters(), strict=True):
        torch.testing.assert_close(a, b)  # and the same updates


def test_too_small_a_dataset_is_refused(cfg):
    with pytest.raises(ValueError, match="fewer than one batch of 8"):
        next(reference_steps(synthetic_dataset(5, channels=1), cfg, "cpu"))
