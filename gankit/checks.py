"""Input checks shared by the models and the trainer: clear ``ValueError``s.

A check that needs the tensor's values (its range) reads them, which on an
accelerator would force the host to wait for the device on every call. Those
checks therefore run on CPU tensors, and the trainer checks its whole dataset
once up front instead; shape, dtype and channel checks run everywhere.

Behind every chapter's models rather than taught in one; tested in
``tests/test_checks.py``.
"""

from __future__ import annotations

import torch
from torch import Tensor


def check_images(x: Tensor, channels: int, size: int, *, name: str = "images") -> None:
    """Raise ``ValueError`` unless ``x`` is a float (N, channels, size, size) batch
    with values in [-1, 1]."""
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
    if not x.is_floating_point():
        raise ValueError(
            f"{name} must be a float tensor scaled to [-1, 1], got {x.dtype}"
        )
    if x.device.type == "cpu":
        check_range(x, -1.0, 1.0, name=name)


def check_latent(z: Tensor, z_dim: int, *, name: str = "z") -> None:
    """Raise ``ValueError`` unless ``z`` is a float (N, z_dim) batch in [-1, 1]."""
    if not isinstance(z, Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(z).__name__}")
    if z.dim() != 2 or z.shape[1] != z_dim:
        raise ValueError(f"{name} must have shape (N, {z_dim}), got {tuple(z.shape)}")
    if not z.is_floating_point():
        raise ValueError(f"{name} must be a float tensor, got {z.dtype}")
    if z.device.type == "cpu":
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
