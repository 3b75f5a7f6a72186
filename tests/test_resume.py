"""Resuming a run (``gankit.resume``): the config it continues with, the
optimizers' and the random streams' state, and, end to end, a resumed run that
is the run that never stopped."""

from dataclasses import asdict, replace

import pytest
import torch

from gankit import GANConfig, Trainer, load_checkpoint
from gankit.checkpoint import CheckpointMismatchError
from gankit.resume import load_optimizer_state, restore_rng, resumed_config, rng_state
from gankit.trainer import CHECKPOINT_NAME


def test_resume_is_bit_for_bit_the_same_as_one_run(tmp_path, shapes, tiny_cfg, train):
    cfg = replace(tiny_cfg, g_steps_per_d_step=2, ema_decay=0.9, log_every=3)
    whole = train(cfg, shapes, 6)

    first = train(cfg, shapes, 3, out_dir=tmp_path)
    assert first.step == 3 and (tmp_path / CHECKPOINT_NAME).exists()
    resumed = Trainer.from_checkpoint(
        tmp_path / CHECKPOINT_NAME, shapes, device="cpu", progress=False
    )
    assert resumed.step == 3
    resumed.fit(6)

    for a, b in [
        (whole.generator, resumed.generator),
        (whole.discriminator, resumed.discriminator),
        (whole.ema, resumed.ema),
    ]:
        sa, sb = a.state_dict(), b.state_dict()
        assert sa.keys() == sb.keys()
        for k in sa:
            assert torch.equal(sa[k], sb[k]), k
    assert whole.history.d_loss == resumed.history.d_loss


def test_resume_changes_only_the_fields_it_names(tmp_path, shapes, tiny_cfg, train):
    cfg = replace(tiny_cfg, g_steps_per_d_step=2, ema_decay=0.9, max_steps=3)
    train(cfg, shapes, 3, out_dir=tmp_path)
    state = load_checkpoint(tmp_path / CHECKPOINT_NAME)
    # From the state already read: the file is not needed again.
    (tmp_path / CHECKPOINT_NAME).unlink()
    resumed = Trainer.from_checkpoint(
        state, shapes, changes={"max_steps": 5}, device="cpu", progress=False
    )
    assert resumed.config == replace(cfg, max_steps=5)
    assert resumed.step == 3
    history = resumed.fit()  # to the changed max_steps
    assert resumed.step == 5 and history.step[-1] == 5

    with pytest.raises(ValueError, match=r"\['max_step'\].*not GANConfig fields"):
        Trainer.from_checkpoint(state, shapes, changes={"max_step": 5})
    with pytest.raises(ValueError, match="changes or config, not both"):
        Trainer.from_checkpoint(state, shapes, changes={}, config=cfg)


@pytest.mark.parametrize("change", [{"seed": 5}, {"batch_size": 4}])
def test_a_resume_refuses_another_seed_or_batch_size(
    tmp_path, shapes, tiny_cfg, change, train
):
    train(tiny_cfg, shapes, 2, out_dir=tmp_path)
    (name,) = change
    with pytest.raises(ValueError, match=f"{name} cannot change when a run resumes"):
        Trainer.from_checkpoint(
            tmp_path / CHECKPOINT_NAME, shapes, changes=change, progress=False
        )
    with pytest.raises(ValueError, match=f"{name} cannot change"):
        Trainer.from_checkpoint(
            tmp_path / CHECKPOINT_NAME,
            shapes,
            config=replace(tiny_cfg, **change),
            progress=False,
        )


def test_a_resume_trains_with_the_rates_it_is_given(tmp_path, shapes, tiny_cfg, train):
    train(tiny_cfg, shapes, 2, out_dir=tmp_path)
    changes = {"lr_g": 1e-5, "lr_d": 3e-5, "beta1": 0.9}
    resumed = Trainer.from_checkpoint(
        tmp_path / CHECKPOINT_NAME, shapes, changes=changes, progress=False
    )
    for opt, lr in ((resumed.opt_g, 1e-5), (resumed.opt_d, 3e-5)):
        assert [(g["lr"], g["betas"]) for g in opt.param_groups] == [
            (lr, (0.9, tiny_cfg.beta2))
        ]
    assert all(s["step"] == 2 for s in resumed.opt_g.state.values())  # kept

    # A rate a callback set stands when the config does not change it.
    resumed.opt_d.param_groups[0]["lr"] = 7e-6
    resumed.save(tmp_path / "adjusted.pt")
    again = Trainer.from_checkpoint(tmp_path / "adjusted.pt", shapes, progress=False)
    assert again.opt_d.param_groups[0]["lr"] == 7e-6
    assert again.opt_g.param_groups[0]["lr"] == 1e-5


