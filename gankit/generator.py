"""The DCGAN generator: z in [-1, 1]^100 -> an image in [-1, 1].

Taught in ``book/03_generator.ipynb``; tested in ``tests/test_generator.py``.

A linear layer lifts z to a 4x4x512 block; each transposed convolution (5x5,
stride 2, 'same' padding) doubles the side and halves the depth, until the last
one writes the image channels, squashed into [-1, 1] by tanh.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .checks import check_latent_shape
from .config import SUPPORTED_SIZES
from .init import initializer

BASE_WIDTH = 512  # channels of the first 4x4 block, as in the article


def up_block(in_channels: int, out_channels: int) -> nn.Sequential:
    """Transposed conv 5x5 stride 2 'same' (doubles the side), BatchNorm, ReLU.

    PyTorch has no 'same' for transposed convolutions: ``padding=2`` with
    ``output_padding=1`` gives exactly ``out = 2 * in`` for a 5x5 kernel.
    """
    return nn.Sequential(
        nn.ConvTranspose2d(
            in_channels, out_channels, 5, 2, padding=2, output_padding=1
        ),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


def widths_for(image_size: int) -> list[int]:
    """Channel widths from the 4x4 block down to the last hidden map."""
    if image_size not in SUPPORTED_SIZES:
        raise ValueError(
            f"image_size must be one of {SUPPORTED_SIZES}, got {image_size}"
        )
    n_hidden = {32: 3, 64: 4}[image_size]  # 4 -> 8 -> 16 (-> 32) hidden sides
    return [BASE_WIDTH // 2**i for i in range(n_hidden)]


class Generator(nn.Module):
    """DCGAN generator of the article.

    Args:
        z_dim: length of the latent vector.
        channels: image channels (1 for MNIST, 3 for SVHN).
        image_size: 32 (three upsamplings) or 64 (four).
        init_std: standard deviation of the N(0, std) initial weights.

    Shape:
        - Input: ``(N, z_dim)``, values in [-1, 1] (see :func:`sample_z`); only
          the shape is checked here, the values by :func:`gankit.checks.check_latent`.
        - Output: ``(N, channels, image_size, image_size)``, values in [-1, 1].
    """

    def __init__(
        self,
        z_dim: int = 100,
        channels: int = 3,
        image_size: int = 32,
        init_std: float = 0.02,
    ) -> None:
        super().__init__()
        if z_dim < 1:
            raise ValueError(f"z_dim must be at least 1, got {z_dim}")
        if channels < 1:
            raise ValueError(f"channels must be at least 1, got {channels}")
        widths = widths_for(image_size)
        self.z_dim, self.channels, self.image_size = z_dim, channels, image_size
        self.project = nn.Linear(z_dim, widths[0] * 4 * 4)
        self.stem = nn.Sequential(nn.BatchNorm2d(widths[0]), nn.ReLU(inplace=True))
        self.up = nn.Sequential(
            *(up_block(a, b) for a, b in zip(widths[:-1], widths[1:], strict=True))
        )
        self.to_image = nn.ConvTranspose2d(
            widths[-1], channels, 5, 2, padding=2, output_padding=1
        )
        self.apply(initializer(init_std))

    def forward(self, z: Tensor) -> Tensor:
        check_latent_shape(z, self.z_dim)  # no value scan, per step
        x = self.project(z)  # (N, 8192)
        x = x.view(-1, BASE_WIDTH, 4, 4)  # (N, 512, 4, 4)
        x = self.stem(x)  # (N, 512, 4, 4)
        x = self.up(x)  # (N, 128, 16, 16) at 32px; (N, 64, 32, 32) at 64px
        x = self.to_image(x)  # (N, channels, image_size, image_size)
        return torch.tanh(x)  # values in [-1, 1]


def sample_z(
    n: int,
    z_dim: int = 100,
    *,
    device: torch.device | str | None = None,
    generator: torch.Generator | None = None,
) -> Tensor:
    """``n`` latent vectors drawn uniformly in [-1, 1], as the article's notebook did.

    Shape:
        - Output: ``(n, z_dim)``.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    u = torch.rand(n, z_dim, device=device, generator=generator)
    return u.mul_(2).sub_(1)
