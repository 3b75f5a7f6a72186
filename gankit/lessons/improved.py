"""Beyond the article's DCGAN: feature matching, minibatch discrimination, and a
look inside spectral normalisation.

Chapter 6, ``book/06_going_further.ipynb``; tested in
``tests/lessons/test_improved.py``.

- :func:`feature_matching_loss` and :func:`feature_matching_step`: the generator
  stops trying to fool the current discriminator and instead matches the mean
  of its penultimate features on real data (Salimans et al., 2016, "Improved
  Techniques for Training GANs").
- :class:`MinibatchDiscrimination`: a layer that lets the discriminator see how
  alike the images of a batch are, so that a collapsed generator (one image
  for every ``z``) is easy to catch (same paper).
- :func:`largest_singular_values`: what spectral normalisation (Miyato et al.,
  2018; ``GANConfig(spectral_norm=True)``) promises, measured layer by layer.

:func:`feature_matching_step` has the signature and return value of
:func:`gankit.train_step`, so a :class:`gankit.Trainer` runs it when given
``step_fn=feature_matching_step``.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..config import GANConfig
from ..modes import evaluating
from ..step import discriminator_update, generator_updates, step_figures


def feature_matching_loss(
    real_features: Tensor,
    fake_features: Tensor,
) -> Tensor:
    """Squared distance between the mean features of a real and a fake batch:
    ``|| mean_i f(x_i) - mean_j f(G(z_j)) ||^2``.

    Zero exactly when the two batches have the same mean features. The batches
    may differ in size; their features must have the same length.

    Shape:
        - real_features: ``(N, F)``; fake_features: ``(M, F)``. Output: scalar.
    """
    named = (("real_features", real_features), ("fake_features", fake_features))
    for name, f in named:
        if not isinstance(f, Tensor):
            raise ValueError(f"{name} must be a tensor, got {type(f).__name__}")
        if f.dim() != 2 or len(f) == 0:
            shape = tuple(f.shape)
            raise ValueError(f"{name} must be (N, F) with N >= 1, got {shape}")
    if real_features.shape[1] != fake_features.shape[1]:
        raise ValueError(
            "real and fake features must have the same length F, got "
            f"{real_features.shape[1]} and {fake_features.shape[1]}"
        )
    gap = real_features.mean(0) - fake_features.mean(0)  # (F,)
    return gap.pow(2).sum()


def feature_matching_step(
    generator: nn.Module,
    discriminator: nn.Module,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    real: Tensor,
    z: Tensor,
    cfg: GANConfig,
) -> dict[str, Tensor]:
    """:func:`gankit.train_step` with feature matching as the generator's loss.

    The discriminator's update is the usual one (binary cross-entropy, label
    smoothing). Then, with D frozen, each of the ``cfg.g_steps_per_d_step``
    generator updates minimises :func:`feature_matching_loss` between D's
    penultimate features (``discriminator.features_of``) on ``real`` and on
    ``G(z)``. Returns the same detached figures as ``train_step``; ``g_loss`` is
    the feature-matching loss.

    Shape:
        - real: ``(B, C, S, S)`` in [-1, 1]; z: ``(B, z_dim)`` in [-1, 1].
    """
    if not callable(getattr(discriminator, "features_of", None)):
        raise ValueError(
            "feature matching needs a discriminator with a features_of(x) "
            f"method, got {type(discriminator).__name__}"
        )
    d = discriminator_update(
        generator, discriminator, opt_d, real, z, cfg.label_smoothing
    )
    with torch.no_grad():  # the target: the updated D's view of real data
        real_features = discriminator.features_of(real)  # (B, F)
    g_loss = generator_updates(
        generator,
        discriminator,
        opt_g,
        d.fake,
        z,
        cfg.g_steps_per_d_step,
        lambda images: feature_matching_loss(
            real_features, discriminator.features_of(images)
        ),
    )
    return step_figures(d, g_loss)


class MinibatchDiscrimination(nn.Module):
    """Features that measure how close each sample is to the rest of its batch.

    Each input vector ``f(x_i)`` is projected by a learned tensor to ``B``
    rows of ``K`` numbers, ``M_i``. For each row ``b``, the closeness of
    samples ``i`` and ``j`` is ``exp(-||M_i,b - M_j,b||_1)``, and the output
    ``o(x_i)_b`` sums it over the other samples ``j != i`` of the batch. The
    layer returns ``[f(x_i), o(x_i)]``: a batch of near-identical images gives
    every ``o`` close to ``N - 1``, a varied one much less, and the classifier
    that follows can use the difference (Salimans et al., 2016).

    Args:
        in_features: length of the input features (``Discriminator.feature_dim``).
        out_features: ``B``, the number of closeness features added.
        kernel_dims: ``K``, the length of each projected row.

    Shape:
        - Input: ``(N, in_features)``. Output: ``(N, in_features + out_features)``.
    """

    def __init__(
        self, in_features: int, out_features: int = 32, kernel_dims: int = 8
    ) -> None:
        super().__init__()
        for name, value in (
            ("in_features", in_features),
            ("out_features", out_features),
            ("kernel_dims", kernel_dims),
        ):
            if value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")
        self.in_features, self.out_features = in_features, out_features
        self.kernel_dims = kernel_dims
        self.projection = nn.Parameter(
            torch.randn(in_features, out_features * kernel_dims) * 0.1
        )

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 2 or x.shape[1] != self.in_features:
            raise ValueError(
                f"input must have shape (N, {self.in_features}), got {tuple(x.shape)}"
            )
        m = (x @ self.projection).view(-1, self.out_features, self.kernel_dims)
        # (N, B, K)
        l1 = (m.unsqueeze(0) - m.unsqueeze(1)).abs().sum(3)  # (N, N, B)
        closeness = torch.exp(-l1).sum(1) - 1  # (N, B); minus exp(0) for j = i
        return torch.cat([x, closeness], dim=1)  # (N, in_features + B)


@torch.no_grad()
def largest_singular_values(model: nn.Module) -> dict[str, float]:
    """The largest singular value of every convolution's and linear layer's
    weight, reshaped to a matrix ``(out_channels, in_channels * kh * kw)``.

    Under spectral normalisation these are the weights the forward pass uses
    (the raw weight divided by its estimated norm), read in inference mode so
    that reading them does not advance the power iteration. Power iteration
    estimates the norm from below, so these values are 1 or slightly more,
    by the lag of the estimate behind the weights. The norm of the
    reshaped matrix is what Miyato et al. normalise; the convolution seen as a
    linear map of whole images can have a somewhat larger norm.

    Returns ``{layer name: sigma}`` in the model's order.
    """
    sigmas: dict[str, float] = {}
    with evaluating(model):
        for name, module in model.named_modules():
            if isinstance(module, nn.ConvTranspose2d):
                w = module.weight.transpose(0, 1)  # stored (in, out, kh, kw)
            elif isinstance(module, (nn.Conv2d, nn.Linear)):
                w = module.weight
            else:
                continue
            matrix = w.reshape(w.shape[0], -1)  # (out, in * kh * kw)
            sigmas[name] = float(torch.linalg.matrix_norm(matrix, ord=2))
    if not sigmas:
        what = type(model).__name__
        raise ValueError(f"{what} has no convolution or linear layer")
    return sigmas
