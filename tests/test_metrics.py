"""Tests for gankit.metrics: the quality figures, the training callback and
``python -m gankit evaluate``."""

from __future__ import annotations

import json
import sys
import warnings
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from scipy import linalg
from torch import nn
from torchmetrics.image.fid import FrechetInceptionDistance

import gankit.metrics
from gankit import (
    DatasetNotFoundError,
    GANConfig,
    Generator,
    Trainer,
    load_dataset,
    load_generator,
    sample_z,
    synthetic_dataset,
)
from gankit.classifier import ClassifierFeatures, load_classifier
from gankit.cli import main
from gankit.metrics import (
    EvaluationCallback,
    InceptionUnavailableError,
    ModeCollapseWarning,
    evaluate,
    evaluate_images,
    generate,
    inception_fid,
)

N = 1000  # images per evaluation of given images: stable enough, fast on a CPU
N_GEN = 200  # images per evaluation of a generator (a DCGAN is slow on a CPU)


def _load(name: str, split: str):
    try:
        return load_dataset(name, split=split, download=False)
    except DatasetNotFoundError:
        pytest.skip(f"the real {name} {split} split is not on this machine")


@pytest.fixture(scope="module")
def mnist_test():
    return _load("mnist", "test")


@pytest.fixture(scope="module")
def mnist_train():
    return _load("mnist", "train")


class Replay(nn.Module):
    """A stand-in generator that hands back fixed images, in turn."""

    def __init__(self, images: torch.Tensor) -> None:
        super().__init__()
        self.z_dim = 100
        self.register_buffer("images", images)
        self.drawn = 0

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        idx = torch.arange(self.drawn, self.drawn + len(z)) % len(self.images)
        self.drawn += len(z)
        return self.images[idx].float() / 127.5 - 1


def stub_trainer(generator: nn.Module, step: int, d_accuracy: list[float]):
    """What EvaluationCallback reads from a Trainer, and nothing else."""
    return SimpleNamespace(
        step=step,
        config=SimpleNamespace(dataset="mnist"),
        generator=generator,
        ema=None,
        device=torch.device("cpu"),
        history=SimpleNamespace(d_accuracy=d_accuracy),
    )


def test_real_images_sit_at_the_floor(mnist_train):
    pick = torch.randperm(len(mnist_train), generator=torch.Generator().manual_seed(0))
    real = mnist_train.images[pick[:N]]  # uint8 is accepted as it is
    f = evaluate_images(real, "mnist", download=False)
    # At n = 1000 the floor itself varies by about a factor 2 between subsets.
    assert 0.3 < f["fd_ratio"] < 3.0
    assert abs(f["kid_mean"]) < 3 * f["kid_std"] + 1e-3
    assert f["classes_covered"] == 10 and f["missing_classes"] == []
    assert f["class_tv"] < 0.1  # two samples of 1000 differ by about 0.05
    assert f["mean_confidence"] > 0.95
    assert sum(f["class_shares"]) == pytest.approx(1.0)


def test_uniform_noise_is_far_from_the_data():
    noise = torch.rand(N, 1, 32, 32, generator=torch.Generator().manual_seed(0))
    f = evaluate_images(noise * 2 - 1, "mnist", download=False)
    assert f["fd_ratio"] > 100
    assert f["kid_mean"] > 20 * max(f["kid_floor"], f["kid_std"])


def test_missing_fraction_sets_which_classes_count_as_missing(mnist_train):
    digits = mnist_train.images[:N]
    usual = evaluate_images(digits, "mnist", download=False)
    strict = evaluate_images(digits, "mnist", download=False, missing_fraction=1.0)
    below_a_tenth = [c for c, s in enumerate(strict["class_shares"]) if s < 0.1]
    assert usual["missing_classes"] == [] and usual["classes_covered"] == 10
    assert strict["missing_classes"] == below_a_tenth != []
    assert strict["classes_covered"] == 10 - len(below_a_tenth)


def test_an_interrupted_evaluation_leaves_no_trace_in_the_next(
    mnist_train, monkeypatch
):
    digits = mnist_train.images[:N]
    clean = evaluate_images(digits, "mnist", download=False, batch_size=250)
    calls = {"n": 0}
    real_to_signed_unit = gankit.metrics.to_signed_unit

    def interrupt_on_the_third_batch(x):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # two batches are already in the metrics
        return real_to_signed_unit(x)

    monkeypatch.setattr(gankit.metrics, "to_signed_unit", interrupt_on_the_third_batch)
    with pytest.raises(KeyboardInterrupt):
        evaluate_images(digits, "mnist", download=False, batch_size=250)
    monkeypatch.undo()
    again = evaluate_images(digits, "mnist", download=False, batch_size=250)
    assert again == clean


