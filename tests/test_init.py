import pytest
import torch
from torch import nn

from gankit import init_weights
from gankit.init import initializer


def test_conv_and_linear_weights_follow_n_0_002_and_biases_are_zero():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(64, 128, 5),
        nn.Linear(4096, 256),
        nn.ConvTranspose2d(128, 64, 5),
        nn.BatchNorm2d(64),
    )
    model.apply(initializer(0.02))
    for layer in model[:3]:
        w = layer.weight.detach()
        assert abs(w.mean().item()) < 1e-3
        assert abs(w.std().item() - 0.02) < 1e-3
        assert torch.all(layer.bias == 0)
    assert torch.all(model[3].weight == 1) and torch.all(model[3].bias == 0)


def test_init_weights_leaves_other_modules_alone():
    act = nn.LeakyReLU(0.2)
    init_weights(act)  # no parameters, nothing to do, no error
    assert act.negative_slope == 0.2
    # modules with parameters of kinds the article does not initialise
    others = nn.Sequential(nn.LayerNorm(4), nn.PReLU(), nn.Embedding(3, 4))
    before = {k: v.clone() for k, v in others.state_dict().items()}
    others.apply(init_weights)
    for k, v in others.state_dict().items():
        assert torch.equal(v, before[k]), k


def test_a_spectrally_normalised_layer_gets_its_stored_weight_drawn():
    torch.manual_seed(0)
    layer = nn.utils.parametrizations.spectral_norm(nn.Linear(64, 64)).eval()
    init_weights(layer, std=5.0)
    stored = layer.parametrizations.weight.original
    assert abs(stored.std().item() - 5.0) < 0.3  # drawn, not left at its default
    assert torch.all(layer.bias == 0)
    assert not any(m.training for m in layer.modules())  # its mode is kept
    # and the norm holds for the new weight (eval mode: no further iteration)
    sigma = torch.linalg.matrix_norm(layer.weight.detach(), ord=2).item()
    assert sigma == pytest.approx(1.0, abs=0.05)


def test_batch_norm_without_scale_and_shift_is_left_alone():
    bn = nn.BatchNorm2d(4, affine=False)
    init_weights(bn)  # nothing to set, no error
    assert bn.weight is None
