"""The pure training step (``gankit.step``): the models it trains, D's half,
G's half and the figures it returns."""

from dataclasses import replace

import pytest
import torch

from gankit import Trainer
from gankit.generator import sample_z
from gankit.losses import generator_loss
from gankit.step import METRICS, build_models, generator_updates, train_step


def test_two_generator_steps_per_discriminator_step(shapes, tiny_cfg, train):
    trainer = train(replace(tiny_cfg, g_steps_per_d_step=2), shapes, 2)
    adam_steps = [s["step"].item() for s in trainer.opt_g.state.values()]
    assert set(adam_steps) == {4.0}
    assert {s["step"].item() for s in trainer.opt_d.state.values()} == {2.0}


def test_generator_updates_draw_afresh_after_the_first_and_leave_d_alone(tiny_cfg):
    g, d = build_models(tiny_cfg)
    opt_g = torch.optim.Adam(g.parameters(), lr=1e-3)
    z = torch.rand(4, tiny_cfg.z_dim) * 2 - 1
    first = g(z)
    d_before = {k: v.clone() for k, v in d.state_dict().items()}
    g_before = [p.clone() for p in g.parameters()]
    seen = []

    def loss_of(images):
        seen.append(images)
        return generator_loss(d(images), "non_saturating")

    last = generator_updates(g, d, opt_g, first, z, 3, loss_of)
    with pytest.raises(ValueError, match="steps must be at least 1"):
        generator_updates(g, d, opt_g, first, z, 0, loss_of)
    assert len(seen) == 3 and seen[0] is first  # the first reuses D's batch
    assert not torch.equal(seen[1], first) and not torch.equal(seen[2], seen[1])
    assert last is not None and last.requires_grad  # the third step's loss
    assert all(p.requires_grad and p.grad is None for p in d.parameters())
    for k, v in d.state_dict().items():  # BatchNorm's running stats did move
        if "running" not in k and "num_batches" not in k:
            assert torch.equal(v, d_before[k]), k
    moved = zip(g_before, g.parameters(), strict=True)
    assert all(not torch.equal(a, b) for a, b in moved)


def test_a_step_leaves_the_layers_the_caller_froze_frozen(tiny_cfg):
    g, d = build_models(tiny_cfg)
    first = d.features[0][0]
    first.requires_grad_(False)  # e.g. a pretrained first layer kept fixed
    before = first.weight.detach().clone()
    opt_g = torch.optim.Adam(g.parameters(), 2e-4)
    opt_d = torch.optim.Adam(d.parameters(), 2e-4)
    real = torch.rand(8, 1, 32, 32) * 2 - 1
    train_step(g, d, opt_g, opt_d, real, sample_z(8, tiny_cfg.z_dim), tiny_cfg)
    assert not any(p.requires_grad for p in first.parameters())
    assert all(p.requires_grad for p in d.features[1].parameters())
    assert torch.equal(first.weight, before)


def test_models_are_seeded_and_the_global_rng_is_left_alone(
    shapes, tiny_cfg, accelerator_seeds_untouched
):
    torch.default_generator.manual_seed(123)
    before = torch.get_rng_state()
    a = Trainer(tiny_cfg, shapes, device="cpu", progress=False)
    assert torch.equal(torch.get_rng_state(), before)
    b = Trainer(tiny_cfg, shapes, device="cpu", progress=False)
    c = Trainer(replace(tiny_cfg, seed=1), shapes, device="cpu", progress=False)
    wa, wb, wc = (t.generator.project.weight for t in (a, b, c))
    assert torch.equal(wa, wb) and not torch.equal(wa, wc)


def test_train_step_returns_every_figure_as_a_detached_number(tiny_cfg):
    g, d = build_models(tiny_cfg)
    opt_g = torch.optim.Adam(g.parameters(), 2e-4)
    opt_d = torch.optim.Adam(d.parameters(), 2e-4)
    real = torch.rand(8, 1, 32, 32) * 2 - 1
    figures = train_step(
        g, d, opt_g, opt_d, real, sample_z(8, tiny_cfg.z_dim), tiny_cfg
    )
    assert tuple(figures) == METRICS
    assert all(v.dim() == 0 and not v.requires_grad for v in figures.values())
    assert figures["d_loss"] == pytest.approx(
        float(figures["d_loss_real"] + figures["d_loss_fake"])
    )
    assert all(0 <= float(figures[k]) <= 1 for k in ("d_real", "d_fake", "d_accuracy"))
