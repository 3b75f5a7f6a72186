"""The EMA generator (``gankit.ema``): AveragedModel's average, updated
without waiting for the device."""

from dataclasses import replace

import pytest
import torch

from gankit import LambdaCallback, Trainer
from gankit.ema import EMA
from gankit.step import build_models


def test_ema_generator_lags_the_raw_one(shapes, tiny_cfg, train):
    trainer = train(replace(tiny_cfg, ema_decay=0.99), shapes, 3)
    z = trainer.fixed_z[:4]
    assert not torch.allclose(
        trainer.sample(z=z, use_ema=True), trainer.sample(z=z, use_ema=False)
    )


def test_ema_update_is_averaged_models(shapes, tiny_cfg):
    # The trainer's own EMA update gives what torch's AveragedModel with the EMA
    # function gives, tensor for tensor, from the first update (a copy) on.
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    cfg = replace(tiny_cfg, ema_decay=0.9)
    trainer = Trainer(cfg, shapes, device="cpu", progress=False)
    reference = AveragedModel(
        trainer.generator,
        multi_avg_fn=get_ema_multi_avg_fn(cfg.ema_decay),
        use_buffers=True,
    )
    trainer.callbacks.append(
        LambdaCallback(on_step=lambda t, _: reference.update_parameters(t.generator))
    )
    trainer.fit(4)
    ours, theirs = trainer.ema.state_dict(), reference.state_dict()
    assert ours.keys() == theirs.keys()
    for key, value in ours.items():
        if value.is_floating_point():
            assert torch.equal(value, theirs[key]), key
    assert int(trainer.ema.n_averaged) == 4
    # a count is copied from the generator, not averaged
    raw = trainer.generator.state_dict()
    counts = [k for k in ours if k.endswith("num_batches_tracked")]
    assert counts
    assert all(torch.equal(ours[k], raw[k.removeprefix("module.")]) for k in counts)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_ema_update_does_not_wait_for_the_gpu(shapes, tiny_cfg):
    trainer = Trainer(
        replace(tiny_cfg, ema_decay=0.99), shapes, device="cuda", progress=False
    )
    trainer.fit(2)
    torch.cuda.set_sync_debug_mode("error")
    try:
        trainer.ema.update_parameters(trainer.generator)
    finally:
        torch.cuda.set_sync_debug_mode("default")


@pytest.mark.parametrize("decay", [0.0, 1.0, -0.5, 1.5])
def test_a_decay_outside_zero_to_one_is_refused(tiny_cfg, decay):
    g, _ = build_models(tiny_cfg)
    with pytest.raises(ValueError, match=r"decay must be in \(0, 1\)"):
        EMA(g, decay)


def moved(model: torch.nn.Module) -> None:
    """Shift every floating-point weight and buffer, as training would."""
    with torch.no_grad():
        for t in (*model.parameters(), *model.buffers()):
            if t.is_floating_point():
                t.add_(1.0)


def test_the_first_update_copies_the_model(tiny_cfg):
    g, _ = build_models(tiny_cfg)
    ema = EMA(g, 0.9)
    moved(g)
    ema.update_parameters(g)
    ours, theirs = ema.module.state_dict(), g.state_dict()
    assert all(torch.equal(ours[k], theirs[k]) for k in theirs), "not a copy"
    assert ema.updates == 1 and int(ema.n_averaged) == 1


def test_loading_a_state_restores_the_update_count(tiny_cfg):
    g, _ = build_models(tiny_cfg)
    ema = EMA(g, 0.9)
    for _ in range(3):
        moved(g)
        ema.update_parameters(g)
    fresh = EMA(build_models(tiny_cfg)[0], 0.9)
    fresh.load_state_dict(ema.state_dict())
    assert fresh.updates == 3
    # so the next update moves by 1 - decay instead of copying the model
    moved(g)
    ema.update_parameters(g)
    fresh.update_parameters(g)
    ours, theirs = fresh.state_dict(), ema.state_dict()
    assert all(torch.equal(ours[k], theirs[k]) for k in theirs)
    assert not torch.equal(fresh.module.project.weight, g.project.weight)
