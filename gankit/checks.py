"""Input checks: clear ``ValueError``s that say what was expected and what came.

Behind every chapter's models rather than taught in one; tested in
``tests/test_checks.py``.

Two kinds of check, run in two kinds of place:

- The shape of a batch (a tensor, its number of dimensions, channels and
  side, a float dtype) costs nothing to check, needs no values and no device
  sync: :func:`check_image_shape` and :func:`check_latent_shape` run in every
  forward pass of the generator and the discriminator.
- Its values (finite, in [-1, 1]) can only be checked by reading every one
  of them, which on an accelerator makes the host wait for the device:
  :func:`check_images` and :func:`check_latent` do, and run only where input
  enters the kit, once: the trainer's data (up front, before the first step),
  :func:`gankit.metrics.evaluate_images` (the images to be measured), the
  command line (whose data and figures pass through those two), and whoever
  calls them explicitly. Never inside ``forward``: values that go NaN during
  training are the trainer's divergence guard's to catch.
"""

from __future__ import annotations

import torch
from torch import Tensor


def check_image_shape(
    x: Tensor,
    channels: int,
    size: int,
    *,
    name: str = "images",
    allow_uint8: bool = False,
) -> None:
    """Raise ``ValueError`` unless ``x`` is a float (N, channels, size, size)
    batch (or a uint8 one, with ``allow_uint8``). Reads no values."""
    if not isinstance(x, Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    expected = f"(N, {channels}, {size}, {size})"
    if x.dim() != 4:
        raise ValueError(f"{name} must have shape {expected}, got {tuple(x.shape)}")
    if x.shape[1] != channels:
        raise ValueError(
            f"{name} must have {channels} channel(s), shape {expected}; "
            f"got {x.shape[1]} channel(s), shape {tuple(x.shape)}"
        )
    if x.shape[2] != size or x.shape[3] != size:
        raise ValueError(
            f"{name} must be {size}x{size}, shape {expected}; got {tuple(x.shape)}"
        )
    if not x.is_floating_point() and not (allow_uint8 and x.dtype == torch.uint8):
        raise ValueError(
            f"{name} must be a float tensor scaled to [-1, 1], got {x.dtype}"
        )


def check_latent_shape(z: Tensor, z_dim: int, *, name: str = "z") -> None:
    """Raise ``ValueError`` unless ``z`` is a float (N, z_dim) batch. Reads no
    values."""
    if not isinstance(z, Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(z).__name__}")
    if z.dim() != 2 or z.shape[1] != z_dim:
        raise ValueError(f"{name} must have shape (N, {z_dim}), got {tuple(z.shape)}")
    if not z.is_floating_point():
        raise ValueError(f"{name} must be a float tensor, got {z.dtype}")


def check_images(x: Tensor, channels: int, size: int, *, name: str = "images") -> None:
    """Raise ``ValueError`` unless ``x`` is a float (N, channels, size, size) batch
    with finite values in [-1, 1]. Reads every value: for input at the edges."""
    check_image_shape(x, channels, size, name=name)
    check_range(x, -1.0, 1.0, name=name)


def check_latent(z: Tensor, z_dim: int, *, name: str = "z") -> None:
    """Raise ``ValueError`` unless ``z`` is a float (N, z_dim) batch with finite
    values in [-1, 1]. Reads every value: for input at the edges."""
    check_latent_shape(z, z_dim, name=name)
    check_range(z, -1.0, 1.0, name=name)


class NonFiniteError(ValueError):
    """Values that must be finite hold NaN or infinity."""


def check_range(x: Tensor, low: float, high: float, *, name: str = "values") -> None:
    """Raise ``ValueError`` if ``x`` holds NaN, inf (:class:`NonFiniteError`),
    or values outside [low, high]."""
    if x.numel() == 0:
        return
    finite = torch.isfinite(x.detach())
    if not bool(finite.all()):
        bad = int((~finite).sum())
        raise NonFiniteError(f"{name} must be finite, got {bad} NaN or inf value(s)")
    x = x.detach()
    lo, hi = float(x.min()), float(x.max())
    # A little slack for values that round-trip through half precision.
    tol = 1e-3
    if lo < low - tol or hi > high + tol:
        raise ValueError(
            f"{name} must lie in [{low:g}, {high:g}], "
            f"got values in [{lo:.4g}, {hi:.4g}]"
            + (
                " (did you forget to scale 0..255 or 0..1 images to [-1, 1]?)"
                if hi > high + tol and low == -1
                else ""
            )
        )
