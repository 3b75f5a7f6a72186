"""The divergence guard (``gankit.divergence``): NaN or infinite losses,
weights or samples, named by step and never saved. How the loop stops on one
is specified in ``test_trainer.py``."""

import math

import pytest
import torch

from gankit import GANConfig, TrainingDivergedError, load_checkpoint
from gankit.divergence import DivergenceGuard, weights_finite
from gankit.step import build_models
from gankit.trainer import CHECKPOINT_NAME


def spoil_weight(g):
    g.project.weight[0, 0] = float("inf")


def spoil_buffer(g):
    g.stem[0].running_var[3] = float("nan")


def spoil_pair(g):  # their sum alone would cancel out to NaN, still caught
    g.project.weight[0, 0], g.project.weight[0, 1] = float("inf"), -float("inf")


@pytest.mark.parametrize("spoil", [spoil_weight, spoil_buffer, spoil_pair])
def test_a_state_with_infinite_weights_is_never_saved(
    tmp_path, shapes, tiny_cfg, spoil, train
):
    trainer = train(tiny_cfg, shapes, 1, out_dir=tmp_path)
    with torch.no_grad():
        spoil(trainer.generator)
    with pytest.raises(TrainingDivergedError, match="not saved"):
        trainer.save()
    assert load_checkpoint(tmp_path / CHECKPOINT_NAME)["step"] == 1


@pytest.mark.parametrize("spoil", [spoil_weight, spoil_buffer, spoil_pair])
def test_weights_finite_sees_an_infinity_a_nan_or_a_pair_that_cancels(tiny_cfg, spoil):
    g, d = build_models(tiny_cfg)
    assert weights_finite([g, d])
    with torch.no_grad():
        spoil(g)
    assert not weights_finite([g, d])


def guard(tmp_path=None):
    """A guard over two finite networks, with a checkpoint path when given."""
    checkpoint = tmp_path / CHECKPOINT_NAME if tmp_path is not None else None
    return DivergenceGuard(build_models(GANConfig()), checkpoint)


FINE = {"d_loss": 1.2, "g_loss": 0.7}


def test_finite_losses_and_weights_pass_the_check():
    assert guard().check(FINE, 1, 4, weights=True) is None


@pytest.mark.parametrize(
    ("first", "last", "span"),
    [(3, 3, "at step 3"), (1, 4, "between steps 1 and 4")],
)
def test_the_check_names_the_steps_the_figures_came_from(first, last, span):
    with pytest.raises(TrainingDivergedError, match=f"infinite {span};"):
        guard().check({**FINE, "d_loss": math.nan}, first, last, weights=False)


@pytest.mark.parametrize(
    ("bad", "what"),
    [
        ({"d_loss": math.nan}, "d_loss became"),
        ({"g_loss": math.inf}, "g_loss became"),
        ({"d_loss": -math.inf, "g_loss": math.nan}, "d_loss and g_loss became"),
    ],
)
def test_the_check_names_the_loss_that_diverged(bad, what):
    with pytest.raises(TrainingDivergedError, match=f"^{what} NaN or infinite"):
        guard().check({**FINE, **bad}, 2, 2, weights=False)


def test_the_check_names_the_weights_when_only_they_diverged():
    g = guard()
    with torch.no_grad():
        spoil_weight(g.models[0])
    g.check(FINE, 2, 2, weights=False)  # weights not asked for: not read
    with pytest.raises(TrainingDivergedError, match="^the networks' weights became"):
        g.check(FINE, 2, 2, weights=True)


def test_the_error_mentions_the_kept_checkpoint_only_when_it_exists(tmp_path):
    g, nan = guard(tmp_path), {**FINE, "g_loss": math.nan}
    with pytest.raises(TrainingDivergedError) as none_yet:
        g.check(nan, 5, 5, weights=False)
    assert "checkpoint" not in str(none_yet.value)
    (tmp_path / CHECKPOINT_NAME).write_bytes(b"")
    with pytest.raises(TrainingDivergedError) as kept:
        g.check(nan, 5, 5, weights=False)
    assert f"The last good checkpoint, {tmp_path / CHECKPOINT_NAME}, was left" in str(
        kept.value
    )
