"""The whole training loop of the article's DCGAN, in one function.

Chapter 5, ``book/05_losses_and_training.ipynb``; tested in
``tests/lessons/test_loop.py``.

:class:`gankit.Trainer` spreads a step over several pieces
(:func:`gankit.step.discriminator_update`, :func:`gankit.step.generator_updates`,
the batch order, the noise stream) so that variants can swap one of them, and
adds logging, the EMA, checkpoints and a GPU fast path around them.
:func:`train_dcgan` is the same game written out top to bottom, from the kit's
losses and models: on a CPU, from the same config, it ends on exactly the
weights the Trainer ends on.
"""

from __future__ import annotations

import torch

from ..batches import BatchOrder
from ..config import GANConfig
from ..data import ImageData
from ..discriminator import Discriminator
from ..generator import Generator, sample_z
from ..losses import discriminator_loss, generator_loss
from ..modes import frozen
from ..step import build_models


def train_dcgan(
    data: ImageData, cfg: GANConfig, steps: int
) -> tuple[Generator, Discriminator]:
    """Train the article's DCGAN on ``data`` for ``steps`` discriminator steps
    on the CPU; return the two networks."""
    generator, discriminator = build_models(cfg)  # seeded by cfg.seed
    betas = (cfg.beta1, cfg.beta2)
    opt_g = torch.optim.Adam(generator.parameters(), cfg.lr_g, betas)
    opt_d = torch.optim.Adam(discriminator.parameters(), cfg.lr_d, betas)
    batches = BatchOrder(data, cfg.batch_size, cfg.seed)  # a new shuffle per epoch
    noise = torch.Generator().manual_seed(cfg.seed + 1)
    for step in range(steps):
        real = batches.batch(step)  # (B, C, S, S) in [-1, 1]
        z = sample_z(cfg.batch_size, cfg.z_dim, generator=noise)  # (B, z_dim)
        # The discriminator: real images against 1 - smoothing, generated
        # ones (detached: no gradient into G) against 0.
        fake = generator(z)
        loss_real, loss_fake = discriminator_loss(
            discriminator(real), discriminator(fake.detach()), cfg.label_smoothing
        )
        opt_d.zero_grad()
        (loss_real + loss_fake).backward()
        opt_d.step()
        # The generator: its images called real by the updated D, whose
        # weights stay as they are (frozen) while G learns.
        with frozen(discriminator):
            for i in range(cfg.g_steps_per_d_step):
                if i > 0:  # G has changed: draw the same z again
                    fake = generator(z)
                g_loss = generator_loss(discriminator(fake), cfg.g_loss)
                opt_g.zero_grad()
                g_loss.backward()
                opt_g.step()
    return generator, discriminator
