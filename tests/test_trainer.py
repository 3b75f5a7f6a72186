"""The training loop (``gankit.trainer``): what a run does step by step, from
the first batch to the last checkpoint. The pieces it schedules are specified
in their own files (``test_step.py``, ``test_batches.py``, ``test_ema.py``,
``test_resume.py``, ``test_divergence.py``, ``test_callbacks.py``...)."""

import math
import os
import signal
from dataclasses import replace

import pytest
import torch

from gankit import (
    GANConfig,
    LambdaCallback,
    Trainer,
    TrainingDivergedError,
    load_checkpoint,
    synthetic_dataset,
)
from gankit.interrupt import TrainingInterrupted
from gankit.step import train_step
from gankit.trainer import CHECKPOINT_NAME


def test_short_mnist_run_moves_the_way_the_article_describes(mnist):
    # Early on the generator draws noise, so D learns quickly to tell it from real
    # digits: its accuracy climbs well above chance, D(real) > D(fake), its loss
    # falls while the generator's rises.
    # One generator step per discriminator step (the DCGAN paper's schedule):
    # with the article's two, D's early lead is smaller and slower to show.
    cfg = replace(
        GANConfig(),
        batch_size=16,
        log_every=5,
        sample_every=100,
        max_steps=15,
        g_steps_per_d_step=1,
    )
    h = Trainer(cfg, mnist, device="cpu", progress=False).fit()
    assert h.step == [5, 10, 15]
    assert max(h.d_accuracy[1:]) > 0.85
    assert all(r > f for r, f in zip(h.d_real, h.d_fake, strict=True))
    assert h.d_loss[1] < h.d_loss[0]
    assert h.g_loss[-1] > h.g_loss[0]


def ctrl_c_at(step: int) -> LambdaCallback:
    """A callback that presses Ctrl-C (sends SIGINT) once ``step`` is done."""

    def interrupt(trainer, metrics):
        if trainer.step == step:
            os.kill(os.getpid(), signal.SIGINT)

    return LambdaCallback(on_step=interrupt)


def test_saving_midway_through_a_log_interval_changes_no_figure(
    tmp_path, shapes, tiny_cfg, train
):
    cfg = replace(tiny_cfg, log_every=4, checkpoint_every=3, max_steps=8)
    plain = train(cfg, shapes, 8).history
    saved = train(cfg, shapes, 8, out_dir=tmp_path / "saved").history
    assert saved.step == plain.step == [4, 8]
    assert saved.scalars() == plain.scalars()

    # Ctrl-C at step 3, mid-interval, and resumed: the same figures again.
    with pytest.raises(KeyboardInterrupt):
        train(
            cfg,
            shapes,
            8,
            out_dir=tmp_path / "stopped",
            callbacks=[ctrl_c_at(3)],
        )
    resumed = Trainer.from_checkpoint(
        tmp_path / "stopped" / CHECKPOINT_NAME, shapes, device="cpu", progress=False
    )
    assert resumed.fit().scalars() == plain.scalars()


def test_max_steps_counts_from_the_start(shapes, tiny_cfg, train):
    trainer = train(tiny_cfg, shapes, 2)
    trainer.fit(2)  # already there: nothing to do
    assert trainer.step == 2 and len(trainer.history) == 1


def test_sample_uses_inference_mode_and_leaves_training_state(shapes, tiny_cfg, train):
    trainer = train(tiny_cfg, shapes, 2)
    noise_state = trainer.noise.get_state()
    bn_before = {k: v.clone() for k, v in trainer.generator.state_dict().items()}
    four = trainer.sample(z=trainer.fixed_z[:4])
    two = trainer.sample(z=trainer.fixed_z[:2])
    # running statistics: an image does not depend on the rest of its batch
    torch.testing.assert_close(four[:2], two)
    for k, v in trainer.generator.state_dict().items():  # and they did not move
        assert torch.equal(v, bn_before[k]), k
    assert trainer.generator.training
    assert torch.equal(trainer.noise.get_state(), noise_state)
    assert trainer.sample(5).shape == (5, 1, 32, 32)


