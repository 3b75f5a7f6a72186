"""The DCGAN discriminator: an image -> one real/fake logit.

Taught in ``book/04_discriminator.ipynb``; tested in ``tests/test_discriminator.py``.

Each strided convolution (5x5, stride 2, 'same') halves the side and doubles
the filters; batch norm follows every one but the first; leaky ReLU keeps a
small gradient for negative inputs. The network returns logits: the losses
apply the sigmoid inside ``binary_cross_entropy_with_logits``.
"""

from __future__ import annotations

from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm as _spectral_norm

from .checks import check_image_shape
from .config import SUPPORTED_SIZES
from .init import initializer

FIRST_WIDTH = 64  # filters of the first convolution, as in the article


def down_block(
    in_channels: int, out_channels: int, *, batch_norm: bool, slope: float
) -> nn.Sequential:
    """Conv 5x5 stride 2 'same' (halves the side), optional BatchNorm, LeakyReLU."""
    layers: list[nn.Module] = [nn.Conv2d(in_channels, out_channels, 5, 2, padding=2)]
    if batch_norm:
        layers.append(nn.BatchNorm2d(out_channels))
    layers.append(nn.LeakyReLU(slope, inplace=True))
    return nn.Sequential(*layers)


class Discriminator(nn.Module):
    """DCGAN discriminator of the article.

    Args:
        channels: image channels (1 for MNIST, 3 for SVHN).
        image_size: 32 (three downsamplings) or 64 (four).
        leaky_slope: negative slope of the LeakyReLU.
        init_std: standard deviation of the N(0, std) initial weights.
        spectral_norm: constrain every weight's spectral norm to 1 (Miyato et al.,
            2018) instead of using batch norm; see chapter 6.

    Shape:
        - Input: ``(N, channels, image_size, image_size)``, values in [-1, 1];
          only the shape is checked here, the values by
          :func:`gankit.checks.check_images`.
        - Output: ``(N,)`` logits; ``sigmoid(logit)`` is the probability "real".
    """

    def __init__(
        self,
        channels: int = 3,
        image_size: int = 32,
        leaky_slope: float = 0.2,
        init_std: float = 0.02,
        spectral_norm: bool = False,
    ) -> None:
        super().__init__()
        if image_size not in SUPPORTED_SIZES:
            raise ValueError(
                f"image_size must be one of {SUPPORTED_SIZES}, got {image_size}"
            )
        if channels < 1:
            raise ValueError(f"channels must be at least 1, got {channels}")
        n_blocks = {32: 3, 64: 4}[image_size]
        widths = [channels] + [FIRST_WIDTH * 2**i for i in range(n_blocks)]
        self.channels, self.image_size = channels, image_size
        self.features = nn.Sequential(
            *(
                down_block(
                    a, b, batch_norm=(i > 0 and not spectral_norm), slope=leaky_slope
                )
                for i, (a, b) in enumerate(zip(widths[:-1], widths[1:], strict=True))
            )
        )
        self.feature_dim = widths[-1] * 4 * 4
        self.classifier = nn.Linear(self.feature_dim, 1)
        self.apply(initializer(init_std))
        if spectral_norm:
            for module in self.modules():
                if isinstance(module, (nn.Conv2d, nn.Linear)):
                    _spectral_norm(module)

    def features_of(self, x: Tensor) -> Tensor:
        """Flattened last feature map, the input of the final linear layer.

        Shape:
            - Input: ``(N, channels, image_size, image_size)``.
            - Output: ``(N, feature_dim)``, 4096 at 32px.
        """
        check_image_shape(x, self.channels, self.image_size)  # no value scan, per step
        h = self.features(x)  # (N, 256, 4, 4) at 32px; (N, 512, 4, 4) at 64px
        return h.flatten(1)  # (N, 4096) at 32px

    def forward(self, x: Tensor) -> Tensor:
        h = self.features_of(x)  # (N, feature_dim): 4096 at 32px
        return self.classifier(h).squeeze(1)  # (N,) logits
