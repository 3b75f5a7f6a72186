"""The plain training loop, written the way the PyTorch DCGAN example writes it.

The appendix, ``book/07_engineering.ipynb``; timed against the Trainer in
``benchmarks/throughput.py``; tested in ``tests/lessons/test_reference.py``.

:class:`gankit.Trainer` takes shortcuts that should change how fast it trains,
not what it learns: the whole dataset on the device as uint8, noise drawn on
the device, figures read every ``log_every`` steps instead of every step, and
on a GPU the whole step replayed as one CUDA graph. This module is the
yardstick for that claim: the same networks, losses and optimizers in the loop
most DCGAN code grew from, with a ``DataLoader``, one generator update per
discriminator update reusing the discriminator's generated batch, and
``.item()`` on the losses at every step.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from ..config import GANConfig
from ..discriminator import Discriminator
from ..generator import Generator
from ..runtime import resolve_device
from ..step import build_models


class ReferenceStep(NamedTuple):
    """What the loop has after one step."""

    step: int  # steps done, from 1
    generator: Generator
    discriminator: Discriminator
    d_loss: float  # loss_real + loss_fake of this step's discriminator update
    g_loss: float  # this step's generator loss


def reference_steps(
    data: Dataset,
    cfg: GANConfig,
    device: str | torch.device = "auto",
    *,
    num_workers: int = 0,
) -> Iterator[ReferenceStep]:
    """Train the article's DCGAN step after step, without end; yield after each.

    The caller decides when to stop (``itertools.islice``, ``break``) and may
    measure or save the networks between steps. The networks come from
    :func:`gankit.step.build_models` (seeded by ``cfg.seed``); the DataLoader's
    shuffling and the noise come from the global random generator, as in the
    example. Epochs follow one another; the last, incomplete batch of each is
    dropped.

    Args:
        data: a dataset of ``(image, label)`` pairs, images ``(C, S, S)`` in
            [-1, 1] (e.g. :func:`gankit.load_dataset`'s).
        cfg: hyper-parameters; ``g_steps_per_d_step`` and ``g_loss`` are
            ignored: the example updates the generator once per step, with
            the non-saturating loss.
        device: "cpu", "cuda" or "auto".
        num_workers: the DataLoader's worker processes.

    Raises:
        ValueError: ``data`` holds fewer images than one batch.
    """
    n = len(data)  # type: ignore[arg-type]
    if n < cfg.batch_size:
        raise ValueError(
            f"the dataset holds {n} images, fewer than one batch of {cfg.batch_size}"
        )
    device = resolve_device(device)
    net_g, net_d = build_models(cfg)
    net_g, net_d = net_g.to(device), net_d.to(device)
    criterion = nn.BCEWithLogitsLoss()
    opt_d = torch.optim.Adam(
        net_d.parameters(), lr=cfg.lr_d, betas=(cfg.beta1, cfg.beta2)
    )
    opt_g = torch.optim.Adam(
        net_g.parameters(), lr=cfg.lr_g, betas=(cfg.beta1, cfg.beta2)
    )
    loader = DataLoader(
        data,
        batch_size=cfg.batch_size,
        shuffle=True,
        drop_last=True,
        num_workers=num_workers,
        pin_memory=device.type == "cuda",
    )
    step = 0
    while True:
        for real, _ in loader:
            real = real.to(device)  # (B, C, S, S)
            b = real.size(0)
            # The discriminator: a real batch against 1 - smoothing ...
            net_d.zero_grad()
            label = torch.full((b,), 1.0 - cfg.label_smoothing, device=device)
            err_d_real = criterion(net_d(real), label)
            err_d_real.backward()
            # ... and a generated batch against 0.
            noise = torch.rand(b, cfg.z_dim, device=device) * 2 - 1  # (B, z_dim)
            fake = net_g(noise)
            label.fill_(0.0)
            err_d_fake = criterion(net_d(fake.detach()), label)
            err_d_fake.backward()
            opt_d.step()
            # The generator: the same generated batch, against 1.
            net_g.zero_grad()
            label.fill_(1.0)
            err_g = criterion(net_d(fake), label)
            err_g.backward()
            opt_g.step()
            step += 1
            yield ReferenceStep(
                step, net_g, net_d, (err_d_real + err_d_fake).item(), err_g.item()
            )