def test_images_of_a_single_class_are_flagged_by_coverage(mnist_train):
    threes = mnist_train.images[mnist_train.labels == 3][:N]
    f = evaluate_images(threes, "mnist", download=False)
    assert f["class_shares"][3] > 0.95
    assert f["classes_covered"] == 1
    assert f["missing_classes"] == [0, 1, 2, 4, 5, 6, 7, 8, 9]
    assert f["class_tv"] > 0.8
    assert f["fd_ratio"] > 20


def test_torchmetrics_frechet_distance_matches_a_direct_computation(
    mnist_test, mnist_train
):
    features = ClassifierFeatures(load_classifier("mnist"))
    a = mnist_test.batch(torch.arange(500))
    b = mnist_train.batch(torch.arange(500))
    fid = FrechetInceptionDistance(features)
    fid.update(a, real=True)
    fid.update(b, real=False)
    fa, fb = features(a).double().numpy(), features(b).double().numpy()
    mu_a, mu_b = fa.mean(0), fb.mean(0)
    cov_a, cov_b = np.cov(fa, rowvar=False), np.cov(fb, rowvar=False)
    root = linalg.sqrtm(cov_a @ cov_b).real
    direct = ((mu_a - mu_b) ** 2).sum() + np.trace(cov_a + cov_b - 2 * root)
    assert float(fid.compute()) == pytest.approx(direct, rel=1e-3)


def test_evaluate_is_reproducible_and_leaves_the_generator_as_it_was():
    with torch.random.fork_rng():
        torch.manual_seed(0)
        g = Generator(channels=1)
    before = {k: v.clone() for k, v in g.state_dict().items()}
    figures = evaluate(g, "mnist", N_GEN, download=False)
    assert g.training
    assert all(torch.equal(v, before[k]) for k, v in g.state_dict().items())
    # The same seed draws the same latent vectors, real subsets and KID subsets.
    images = generate(g, N_GEN, seed=0)
    assert figures == evaluate_images(images, "mnist", download=False)
    assert figures["fd_ratio"] > 5  # an untrained generator is far from digits


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: evaluate_images(torch.zeros(N, 1, 32, 32), "svhn"), "svhn"),
        (lambda: evaluate_images(torch.zeros(1, 1, 32, 32)), "n must be"),
        (lambda: evaluate_images(torch.zeros(10_001, 1, 32, 32)), "n must be"),
        (lambda: evaluate_images(torch.zeros(N, 3, 32, 32)), "channel"),
        (lambda: evaluate_images(torch.full((N, 1, 32, 32), 255.0)), r"\[-1, 1\]"),
        (lambda: evaluate_images(torch.zeros(N, 28, 28, dtype=torch.uint8)), "shape"),
        (lambda: evaluate(Generator(channels=3), "mnist", N), "1-channel"),
        (lambda: evaluate(nn.Linear(2, 2), "mnist", N), "z_dim"),
        (lambda: EvaluationCallback(every=0), "every"),
        (lambda: EvaluationCallback(every=10, dataset="svhn"), "svhn"),
        (lambda: EvaluationCallback(every=10, missing_fraction=0), "missing_fraction"),
        (lambda: evaluate(Generator(channels=1), "mnist", N, batch_size=0), "batch"),
        (lambda: generate(Generator(channels=1), 0), "n must be a whole number"),
        (lambda: evaluate_images(torch.zeros(N, 1, 32, 32), device="gpu"), "device"),
        (lambda: inception_fid(torch.zeros(N, 1, 32, 32), n=N, batch_size=0), "batch"),
        (lambda: inception_fid(torch.zeros(N, 1, 32, 32), n=N, device="gpu"), "device"),
    ],
)
def test_bad_input_raises_a_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_callback_warns_when_the_generator_draws_one_class(mnist_train):
    threes = mnist_train.images[mnist_train.labels == 3][:N_GEN]
    cb = EvaluationCallback(every=5, n=N_GEN)
    cb.on_step(stub_trainer(Replay(threes), 4, [0.6]), {})
    assert cb.results == {}  # not a multiple of `every`
    with pytest.warns(ModeCollapseWarning, match="mode collapse.*0 \\(0.0%\\)"):
        cb.on_step(stub_trainer(Replay(threes), 5, [0.6]), {})
    assert list(cb.results) == [5]
    assert cb.results[5]["classes_covered"] == 1
    assert len(cb.alerts) == 1


def test_the_warning_names_the_callers_line_and_can_be_turned_off(mnist_train):
    threes = Replay(mnist_train.images[mnist_train.labels == 3][:N_GEN])
    cb = EvaluationCallback(every=5, n=N_GEN)
    with pytest.warns(ModeCollapseWarning) as caught:
        cb.measure(stub_trainer(threes, 5, [0.6]))
    assert [w.filename for w in caught] == [__file__]  # not gankit's own code
    quiet = EvaluationCallback(every=5, n=N_GEN, warn=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModeCollapseWarning)
        quiet.measure(stub_trainer(threes, 5, [0.6]))
    assert quiet.alerts == cb.alerts and len(quiet.alerts) == 1


