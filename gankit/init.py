"""Weight initialisation from N(0, 0.02), as in the DCGAN paper and the article.

Taught in ``book/03_generator.ipynb``. Applied with ``model.apply(...)`` so that
every layer type is dispatched by ``isinstance`` in one place.
"""

from __future__ import annotations

from functools import partial

from torch import nn
from torch.nn.utils import parametrize

_WEIGHTED = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)


def init_weights(module: nn.Module, std: float = 0.02) -> None:
    """Draw conv and linear weights from N(0, std), zero their biases.

    Batch-norm layers keep scale 1 and shift 0, the article's TensorFlow defaults.
    Use as ``model.apply(partial(init_weights, std=0.02))``.
    """
    if isinstance(module, _WEIGHTED):
        # Under spectral normalisation ``weight`` is computed from the stored
        # ``original``: that is the tensor to draw.
        weight = (
            module.parametrizations.weight.original
            if parametrize.is_parametrized(module, "weight")
            else module.weight
        )
        nn.init.normal_(weight, mean=0.0, std=std)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d) and module.affine:
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)


def initializer(std: float = 0.02) -> partial[None]:
    """``init_weights`` with ``std`` bound, ready for ``model.apply``."""
    return partial(init_weights, std=std)