@pytest.mark.parametrize("channels", [1, 3])
def test_channels_last_learns_what_the_default_layout_learns(tiny_cfg, channels):
    cfg = replace(tiny_cfg, channels=channels)
    data = synthetic_dataset(64, channels=channels, seed=0)
    plain = Trainer(cfg, data, device="cpu", progress=False)
    nhwc = Trainer(cfg, data, device="cpu", progress=False, channels_last=True)
    for model in (nhwc.generator, nhwc.discriminator):
        weights = [p for p in model.parameters() if p.dim() == 4]
        assert weights
        assert all(w.is_contiguous(memory_format=torch.channels_last) for w in weights)
        # (with a single input channel both layouts are the same memory)
        assert not any(w.is_contiguous() for w in weights if w.shape[1] > 1)
    # The same weights, batch and noise give the same outputs and gradients, up
    # to float rounding (measured against the largest gradient: a bias followed
    # by batch norm has a true gradient of zero, rounding noise in both).
    z = torch.rand(8, cfg.z_dim) * 2 - 1
    real = data.batch(torch.arange(8))
    for a_model, b_model, x in (
        (plain.generator, nhwc.generator, z),
        (plain.discriminator, nhwc.discriminator, real),
    ):
        a_out = a_model(x)
        b_out = b_model(
            x if x.dim() < 4 else x.contiguous(memory_format=nhwc.memory_format)
        )
        assert torch.allclose(a_out, b_out, rtol=1e-4, atol=1e-5)
        a_out.square().sum().backward()
        b_out.square().sum().backward()
        scale = max(p.grad.abs().max() for p in a_model.parameters())
        for (name, a), b in zip(
            a_model.named_parameters(), b_model.parameters(), strict=True
        ):
            assert torch.allclose(a.grad, b.grad, rtol=1e-4, atol=1e-5 * scale), name
        a_model.zero_grad()
        b_model.zero_grad()
    # Adam's first steps move each weight by about the learning rate whatever
    # the gradient's size, so rounding grows; what is learnt stays the same.
    plain.fit(4)
    nhwc.fit(4)
    for name in ("d_loss", "g_loss", "d_real", "d_fake"):
        a, b = getattr(plain.history, name), getattr(nhwc.history, name)
        assert a == pytest.approx(b, rel=5e-3, abs=1e-4), name


def test_bf16_autocast_computes_the_first_step_to_bfloat16_precision(tiny_cfg, train):
    cfg = replace(tiny_cfg, log_every=1)
    data = synthetic_dataset(64, channels=1, seed=0)
    fp32 = train(cfg, data, 2)
    bf16 = train(cfg, data, 2, precision="bf16")
    # Step 1's figures come from the initial weights, equal in both runs: the
    # same numbers to bfloat16's three digits, yet not the float32 ones (so
    # the step did run in bfloat16).
    for name in ("d_loss", "d_real", "d_fake"):
        a, b = getattr(fp32.history, name)[0], getattr(bf16.history, name)[0]
        assert b == pytest.approx(a, rel=2e-2), name
        assert b != a, name
    assert all(math.isfinite(v) for v in bf16.history.d_loss + bf16.history.g_loss)
    # Weights and Adam's moments stay float32.
    assert all(p.dtype == torch.float32 for p in bf16.generator.parameters())
    for opt in (bf16.opt_g, bf16.opt_d):
        for moments in opt.state.values():
            assert all(v.dtype == torch.float32 for v in moments.values())


def test_an_unknown_precision_is_refused(shapes, tiny_cfg):
    with pytest.raises(ValueError, match="precision must be 'fp32' or 'bf16'"):
        Trainer(tiny_cfg, shapes, device="cpu", precision="fp16")


def test_nan_loss_stops_training_and_keeps_the_last_good_checkpoint(
    tmp_path, shapes, tiny_cfg, train
):
    trainer = train(tiny_cfg, shapes, 2, out_dir=tmp_path)
    good = load_checkpoint(tmp_path / CHECKPOINT_NAME)
    with torch.no_grad():
        trainer.discriminator.classifier.bias.fill_(float("nan"))
    with pytest.raises(TrainingDivergedError, match="NaN or infinite at step 3"):
        trainer.fit(4)
    kept = load_checkpoint(tmp_path / CHECKPOINT_NAME)
    assert kept["step"] == good["step"] == 2
    assert torch.isfinite(kept["discriminator"]["classifier.bias"]).all()


def test_weights_gone_nan_mid_step_are_reported_as_divergence(shapes, tiny_cfg, train):
    trainer = train(replace(tiny_cfg, g_steps_per_d_step=2), shapes, 1)
    with torch.no_grad():
        trainer.discriminator.classifier.bias.fill_(float("nan"))
    # G's first update takes NaN gradients from D; its second draws NaN images,
    # and the step's losses are NaN: the guard names the step.
    with pytest.raises(TrainingDivergedError, match="at step 2"):
        trainer.fit(2)


def poisoning_step(*args):
    """``train_step``, then an update that leaves G's first weights infinite
    (as a too large learning rate can): the step's losses are still finite."""
    metrics = train_step(*args)
    with torch.no_grad():
        args[0].project.weight.fill_(float("inf"))
    return metrics


def test_an_update_that_leaves_the_weights_infinite_is_caught_at_its_step(
    tmp_path, shapes, tiny_cfg
):
    cfg = replace(tiny_cfg, checkpoint_every=1)
    trainer = Trainer(
        cfg, shapes, device="cpu", progress=False, out_dir=tmp_path, step_fn=train_step
    )
    trainer.fit(1)
    trainer.step_fn = poisoning_step
    with pytest.raises(
        TrainingDivergedError, match="weights became NaN or inf.*step 2"
    ):
        trainer.fit(2)
    assert load_checkpoint(tmp_path / CHECKPOINT_NAME)["step"] == 1  # not saved