def test_the_callbacks_figures_use_its_own_missing_fraction(mnist_train):
    # At fraction 1.0 a digit drawn a little less often than a tenth of the
    # time already counts as missing: the stored figures must say so too.
    digits = mnist_train.images[:N_GEN]
    strict = EvaluationCallback(every=5, n=N_GEN, missing_fraction=1.0, warn=False)
    figures = strict.measure(stub_trainer(Replay(digits), 5, [0.6]))
    expected = evaluate_images(digits, "mnist", missing_fraction=1.0)
    assert figures["missing_classes"] == expected["missing_classes"]
    assert figures["classes_covered"] == expected["classes_covered"] < 10


def test_callback_warns_when_the_discriminator_wins_every_round(mnist_train):
    cb = EvaluationCallback(every=5, n=N_GEN)
    digits = Replay(mnist_train.images[:N_GEN])
    with pytest.warns(ModeCollapseWarning, match="discriminator.*99.6%"):
        cb.on_step(stub_trainer(digits, 10, [0.7, 0.996]), {})
    assert len(cb.alerts) == 1  # all classes are there: no coverage alert
    steps, fd = cb.series("fd")
    assert steps == [10] and fd == [cb.results[10]["fd"]]


def test_callback_measures_the_last_step_when_asked(mnist_train):
    digits = Replay(mnist_train.images[:N_GEN])
    cb = EvaluationCallback(every=5, n=N_GEN)
    assert cb.seconds == 0.0
    cb.on_end(stub_trainer(digits, 7, [0.6]))
    assert list(cb.results) == [7]
    once = cb.seconds
    assert once > 0.0
    cb.on_step(stub_trainer(digits, 10, [0.6]), {})
    assert cb.seconds > once  # every measurement adds its time
    quiet = EvaluationCallback(every=5, n=N_GEN, at_end=False)
    quiet.on_end(stub_trainer(digits, 7, [0.6]))
    assert quiet.results == {}


def _tiny_trainer(callbacks=(), out_dir=None) -> Trainer:
    cfg = replace(
        GANConfig.for_dataset("mnist"), batch_size=4, log_every=1, ema_decay=0.9
    )
    data = synthetic_dataset(16, channels=1)
    return Trainer(
        cfg, data, device="cpu", callbacks=callbacks, out_dir=out_dir, progress=False
    )


def test_measuring_leaves_the_run_as_it_was(accelerator_seeds_untouched):
    trainer = _tiny_trainer()
    weights = {k: v.clone() for k, v in trainer.ema.state_dict().items()}
    rng, noise = torch.get_rng_state(), trainer.noise.get_state()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModeCollapseWarning)  # an untrained G
        EvaluationCallback(every=1, n=N_GEN).measure(trainer)
    assert all(torch.equal(v, weights[k]) for k, v in trainer.ema.state_dict().items())
    assert torch.equal(torch.get_rng_state(), rng)
    assert torch.equal(trainer.noise.get_state(), noise)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """Two training steps watched by an EvaluationCallback; the checkpoint.
    Two, because the EMA's first update is a copy: after the second the EMA
    generator differs from the raw one, so a test can tell which was used."""
    folder = tmp_path_factory.mktemp("run")
    cb = EvaluationCallback(every=1, n=N_GEN)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModeCollapseWarning)  # an untrained G
        _tiny_trainer([cb], out_dir=folder).fit(2)
    ckpt = folder / "checkpoint.pt"
    z = sample_z(4, 100, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        ema, raw = (load_generator(ckpt, use_ema=e)(z) for e in (True, False))
    assert not torch.allclose(ema, raw)
    return cb, ckpt


def test_callback_measures_a_real_run(tiny_run):
    cb, _ = tiny_run
    assert list(cb.results) == [1, 2]
    assert cb.results[2]["n"] == N_GEN and len(cb.results[2]["class_shares"]) == 10


def test_cli_evaluate_prints_the_figures_of_a_checkpoint(tiny_run, capsys):
    ckpt = str(tiny_run[1])
    assert main(["evaluate", "--checkpoint", ckpt, "--n", str(N_GEN), "--offline"]) == 0
    out = capsys.readouterr().out
    assert "FD" in out and "floor" in out and "KID" in out
    assert main(["evaluate", "--checkpoint", ckpt, "--n", str(N_GEN), "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["dataset"] == "mnist" and figures["n"] == N_GEN
    assert figures == tiny_run[0].results[2]  # the EMA generator, same seed
    assert main(["evaluate", "--checkpoint", ckpt, "--n", "0"]) == 2
    assert "n must be" in capsys.readouterr().err


def test_inception_fid_says_why_it_cannot_run(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch_fidelity", None)  # not installed
    with pytest.raises(InceptionUnavailableError, match="torch-fidelity"):
        inception_fid(torch.zeros(N, 1, 32, 32), "mnist", N)
