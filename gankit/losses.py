"""The GAN losses, on logits.

Taught in ``book/05_losses_and_training.ipynb``; tested in ``tests/test_losses.py``.

The discriminator is a binary classifier: real images should score 1 (or
``1 - smoothing``: one-sided label smoothing), generated ones 0. The generator
wants its images scored 1. Every loss applies the sigmoid inside
``binary_cross_entropy_with_logits``, which is exact where ``log(sigmoid(x))``
computed in two steps would round to ``log(0)``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def _check_logits(logits: Tensor, name: str) -> None:
    if not isinstance(logits, Tensor) or logits.dim() != 1 or len(logits) == 0:
        shape = tuple(logits.shape) if isinstance(logits, Tensor) else type(logits)
        raise ValueError(f"{name} must be logits of shape (N,), N >= 1, got {shape}")


def discriminator_loss(
    real_logits: Tensor, fake_logits: Tensor, smoothing: float = 0.1
) -> tuple[Tensor, Tensor]:
    """Binary cross-entropy of D on a real and a generated batch.

    Returns ``(loss_real, loss_fake)``; the article's ``d_loss`` is their sum.
    Real targets are ``1 - smoothing`` (one-sided label smoothing), fake
    targets are 0.

    Shape:
        - real_logits: ``(N,)``; fake_logits: ``(M,)``. Outputs: scalars.
    """
    _check_logits(real_logits, "real_logits")
    _check_logits(fake_logits, "fake_logits")
    if not 0.0 <= smoothing < 1.0:
        raise ValueError(f"smoothing must be in [0, 1), got {smoothing}")
    real_target = torch.full_like(real_logits, 1.0 - smoothing)
    loss_real = F.binary_cross_entropy_with_logits(real_logits, real_target)
    loss_fake = F.binary_cross_entropy_with_logits(
        fake_logits, torch.zeros_like(fake_logits)
    )
    return loss_real, loss_fake


def generator_loss(fake_logits: Tensor, kind: str = "non_saturating") -> Tensor:
    """The generator's loss on D's logits for generated images.

    ``"non_saturating"`` (the article's, and Goodfellow et al.'s practical
    choice): ``-log D(G(z))``, i.e. BCE against target 1. ``"saturating"``: the
    minimax form ``log(1 - D(G(z)))``, which the generator minimises; its
    gradient vanishes exactly when D confidently rejects the fakes, early in
    training.

    Shape:
        - fake_logits: ``(N,)``. Output: scalar.
    """
    _check_logits(fake_logits, "fake_logits")
    if kind == "non_saturating":
        return F.binary_cross_entropy_with_logits(
            fake_logits, torch.ones_like(fake_logits)
        )
    if kind == "saturating":
        # log(1 - sigmoid(x)) = -softplus(x), computed stably, and in at least
        # float32 as the cross-entropies are (CPU autocast would run it in
        # bfloat16); float64 stays float64.
        wide = torch.promote_types(fake_logits.dtype, torch.float32)
        return -F.softplus(fake_logits.to(wide)).mean()
    raise ValueError(f"kind must be 'non_saturating' or 'saturating', got {kind!r}")


def discriminator_accuracy(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """Share of a real and a fake batch that D classifies right (logit > 0 is real).

    Returns a 0-dim tensor, so that it can be averaged on the device without a
    host sync.

    Shape:
        - real_logits: ``(N,)``; fake_logits: ``(M,)``. Output: ``()``.
    """
    right = (real_logits > 0).sum() + (fake_logits <= 0).sum()
    return right.float() / (real_logits.numel() + fake_logits.numel())
