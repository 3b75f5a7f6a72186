"""The pure training step: one round of the game, and the models it trains.

Taught in ``book/05_losses_and_training.ipynb``; tested in ``tests/test_step.py``.

:func:`train_step` is one discriminator update on a real and a generated
batch (:func:`discriminator_update`), then ``g_steps_per_d_step`` generator
updates (:func:`generator_updates`); it returns its figures
(:func:`step_figures`) as device tensors and never waits for the device. The
halves are public so that a variant (feature matching in chapter 6, the toys
of chapters 1 and 2) changes one piece and reuses the rest. Nothing here
schedules, logs or saves: that is :class:`gankit.Trainer`'s job.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import Tensor, nn

from .config import GANConfig
from .discriminator import Discriminator
from .generator import Generator
from .losses import discriminator_accuracy, discriminator_loss, generator_loss
from .modes import frozen

#: The figures a step returns, by name.
METRICS = (
    "d_loss",
    "g_loss",
    "d_loss_real",
    "d_loss_fake",
    "d_real",
    "d_fake",
    "d_accuracy",
)

#: The signature of a training step: ``train_step`` and any variant of it.
StepFn = Callable[..., dict[str, Tensor]]


def build_models(cfg: GANConfig) -> tuple[Generator, Discriminator]:
    """The article's generator and discriminator for ``cfg``, seeded by ``cfg.seed``.

    The global RNG is left as it was: the models' weights depend on the seed only.
    """
    with torch.random.fork_rng(devices=[]):
        # The CPU's generator alone: fork_rng(devices=[]) restores only that
        # one, and torch.manual_seed would reseed every GPU's as well.
        torch.default_generator.manual_seed(cfg.seed)
        g = Generator(cfg.z_dim, cfg.channels, cfg.image_size, cfg.init_std)
        d = Discriminator(
            cfg.channels,
            cfg.image_size,
            cfg.leaky_slope,
            cfg.init_std,
            spectral_norm=cfg.spectral_norm,
        )
    return g, d


class DiscriminatorUpdate(NamedTuple):
    """What one discriminator update leaves for the generator's turn."""

    fake: Tensor  # G(z), still attached to G's graph: (B, ...)
    real_logits: Tensor  # D's logits on the real batch, before its update: (B,)
    fake_logits: Tensor  # D's logits on the generated batch, before its update: (B,)
    loss_real: Tensor  # BCE of the real batch against 1 - smoothing
    loss_fake: Tensor  # BCE of the generated batch against 0


def discriminator_update(
    generator: nn.Module,
    discriminator: nn.Module,
    opt_d: torch.optim.Optimizer,
    real: Tensor,
    z: Tensor,
    label_smoothing: float,
) -> DiscriminatorUpdate:
    """The first half of a training step: one update of D on a real and a
    generated batch, fed separately as the article does (so batch norm sees
    each on its own). ``label_smoothing`` lowers the real batch's target to
    ``1 - label_smoothing`` (the article's 0.1; 0 for none).

    Shape:
        - real: ``(B, C, S, S)`` in [-1, 1] for the DCGAN (any ``(B, ...)``
          that both networks take); z: ``(B, z_dim)``.
    """
    fake = generator(z)  # (B, C, S, S)
    real_logits = discriminator(real)  # (B,)
    fake_logits = discriminator(fake.detach())  # (B,): no gradient into G here
    loss_real, loss_fake = discriminator_loss(real_logits, fake_logits, label_smoothing)
    opt_d.zero_grad(set_to_none=True)
    (loss_real + loss_fake).backward()
    opt_d.step()
    return DiscriminatorUpdate(fake, real_logits, fake_logits, loss_real, loss_fake)


@torch.no_grad()
def step_figures(d: DiscriminatorUpdate, g_loss: Tensor) -> dict[str, Tensor]:
    """A step's figures (see ``METRICS``) as detached 0-dim tensors: ``d_real``
    and ``d_fake`` are the mean probabilities D gave the real and generated batch."""
    real_logits, fake_logits = d.real_logits.detach(), d.fake_logits.detach()
    return {
        "d_loss": (d.loss_real + d.loss_fake).detach(),
        "g_loss": g_loss.detach(),
        "d_loss_real": d.loss_real.detach(),
        "d_loss_fake": d.loss_fake.detach(),
        "d_real": torch.sigmoid(real_logits).mean(),
        "d_fake": torch.sigmoid(fake_logits).mean(),
        "d_accuracy": discriminator_accuracy(real_logits, fake_logits),
    }


def generator_updates(
    generator: nn.Module,
    discriminator: nn.Module,
    opt_g: torch.optim.Optimizer,
    fake: Tensor,
    z: Tensor,
    steps: int,
    loss_of: Callable[[Tensor], Tensor],
) -> Tensor:
    """The second half of a training step: ``steps`` updates of G, each
    minimising ``loss_of(images)`` with D frozen. Returns the last loss.

    ``fake`` is ``G(z)`` from the discriminator's half, still attached to G's
    graph, so the first update draws nothing new; later ones draw ``G(z)``
    again, because G has changed.

    Shape:
        - fake: ``(B, C, S, S)``; z: ``(B, z_dim)``.
    """
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    # D's weights need no gradient during G's steps; skipping it saves work.
    with frozen(discriminator):
        for i in range(steps):
            if i > 0:  # G changed: draw the images again
                fake = generator(z)
            g_loss = loss_of(fake)
            opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
            opt_g.step()
    return g_loss


def train_step(
    generator: nn.Module,
    discriminator: nn.Module,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    real: Tensor,
    z: Tensor,
    cfg: GANConfig,
) -> dict[str, Tensor]:
    """One discriminator update, then ``cfg.g_steps_per_d_step`` generator updates.

    The generator's steps reuse ``z``, as the article's notebook did. Returns
    detached 0-dim tensors (see ``METRICS`` and :func:`step_figures`); it never
    waits for the device.

    Shape:
        - real: ``(B, C, S, S)`` in [-1, 1]; z: ``(B, z_dim)`` in [-1, 1].
    """
    d = discriminator_update(
        generator, discriminator, opt_d, real, z, cfg.label_smoothing
    )
    g_loss = generator_updates(
        generator,
        discriminator,
        opt_g,
        d.fake,
        z,
        cfg.g_steps_per_d_step,
        lambda images: generator_loss(discriminator(images), cfg.g_loss),
    )
    return step_figures(d, g_loss)
