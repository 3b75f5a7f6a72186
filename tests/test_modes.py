"""A module's state changed for a while and put back (``gankit.modes``)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gankit.lessons.improved import largest_singular_values
from gankit.lessons.latent import generate
from gankit.lessons.summary import layer_table
from gankit.modes import device_of, evaluating, frozen, in_mode


def mixed() -> nn.Sequential:
    """A model in training mode but for one batch-norm layer kept in eval mode."""
    model = nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4), nn.Dropout(0.5))
    model.train()
    model[1].eval()
    return model


def modes(model: nn.Module) -> list[bool]:
    return [m.training for m in model.modules()]


def test_evaluating_puts_every_module_in_eval_mode_and_each_back():
    model = mixed()
    before = modes(model)
    with evaluating(model) as inside:
        assert inside is model and not any(modes(model))
    assert modes(model) == before == [True, True, False, True]


def test_evaluating_restores_the_modes_when_the_body_raises():
    model = mixed()
    with pytest.raises(RuntimeError, match="boom"), evaluating(model):
        raise RuntimeError("boom")
    assert modes(model) == [True, True, False, True]


def test_frozen_restores_each_parameters_own_flag():
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    model[0].requires_grad_(False)
    with pytest.raises(RuntimeError, match="boom"), frozen(model):
        assert not any(p.requires_grad for p in model.parameters())
        raise RuntimeError("boom")
    assert [p.requires_grad for p in model.parameters()] == [False, False, True, True]


def test_the_packages_helpers_leave_a_mixed_model_as_it_was():
    model = mixed()
    before = modes(model)
    layer_table(model, torch.zeros(3, 2))
    assert modes(model) == before
    largest_singular_values(model)
    assert modes(model) == before


def test_latent_generate_leaves_the_generators_modes_as_they_were():
    from gankit import Generator

    g = Generator(z_dim=4, channels=1).train()
    g.stem[0].eval()
    before = modes(g)
    generate(g, torch.zeros(2, 4))
    assert modes(g) == before


def test_in_mode_can_put_a_model_in_training_mode_and_each_module_back():
    model = mixed().eval()
    model[0].train()
    before = modes(model)
    with in_mode(model, training=True):
        assert all(modes(model))
    assert modes(model) == before == [False, True, False, False]


def test_device_of_reads_a_parameter_or_buffer_and_defaults_to_the_cpu():
    assert device_of(nn.Linear(2, 2).to("meta")).type == "meta"
    assert device_of(nn.BatchNorm1d(2, affine=False).to("meta")).type == "meta"
    assert device_of(nn.ReLU()) == torch.device("cpu")
