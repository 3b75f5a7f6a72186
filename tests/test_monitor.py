"""Tests for gankit.monitor: the callback that measures a run as it trains, and
``python -m gankit evaluate`` on the checkpoint of such a run."""

from __future__ import annotations

import json
import warnings
from dataclasses import replace
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from gankit import GANConfig, Trainer, load_generator, sample_z, synthetic_dataset
from gankit.cli import main
from gankit.metrics import ModeCollapseWarning, evaluate_images
from gankit.monitor import EvaluationCallback

N_GEN = 200  # images per evaluation of a generator (a DCGAN is slow on a CPU)


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


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: EvaluationCallback(every=0), "every"),
        (lambda: EvaluationCallback(every=10, dataset="svhn"), "svhn"),
        (lambda: EvaluationCallback(every=10, missing_fraction=0), "missing_fraction"),
    ],
)
def test_bad_input_raises_a_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_callback_warns_when_the_generator_draws_one_class(mnist):
    threes = mnist.images[mnist.labels == 3][:N_GEN]
    cb = EvaluationCallback(every=5, n=N_GEN)
    cb.on_step(stub_trainer(Replay(threes), 4, [0.6]), {})
    assert cb.results == {}  # not a multiple of `every`
    with pytest.warns(ModeCollapseWarning, match="mode collapse.*0 \\(0.0%\\)"):
        cb.on_step(stub_trainer(Replay(threes), 5, [0.6]), {})
    assert list(cb.results) == [5]
    assert cb.results[5]["classes_covered"] == 1
    assert len(cb.alerts) == 1


def test_the_warning_names_the_callers_line_and_can_be_turned_off(mnist):
    threes = Replay(mnist.images[mnist.labels == 3][:N_GEN])
    cb = EvaluationCallback(every=5, n=N_GEN)
    with pytest.warns(ModeCollapseWarning) as caught:
        cb.measure(stub_trainer(threes, 5, [0.6]))
    assert [w.filename for w in caught] == [__file__]  # not gankit's own code
    quiet = EvaluationCallback(every=5, n=N_GEN, warn=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModeCollapseWarning)
        quiet.measure(stub_trainer(threes, 5, [0.6]))
    assert quiet.alerts == cb.alerts and len(quiet.alerts) == 1


def test_the_callbacks_figures_use_its_own_missing_fraction(mnist):
    # At fraction 1.0 a digit drawn a little less often than a tenth of the
    # time already counts as missing: the stored figures must say so too.
    digits = mnist.images[:N_GEN]
    strict = EvaluationCallback(every=5, n=N_GEN, missing_fraction=1.0, warn=False)
    figures = strict.measure(stub_trainer(Replay(digits), 5, [0.6]))
    expected = evaluate_images(digits, "mnist", missing_fraction=1.0)
    assert figures["missing_classes"] == expected["missing_classes"]
    assert figures["classes_covered"] == expected["classes_covered"] < 10


def test_callback_warns_when_the_discriminator_wins_every_round(mnist):
    cb = EvaluationCallback(every=5, n=N_GEN)
    digits = Replay(mnist.images[:N_GEN])
    with pytest.warns(ModeCollapseWarning, match="discriminator.*99.6%"):
        cb.on_step(stub_trainer(digits, 10, [0.7, 0.996]), {})
    assert len(cb.alerts) == 1  # all classes are there: no coverage alert
    steps, fd = cb.series("fd")
    assert steps == [10] and fd == [cb.results[10]["fd"]]


def test_callback_measures_the_last_step_when_asked(mnist):
    digits = Replay(mnist.images[:N_GEN])
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
