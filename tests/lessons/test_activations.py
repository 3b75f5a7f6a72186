import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gankit.discriminator import Discriminator
from gankit.lessons.activations import (
    GradientFlow,
    activation,
    gradient_flow,
    naive_bce,
    toy_network,
)


def batch(n: int = 256, features: int = 2, seed: int = 1) -> torch.Tensor:
    return torch.randn(n, features, generator=torch.Generator().manual_seed(seed))


def test_leaky_relu_is_the_larger_of_x_and_slope_times_x():
    x = torch.linspace(-3, 3, 61)
    assert torch.equal(activation("leaky_relu", 0.2)(x), torch.maximum(0.2 * x, x))
    assert torch.equal(activation("relu")(x), x.clamp(min=0))


@pytest.mark.parametrize(
    ("kind", "slope"), [("tanh", 0.2), ("leaky_relu", 0.0), ("leaky_relu", 1.5)]
)
def test_activation_rejects_unknown_kind_and_bad_slope(kind, slope):
    with pytest.raises(ValueError, match="kind|slope"):
        activation(kind, slope)


def test_toy_network_has_depth_hidden_layers_and_the_chosen_bias():
    net = toy_network("relu", in_features=3, width=8, depth=3, bias=-2.0)
    linears = [m for m in net if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [
        (3, 8),
        (8, 8),
        (8, 8),
        (8, 1),
    ]
    assert all(torch.all(m.bias == -2.0) for m in linears[:-1])
    assert torch.all(linears[-1].bias == 0.0)
    assert net(batch(5, 3)).shape == (5, 1)


def test_toy_networks_share_weights_across_kinds_and_leave_global_rng_alone():
    state = torch.get_rng_state()
    relu, leaky = toy_network("relu", seed=3), toy_network("leaky_relu", seed=3)
    assert torch.equal(torch.get_rng_state(), state)
    for a, b in zip(relu.parameters(), leaky.parameters(), strict=True):
        assert torch.equal(a, b)
    other = toy_network("relu", seed=4)
    assert not torch.equal(relu[0].weight, other[0].weight)


@pytest.mark.parametrize(
    "kwargs", [{"depth": 0}, {"width": 0}, {"in_features": 0}, {"kind": "elu"}]
)
def test_toy_network_rejects_bad_sizes(kwargs):
    args = {"kind": "relu", **kwargs}
    with pytest.raises(ValueError):
        toy_network(args.pop("kind"), **args)


def test_relu_units_pushed_negative_are_all_dead_and_block_every_gradient():
    flow = gradient_flow(toy_network("relu", bias=-20.0), batch())
    assert flow.dead_share == 1.0
    assert flow.dead_by_layer == (1.0, 1.0)
    assert flow.input_grad_norm == 0.0
    assert flow.first_layer_grad_norm == 0.0


def test_leaky_relu_with_the_same_weights_has_no_dead_unit_and_passes_gradient():
    flow = gradient_flow(toy_network("leaky_relu", bias=-20.0), batch())
    assert flow.dead_share == 0.0
    assert flow.input_grad_norm > 0.0
    assert flow.first_layer_grad_norm > 0.0


def test_one_fully_dead_layer_is_enough_to_zero_the_input_gradient():
    # Bias -3: some first-layer units still fire, but the second layer is dead.
    flow = gradient_flow(toy_network("relu", bias=-3.0), batch())
    assert flow.dead_by_layer[0] < 1.0
    assert flow.dead_by_layer[1] == 1.0
    assert flow.input_grad_norm == 0.0


def test_leaky_gradient_through_negative_units_is_the_slope_times_the_weights():
    # One hidden layer, every unit negative: d out / d x = slope * w2 @ W1 per row.
    net = toy_network("leaky_relu", in_features=2, width=4, depth=1, bias=-50.0)
    x = batch(3, 2)
    flow = gradient_flow(net, x)
    per_row = 0.2 * (net[2].weight @ net[0].weight).detach()  # (1, 2)
    expected = per_row.norm() * math.sqrt(3)
    assert flow.input_grad_norm == pytest.approx(float(expected), rel=1e-5)


def test_dead_share_counts_units_negative_on_every_input_only():
    net = nn.Sequential(nn.Linear(4, 4), nn.ReLU())
    with torch.no_grad():
        net[0].weight.copy_(torch.eye(4))
        net[0].bias.zero_()
    x = torch.tensor([[-1.0, -1.0, 2.0, -1.0], [-2.0, 3.0, 1.0, -0.5]])
    flow = gradient_flow(net, x)
    assert flow.dead_share == 0.5  # columns 0 and 3
    # d sum(relu(x)) / dx is 1 at the three positive entries, 0 elsewhere.
    assert flow.input_grad_norm == pytest.approx(math.sqrt(3.0))


def test_gradient_flow_is_deterministic_and_leaves_model_untouched():
    net = toy_network("relu", bias=-1.0)
    before = [p.detach().clone() for p in net.parameters()]
    first, second = gradient_flow(net, batch()), gradient_flow(net, batch())
    assert first == second
    assert isinstance(first, GradientFlow)
    assert all(p.grad is None for p in net.parameters())
    for p, q in zip(net.parameters(), before, strict=True):
        assert torch.equal(p, q)


def test_gradient_flow_reaches_the_discriminator_input_only_when_leaky():
    images = torch.rand(4, 1, 32, 32, generator=torch.Generator().manual_seed(0))
    flows = {}
    for slope in (0.0, 0.2):
        d = Discriminator(channels=1, leaky_slope=slope).eval()
        with torch.no_grad():
            d.features[0][0].bias.fill_(-10.0)  # first layer switched off
        flows[slope] = gradient_flow(d, images * 2 - 1)
        assert not d.training
    assert flows[0.0].dead_by_layer[0] == 1.0
    assert flows[0.0].input_grad_norm == 0.0
    assert flows[0.2].dead_share == 0.0
    assert flows[0.2].input_grad_norm > 0.0


@pytest.mark.parametrize(
    ("model", "x"),
    [
        (toy_network("relu"), torch.zeros(0, 2)),
        (toy_network("relu"), torch.zeros(4, 2, dtype=torch.long)),
        (toy_network("relu"), torch.zeros(2)),
        (toy_network("relu"), [[0.0, 0.0]]),
        (nn.Sequential(nn.Linear(2, 1), nn.Tanh()), torch.zeros(4, 2)),
    ],
)
def test_gradient_flow_rejects_bad_input(model, x):
    with pytest.raises(ValueError):
        gradient_flow(model, x)


def test_naive_bce_agrees_with_the_logits_form_for_moderate_logits():
    x = torch.linspace(-6, 6, 25)
    for t in (0.0, 0.9, 1.0):
        exact = F.binary_cross_entropy_with_logits(
            x, torch.full_like(x, t), reduction="none"
        )
        assert torch.allclose(naive_bce(x, t), exact, atol=1e-5)


def test_naive_bce_rounds_to_infinity_where_the_logits_form_stays_exact():
    x = torch.tensor([20.0, 100.0])
    naive = naive_bce(x, 0.0)
    exact = F.binary_cross_entropy_with_logits(x, torch.zeros_like(x), reduction="none")
    assert torch.isinf(naive).all()
    assert torch.allclose(exact, x)  # softplus(x) = x + log1p(exp(-x)) ~ x


def test_naive_bce_loses_digits_before_it_overflows():
    x = torch.linspace(8.0, 15.0, 29)
    reference = F.softplus(x.double())
    naive_error = ((naive_bce(x, 0.0).double() - reference).abs() / reference).max()
    exact = F.binary_cross_entropy_with_logits(x, torch.zeros_like(x), reduction="none")
    exact_error = ((exact.double() - reference).abs() / reference).max()
    assert naive_error > 1e-5
    assert exact_error < 1e-6


@pytest.mark.parametrize(
    ("logits", "target"),
    [(torch.zeros(3, dtype=torch.long), 0.0), (torch.zeros(3), 1.5), ([0.0], 0.0)],
)
def test_naive_bce_rejects_bad_input(logits, target):
    with pytest.raises(ValueError):
        naive_bce(logits, target)