def test_one_loaded_state_resumes_two_independent_trainers(
    tmp_path, shapes, tiny_cfg, train
):
    train(tiny_cfg, shapes, 2, out_dir=tmp_path)
    state = load_checkpoint(tmp_path / CHECKPOINT_NAME)
    a, b = (
        Trainer.from_checkpoint(state, shapes, device="cpu", progress=False)
        for _ in range(2)
    )
    a.fit(4)  # trains a alone: neither b nor the caller's state may move
    assert all(s["step"] == 2 for s in b.opt_g.state.values())
    assert all(s["step"] == 2 for s in state["opt_g"]["state"].values())
    assert b.fit(4).scalars() == a.history.scalars()


def test_a_checkpoint_resumes_in_the_other_layout(tmp_path, shapes, tiny_cfg):
    whole = Trainer(tiny_cfg, shapes, device="cpu", progress=False, out_dir=tmp_path)
    whole.fit(2)
    whole.save()
    nhwc = Trainer.from_checkpoint(
        tmp_path / CHECKPOINT_NAME,
        shapes,
        device="cpu",
        progress=False,
        channels_last=True,
    )
    for opt in (nhwc.opt_g, nhwc.opt_d):  # the moments follow their parameters
        for param, moments in opt.state.items():
            for value in moments.values():
                if value.shape == param.shape:
                    assert value.stride() == param.stride()
    whole.fit(4)
    nhwc.fit(4)
    assert whole.history.d_loss[-1] == pytest.approx(
        nhwc.history.d_loss[-1], rel=1e-3, abs=1e-5
    )


def test_resumed_config_takes_changes_or_a_config_not_both():
    saved = asdict(GANConfig())
    with pytest.raises(ValueError, match="changes or config, not both"):
        resumed_config(saved, {"max_steps": 5}, GANConfig(max_steps=5))


def test_resumed_config_refuses_a_change_to_a_field_it_does_not_have():
    with pytest.raises(ValueError, match=r"\['max_step'\].*not GANConfig fields"):
        resumed_config(asdict(GANConfig()), {"max_step": 5})


@pytest.mark.parametrize("change", [{"z_dim": 64}, {"channels": 3}])
def test_resumed_config_refuses_another_architecture(change):
    saved = asdict(GANConfig())
    with pytest.raises(CheckpointMismatchError, match=f"{next(iter(change))}: "):
        resumed_config(saved, change)
    with pytest.raises(CheckpointMismatchError):
        resumed_config(saved, config=replace(GANConfig(), **change))


def adam_after_one_step(lr: float = 1e-3, betas=(0.5, 0.999)) -> torch.optim.Adam:
    weight = torch.nn.Parameter(torch.ones(3))
    opt = torch.optim.Adam([weight], lr=lr, betas=betas)
    weight.sum().backward()
    opt.step()
    return opt


def test_a_loaded_optimizer_state_is_a_copy_of_the_saved_one():
    saved = adam_after_one_step().state_dict()
    before = saved["state"][0]["exp_avg"].clone()
    target = adam_after_one_step()
    load_optimizer_state(target, saved, {}, {})
    (moments,) = target.state.values()
    torch.testing.assert_close(moments["exp_avg"], before)  # loaded...
    moments["exp_avg"].add_(1.0)  # ...but not shared
    assert torch.equal(saved["state"][0]["exp_avg"], before)


def test_the_rates_the_config_changed_win_and_the_others_stay_saved():
    saved = adam_after_one_step(lr=1e-3, betas=(0.5, 0.999)).state_dict()
    target = adam_after_one_step(lr=1e-4, betas=(0.9, 0.9))
    flags = {"fused": False, "capturable": False}
    load_optimizer_state(target, saved, flags, {"lr": 5e-4})
    (group,) = target.param_groups
    assert group["lr"] == 5e-4  # the override
    assert group["betas"] == (0.5, 0.999)  # the saved betas, not the target's
    assert group["fused"] is False  # this trainer's flags (the saved had None)


def test_restored_random_streams_draw_what_they_would_have_drawn():
    noise = torch.Generator().manual_seed(7)
    with torch.random.fork_rng(devices=[]):
        saved = rng_state(torch.device("cpu"), noise)
        expected = (torch.rand(3), torch.rand(3, generator=noise))
        torch.rand(5), torch.rand(5, generator=noise)  # the run goes on
        restore_rng(saved, torch.device("cpu"), noise, fallback_seed=99)
        assert torch.equal(torch.rand(3), expected[0])
        assert torch.equal(torch.rand(3, generator=noise), expected[1])


def test_a_noise_stream_from_another_kind_of_device_restarts_from_the_fallback():
    noise = torch.Generator().manual_seed(7)
    with torch.random.fork_rng(devices=[]):
        saved = rng_state(torch.device("cpu"), noise)
        saved["noise"] = torch.zeros(16, dtype=torch.uint8)  # a CUDA stream's size
        restore_rng(saved, torch.device("cpu"), noise, fallback_seed=99)
    expected = torch.rand(3, generator=torch.Generator().manual_seed(99))
    assert torch.equal(torch.rand(3, generator=noise), expected)
