"""Why the discriminator uses leaky ReLU, and why it returns logits.

Chapter 4, ``book/04_discriminator.ipynb``; tested in
``tests/lessons/test_activations.py``.

A ReLU unit whose input is negative for every example is *dead*: its output is
0 and so is its derivative, so no gradient flows through it, neither to the
layers before it nor to the network's input. A leaky ReLU keeps a small slope
(0.2 in the article) for negative inputs, so some gradient always gets through.
For a GAN this matters twice: the generator learns only from the gradient of
the discriminator's output with respect to its input image.

:func:`toy_network` builds a small network whose pre-activations can be pushed
negative with one number; :func:`gradient_flow` measures, for any network, the
share of dead units and the gradient that reaches its input and first layer.
:func:`naive_bce` computes the cross-entropy the unstable way (sigmoid, then
log) so that the book can compare it with ``binary_cross_entropy_with_logits``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

ACTIVATIONS = ("relu", "leaky_relu")
_RECTIFIERS = (nn.ReLU, nn.LeakyReLU)


def activation(kind: str, slope: float = 0.2) -> nn.Module:
    """``nn.ReLU()`` for ``"relu"``, ``nn.LeakyReLU(slope)`` for ``"leaky_relu"``."""
    if kind == "relu":
        return nn.ReLU()
    if kind == "leaky_relu":
        if not 0.0 < slope < 1.0:
            raise ValueError(f"slope must be in (0, 1), got {slope}")
        return nn.LeakyReLU(slope)
    raise ValueError(f"kind must be one of {ACTIVATIONS}, got {kind!r}")


def toy_network(
    kind: str,
    *,
    in_features: int = 2,
    width: int = 32,
    depth: int = 2,
    bias: float = 0.0,
    slope: float = 0.2,
    seed: int = 0,
) -> nn.Sequential:
    """A small fully connected network: ``depth`` hidden layers, one output.

    Every hidden layer is ``Linear -> activation``; its biases are all set to
    ``bias``, so a large negative value pushes the pre-activations below zero
    (as one oversized learning-rate step can do). The weights are drawn from
    N(0, 1 / fan_in) with a private generator seeded by ``seed``: two networks
    built with the same arguments but different ``kind`` share their weights,
    and the global random state is left alone.

    Shape:
        - Input: ``(N, in_features)``. Output: ``(N, 1)``.
    """
    for name, value in (("in_features", in_features), ("width", width)):
        if value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}")
    if depth < 1:
        raise ValueError(f"depth must be at least 1, got {depth}")
    activation(kind, slope)  # validates kind and slope before building anything
    rng = torch.Generator().manual_seed(seed)
    sizes = [in_features] + [width] * depth
    layers: list[nn.Module] = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [_linear(fan_in, fan_out, bias, rng), activation(kind, slope)]
    layers.append(_linear(width, 1, 0.0, rng))
    return nn.Sequential(*layers)


def _linear(fan_in: int, fan_out: int, bias: float, rng: torch.Generator) -> nn.Linear:
    # skip_init: the default initialisation would draw from the global RNG.
    layer = nn.utils.skip_init(nn.Linear, fan_in, fan_out)
    with torch.no_grad():
        layer.weight.copy_(torch.randn(fan_out, fan_in, generator=rng) / fan_in**0.5)
        layer.bias.fill_(bias)
    return layer


@dataclass(frozen=True)
class GradientFlow:
    """How much gradient a network lets through, on one batch."""

    dead_share: float  # units whose activation has derivative 0 on every input
    dead_by_layer: tuple[float, ...]  # the same share, activation by activation
    input_grad_norm: float  # norm of d(sum of outputs) / d(input)
    first_layer_grad_norm: float  # norm of that gradient w.r.t. the first weight


def gradient_flow(model: nn.Module, x: Tensor) -> GradientFlow:
    """Measure dead units and the gradient that reaches ``model``'s input.

    A *unit* is one entry of a (leaky) ReLU's input, batch dimension aside
    (one neuron of a linear layer, one position of one channel of a feature
    map). It is dead on this batch when the activation's derivative there is
    0 for every example. The gradients are those of the sum of the outputs, so
    that every example counts; ``first_layer_grad_norm`` is taken on the
    model's first parameter (the first layer's weight, in registration order).
    The model's ``.grad`` fields are not touched and its train/eval mode is
    left as it is.

    Shape:
        - x: ``(N, ...)`` with ``N >= 1``, whatever ``model`` accepts.
    """
    if not isinstance(x, Tensor) or not x.is_floating_point() or x.dim() < 2:
        got = (
            f"{x.dtype}, shape {tuple(x.shape)}"
            if isinstance(x, Tensor)
            else type(x).__name__
        )
        raise ValueError(f"x must be a float batch of shape (N, ...), got {got}")
    if x.shape[0] == 0:
        raise ValueError("x must hold at least one example, got an empty batch")
    rectifiers = [m for m in model.modules() if isinstance(m, _RECTIFIERS)]
    if not rectifiers:
        raise ValueError("model has no ReLU or LeakyReLU whose units could die")
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("model has no trainable parameters")

    inputs: list[tuple[nn.Module, Tensor]] = []

    def keep_input(module: nn.Module, args: tuple[Tensor, ...]) -> None:
        # A copy: the discriminator's LeakyReLU works in place.
        inputs.append((module, args[0].detach().clone()))

    hooks = [m.register_forward_pre_hook(keep_input) for m in rectifiers]
    try:
        x = x.detach().clone().requires_grad_(True)
        out = model(x)
    finally:
        for hook in hooks:
            hook.remove()
    grad_x, grad_w = torch.autograd.grad(out.sum(), [x, params[0]], allow_unused=True)
    grad_w = torch.zeros_like(params[0]) if grad_w is None else grad_w
    grad_x = torch.zeros_like(x) if grad_x is None else grad_x

    dead, units = [], []
    for module, pre in inputs:
        slope = _local_slope(module, pre)  # (N, *unit_shape)
        dead.append(int((slope == 0).all(dim=0).sum()))
        units.append(slope[0].numel())
    return GradientFlow(
        dead_share=sum(dead) / sum(units),
        dead_by_layer=tuple(d / u for d, u in zip(dead, units, strict=True)),
        input_grad_norm=float(grad_x.norm()),
        first_layer_grad_norm=float(grad_w.norm()),
    )


def _local_slope(module: nn.Module, pre: Tensor) -> Tensor:
    """The activation's derivative at every entry of ``pre``, by autograd."""
    with torch.enable_grad():
        p = pre.clone().requires_grad_(True)
        # module(p * 1): an in-place activation may not overwrite a leaf.
        (slope,) = torch.autograd.grad(module(p * 1).sum(), p)
    return slope


def naive_bce(logits: Tensor, target: float | Tensor) -> Tensor:
    """Binary cross-entropy computed the fragile way: sigmoid, then log.

    ``-(t * log(sigmoid(x)) + (1 - t) * log(1 - sigmoid(x)))`` per element,
    with no clamping (a term whose weight is 0 counts as 0). In float32,
    ``sigmoid(x)`` rounds to exactly 1 once x is above about 17, so
    ``log(1 - sigmoid(x))`` becomes ``log(0) = -inf``; well before that it
    loses digits. Only for comparison with ``binary_cross_entropy_with_logits``,
    which gankit's losses use.

    Shape:
        - logits: any shape; target: a number in [0, 1] or a tensor that
          broadcasts against it. Output: the shape of ``logits``.
    """
    if not isinstance(logits, Tensor) or not logits.is_floating_point():
        raise ValueError(f"logits must be a float tensor, got {type(logits).__name__}")
    t = torch.as_tensor(target, dtype=logits.dtype, device=logits.device)
    if ((t < 0) | (t > 1)).any():
        raise ValueError(f"target must lie in [0, 1], got {target}")
    p = torch.sigmoid(logits)
    return -(torch.xlogy(t, p) + torch.xlogy(1 - t, 1 - p))
