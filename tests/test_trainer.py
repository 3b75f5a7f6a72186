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
    resolve_device,
    synthetic_dataset,
)
from gankit.generator import sample_z
from gankit.losses import generator_loss
from gankit.step import build_models, generator_updates, train_step
from gankit.trainer import CHECKPOINT_NAME


@pytest.fixture(scope="module")
def shapes():
    return synthetic_dataset(64, channels=1, seed=0)


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


def train(cfg, data, steps, **kwargs):
    trainer = Trainer(cfg, data, device="cpu", progress=False, **kwargs)
    trainer.fit(steps)
    return trainer


def test_resume_is_bit_for_bit_the_same_as_one_run(tmp_path, shapes, tiny_cfg):
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


def test_resume_changes_only_the_fields_it_names(tmp_path, shapes, tiny_cfg):
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


def test_saving_midway_through_a_log_interval_changes_no_figure(
    tmp_path, shapes, tiny_cfg
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


@pytest.mark.parametrize("change", [{"seed": 5}, {"batch_size": 4}])
def test_a_resume_refuses_another_seed_or_batch_size(
    tmp_path, shapes, tiny_cfg, change
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


def test_a_resume_trains_with_the_rates_it_is_given(tmp_path, shapes, tiny_cfg):
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


def test_one_loaded_state_resumes_two_independent_trainers(tmp_path, shapes, tiny_cfg):
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


def test_float64_data_trains_as_float32(tiny_cfg):
    data = synthetic_dataset(16, channels=1, seed=0).images.double() / 127.5 - 1
    trainer = Trainer(tiny_cfg, data, device="cpu", progress=False)
    assert trainer.data.dtype == torch.float32
    assert trainer.fit(2).step == [2]


def test_history_callbacks_and_fixed_grid(shapes, tiny_cfg):
    seen = {"step": 0, "log": 0, "sample": 0, "end": 0}
    cb = LambdaCallback(
        on_step=lambda t, m: seen.__setitem__("step", seen["step"] + 1),
        on_log=lambda t, r: seen.__setitem__("log", seen["log"] + 1),
        on_sample=lambda t, im: seen.__setitem__("sample", seen["sample"] + 1),
        on_end=lambda t: seen.__setitem__("end", seen["end"] + 1),
    )
    trainer = train(tiny_cfg, shapes, 4, callbacks=[cb])
    assert seen == {"step": 4, "log": 2, "sample": 2, "end": 1}
    h = trainer.history
    assert h.step == [2, 4] and len(h) == 2
    assert all(0 <= p <= 1 for p in h.d_real + h.d_fake + h.d_accuracy)
    (s0, img0), (s1, img1) = h.samples
    assert (s0, s1) == (2, 4)
    assert img0.shape == (36, 1, 32, 32) and img0.dtype == torch.uint8
    assert not torch.equal(img0, img1)  # the generator moved


def test_max_steps_counts_from_the_start(shapes, tiny_cfg):
    trainer = train(tiny_cfg, shapes, 2)
    trainer.fit(2)  # already there: nothing to do
    assert trainer.step == 2 and len(trainer.history) == 1


def test_two_generator_steps_per_discriminator_step(shapes, tiny_cfg):
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


def test_sample_uses_inference_mode_and_leaves_training_state(shapes, tiny_cfg):
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


def test_ema_generator_lags_the_raw_one(shapes, tiny_cfg):
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


def test_bf16_autocast_computes_the_first_step_to_bfloat16_precision(tiny_cfg):
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


def test_nan_loss_stops_training_and_keeps_the_last_good_checkpoint(
    tmp_path, shapes, tiny_cfg
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


def test_weights_gone_nan_mid_step_are_reported_as_divergence(shapes, tiny_cfg):
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
    trainer.runner.step_fn = poisoning_step
    with pytest.raises(
        TrainingDivergedError, match="weights became NaN or inf.*step 2"
    ):
        trainer.fit(2)
    assert load_checkpoint(tmp_path / CHECKPOINT_NAME)["step"] == 1  # not saved


def spoil_weight(g):
    g.project.weight[0, 0] = float("inf")


def spoil_buffer(g):
    g.stem[0].running_var[3] = float("nan")


def spoil_pair(g):  # their sum alone would cancel out to NaN, still caught
    g.project.weight[0, 0], g.project.weight[0, 1] = float("inf"), -float("inf")


@pytest.mark.parametrize("spoil", [spoil_weight, spoil_buffer, spoil_pair])
def test_a_state_with_infinite_weights_is_never_saved(
    tmp_path, shapes, tiny_cfg, spoil
):
    trainer = train(tiny_cfg, shapes, 1, out_dir=tmp_path)
    with torch.no_grad():
        spoil(trainer.generator)
    with pytest.raises(TrainingDivergedError, match="not saved"):
        trainer.save()
    assert load_checkpoint(tmp_path / CHECKPOINT_NAME)["step"] == 1


def test_images_that_overflow_are_reported_as_divergence(shapes, tiny_cfg):
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


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (synthetic_dataset(16, channels=3), r"\(N, 1, 32, 32\) to match the config"),
        (torch.rand(16, 1, 32, 32) * 255, r"\[-1, 1\]"),
        (torch.zeros(16, 1, 32, 32, dtype=torch.uint8), "wrap uint8 images"),
        (synthetic_dataset(4, channels=1), "fewer than one batch"),
        (None, "Trainer needs data"),
    ],
)
def test_bad_data_is_refused_before_training(data, words, tiny_cfg):
    with pytest.raises(ValueError, match=words):
        Trainer(tiny_cfg, data, device="cpu", progress=False)


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


def test_float_data_in_range_is_accepted(tiny_cfg):
    trainer = Trainer(
        tiny_cfg, torch.rand(16, 1, 32, 32) * 2 - 1, device="cpu", progress=False
    )
    trainer.fit(1)
    assert trainer.step == 1


def test_device_auto_and_missing_cuda():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == (
        "cuda" if torch.cuda.is_available() else "cpu"
    )
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA GPU"):
            resolve_device("cuda")


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
