"""Which real images each training step sees.

Used by :class:`gankit.Trainer` and taught in
``book/05_losses_and_training.ipynb``; tested in ``tests/test_batches.py``.

The order is a function of ``(seed, step)`` alone: each epoch is a fresh
permutation drawn from the seed and the epoch's number, and the step's batch is
a slice of it. A resumed run therefore sees exactly the batches it would have
seen without stopping, and a step needs no state but its number. Under
``torchrun`` every process computes the same permutation and takes its share.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .checks import check_range
from .config import GANConfig
from .data import ImageData
from .distributed import Ranks


def checked_training_data(
    data: ImageData | Tensor | None, cfg: GANConfig, device: torch.device
) -> ImageData | Tensor:
    """``data`` on ``device``, once checked against ``cfg``: its shape and
    channels, and for a float tensor its dtype and its range ([-1, 1], finite).

    Raises:
        ValueError: no data, another shape, a non-float tensor, values outside
            [-1, 1] or NaN, or fewer images than one batch.
    """
    if data is None:  # the Trainer's data argument is optional only in form
        raise ValueError(
            "Trainer needs data: an ImageData or a float tensor (N, C, S, S) in [-1, 1]"
        )
    images = data.images if isinstance(data, ImageData) else data
    if not isinstance(images, Tensor):
        raise ValueError(f"data must be ImageData or a Tensor, got {type(data)}")
    expected = (cfg.channels, cfg.image_size, cfg.image_size)
    if images.dim() != 4 or tuple(images.shape[1:]) != expected:
        raise ValueError(
            f"data must have shape (N, {cfg.channels}, {cfg.image_size}, "
            f"{cfg.image_size}) to match the config, got {tuple(images.shape)}"
        )
    if isinstance(data, ImageData):
        checked: ImageData | Tensor = data.to(device)
    elif not images.is_floating_point():
        raise ValueError(
            f"a data tensor must be float in [-1, 1], got {images.dtype}; "
            "wrap uint8 images in gankit.ImageData instead"
        )
    else:
        check_range(images, -1.0, 1.0, name="data")
        checked = images.to(device, torch.float32)  # the networks' dtype
    if len(checked) < cfg.batch_size:
        raise ValueError(
            f"the dataset has {len(checked)} images, fewer than one batch of "
            f"{cfg.batch_size}; lower batch_size or give more data"
        )
    return checked


class BatchOrder:
    """The real batch of each step, drawn without replacement epoch by epoch.

    Args:
        data: checked training images (:func:`checked_training_data`).
        batch_size: images per step, for all processes together.
        seed: fixes the order of every epoch.
        ranks: this process's place under ``torchrun``, which takes its share
            of each batch (default: one process).

    Raises:
        ValueError: ``batch_size`` is not a multiple of the processes.
    """

    def __init__(
        self,
        data: ImageData | Tensor,
        batch_size: int,
        seed: int,
        *,
        ranks: Ranks | None = None,
    ) -> None:
        self.rank, self.world_size = (ranks.rank, ranks.world_size) if ranks else (0, 1)
        if batch_size % self.world_size:
            raise ValueError(
                f"batch_size {batch_size} is not a multiple of the "
                f"{self.world_size} processes that share each batch"
            )
        self.data, self.batch_size, self.seed = data, batch_size, seed
        self._perm: tuple[int, Tensor] | None = None

    @property
    def steps_per_epoch(self) -> int:
        return len(self.data) // self.batch_size

    def permutation(self, epoch: int) -> Tensor:
        """The order of the images in ``epoch``, derived from (seed, epoch) alone."""
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        device = (
            self.data.images.device
            if isinstance(self.data, ImageData)
            else (self.data.device)
        )
        return torch.randperm(len(self.data), generator=g).to(device)

    def batch(self, step: int) -> Tensor:
        """The real batch that step ``step + 1`` trains on, float in [-1, 1]:
        ``(B, C, S, S)`` (with several processes, this rank's ``B / world_size``)."""
        epoch, pos = divmod(step, self.steps_per_epoch)
        if self._perm is None or self._perm[0] != epoch:
            self._perm = (epoch, self.permutation(epoch))
        b = self.batch_size
        idx = self._perm[1][pos * b : (pos + 1) * b]
        if self.world_size > 1:  # this rank's share of the global batch
            idx = idx[self.rank :: self.world_size]
        if isinstance(self.data, ImageData):
            return self.data.batch(idx)
        return self.data[idx]