def test_images_that_overflow_are_reported_as_divergence(shapes, tiny_cfg, train):
    # A generator step so large that the next images overflow, while every
    # weight stays finite: still a divergence, not a complaint about "images".
    trainer = train(replace(tiny_cfg, lr_g=1e30, g_steps_per_d_step=2), shapes, 0)
    with pytest.raises(TrainingDivergedError, match="at step 1"):
        trainer.fit(3)


def test_samples_gone_nan_stop_training_before_any_callback_draws_them(
    shapes, tiny_cfg
):
    drawn = []

    def poison(trainer, metrics):
        if trainer.step == 2:
            with torch.no_grad():  # as a divergence between two checks could
                for p in trainer.generator.parameters():
                    p.fill_(float("nan"))

    trainer = Trainer(
        replace(tiny_cfg, sample_every=2, log_every=100),
        shapes,
        device="cpu",
        progress=False,
        callbacks=[
            LambdaCallback(on_step=poison, on_sample=lambda t, im: drawn.append(im))
        ],
    )
    with pytest.raises(TrainingDivergedError, match="samples became NaN"):
        trainer.fit(4)
    assert drawn == []


def test_ctrl_c_finishes_the_step_saves_and_reraises(tmp_path, shapes, tiny_cfg):
    trainer = Trainer(
        tiny_cfg,
        shapes,
        device="cpu",
        progress=False,
        out_dir=tmp_path,
        callbacks=[ctrl_c_at(3)],
    )
    with pytest.raises(KeyboardInterrupt, match="saved step 3 to .*checkpoint.pt"):
        trainer.fit(10)
    assert trainer.step == 3
    assert load_checkpoint(tmp_path / CHECKPOINT_NAME)["step"] == 3
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.parametrize("where", ["afile", "afile/run"])
def test_an_out_dir_that_cannot_be_a_folder_fails_before_training(
    tmp_path, shapes, tiny_cfg, where
):
    afile = tmp_path / "afile"
    afile.write_text("notes")
    with pytest.raises(ValueError, match="cannot be a folder for the run"):
        Trainer(
            tiny_cfg, shapes, device="cpu", progress=False, out_dir=tmp_path / where
        )
    assert afile.read_text() == "notes"


def test_the_out_dir_is_made_when_the_trainer_is(tmp_path, shapes, tiny_cfg):
    Trainer(tiny_cfg, shapes, device="cpu", progress=False, out_dir=tmp_path / "a/b")
    assert (tmp_path / "a" / "b").is_dir()


def test_sigterm_without_a_folder_stops_after_the_step_saving_nothing(shapes, tiny_cfg):
    def terminate(trainer, metrics):
        if trainer.step == 2:
            os.kill(os.getpid(), signal.SIGTERM)

    trainer = Trainer(
        tiny_cfg,
        shapes,
        device="cpu",
        progress=False,
        callbacks=[LambdaCallback(on_step=terminate)],
    )
    with pytest.raises(TrainingInterrupted, match="stopped after step 2") as stop:
        trainer.fit(10)
    assert (stop.value.signum, stop.value.step, stop.value.path) == (
        signal.SIGTERM,
        2,
        None,
    )
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_a_signal_during_the_last_save_is_still_reported(
    tmp_path, shapes, tiny_cfg, monkeypatch
):
    import gankit.trainer

    write = gankit.trainer.save_checkpoint

    def save_while_signalled(state, path):
        os.kill(os.getpid(), signal.SIGTERM)  # the scheduler's word arrives
        return write(state, path)

    monkeypatch.setattr(gankit.trainer, "save_checkpoint", save_while_signalled)
    trainer = Trainer(tiny_cfg, shapes, device="cpu", progress=False, out_dir=tmp_path)
    with pytest.raises(TrainingInterrupted, match="saved step 3 to") as stop:
        trainer.fit(3)
    assert stop.value.exit_status == 128 + signal.SIGTERM
    assert load_checkpoint(tmp_path / CHECKPOINT_NAME)["step"] == 3


def test_a_second_trainer_in_the_same_process_may_resume_the_folder(
    tmp_path, shapes, tiny_cfg, train
):
    # A notebook keeps the first trainer alive: the lock is held only while
    # a trainer trains or saves, so the resumed one is not refused.
    first = train(tiny_cfg, shapes, 2, out_dir=tmp_path)
    again = Trainer.from_checkpoint(
        tmp_path / CHECKPOINT_NAME,
        shapes,
        device="cpu",
        progress=False,
        out_dir=tmp_path,
    )
    again.fit(3)
    assert (first.step, again.step) == (2, 3)


def test_sample_refuses_a_latent_batch_outside_the_cube(shapes, tiny_cfg):
    trainer = Trainer(tiny_cfg, shapes, device="cpu", progress=False)
    with pytest.raises(ValueError, match=r"z must lie in \[-1, 1\]"):
        trainer.sample(z=torch.full((2, tiny_cfg.z_dim), 2.0))
