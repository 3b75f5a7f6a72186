"""Weight initialisation from N(0, 0.02), as in the DCGAN paper and the article.

Taught in ``book/03_generator.ipynb``; tested in ``tests/test_init.py``.
Applied with ``model.apply(...)`` so that every layer type is dispatched by
``isinstance`` in one place.
"""

from __future__ import annotations

from functools import partial

import torch
from torch import nn
from torch.nn.utils import parametrize

from .modes import in_mode

_WEIGHTED = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)


def init_weights(module: nn.Module, std: float = 0.02) -> None:
    """Draw conv and linear weights from N(0, std), zero their biases.

    Batch-norm layers keep scale 1 and shift 0, the article's TensorFlow defaults.
    Use as ``model.apply(partial(init_weights, std=0.02))``.
    """
    if isinstance(module, _WEIGHTED):
        if parametrize.is_parametrized(module, "weight"):
            _draw_parametrized(module, std)
        else:
            nn.init.normal_(module.weight, mean=0.0, std=std)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d) and module.affine:
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)


def _draw_parametrized(module: nn.Module, std: float, iterations: int = 15) -> None:
    """Draw the stored ``original`` that a parametrization (spectral norm) turns
    into ``weight``, then let it catch up: spectral norm's power iteration
    (one step each time ``weight`` is read in training mode) still estimates
    the old weight's largest singular value, which would leave the new layer
    far from norm 1. 15 steps is what torch runs when it adds the norm."""
    chain = module.parametrizations.weight
    nn.init.normal_(chain.original, mean=0.0, std=std)
    with in_mode(chain, training=True), torch.no_grad():
        for _ in range(iterations):
            module.weight  # noqa: B018 - reading it runs one power iteration


def initializer(std: float = 0.02) -> partial[None]:
    """``init_weights`` with ``std`` bound, ready for ``model.apply``."""
    return partial(init_weights, std=std)
