"""Transposed convolution from first principles, three ways.

Chapter 3, ``book/03_generator.ipynb``; tested in
``tests/lessons/test_transposed.py``.

The generator grows its images with ``nn.ConvTranspose2d``. These functions
compute the same thing by hand, slowly, so the chapter can check each view
against PyTorch:

- :func:`transposed_conv_by_scatter`: every input pixel paints a copy of the
  kernel, scaled by its value, into the output; neighbouring pixels paint
  ``stride`` pixels apart and their copies add up where they overlap.
- :func:`transposed_conv_as_conv`: spread the input out with
  :func:`zero_insert`, pad it, and run a plain stride-1 convolution with the
  kernel flipped.
- :func:`conv_as_matrix`: a strided convolution is a matrix; the transposed
  convolution multiplies by that matrix's transpose, hence the name.

Tensors follow PyTorch's layout: input ``(N, C_in, H, W)`` and weight
``(C_in, C_out, k, k)`` as in ``conv_transpose2d``. A plain ``(H, W)`` image
with a ``(k, k)`` kernel is accepted too, for small examples that print well.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def _check_stride(stride: int) -> None:
    if isinstance(stride, bool) or not isinstance(stride, int) or stride < 1:
        raise ValueError(f"stride must be an integer >= 1, got {stride!r}")


def _as_batch(x: Tensor, w: Tensor) -> tuple[Tensor, Tensor, bool]:
    """Both tensors in PyTorch's 4-D layout, and whether they came in 2-D."""
    if not isinstance(x, Tensor) or not isinstance(w, Tensor):
        raise ValueError("x and w must be torch.Tensors")
    if x.dim() == 2 and w.dim() == 2:
        return x[None, None], w[None, None], True
    if x.dim() != 4 or w.dim() != 4:
        raise ValueError(
            "expected x (N, C_in, H, W) with w (C_in, C_out, k, k), or x (H, W) "
            f"with w (k, k); got x {tuple(x.shape)} and w {tuple(w.shape)}"
        )
    if x.shape[1] != w.shape[0]:
        raise ValueError(
            f"x has {x.shape[1]} channel(s) but w expects {w.shape[0]} "
            f"(w is (C_in, C_out, k, k), got {tuple(w.shape)})"
        )
    if w.shape[2] != w.shape[3]:
        raise ValueError(f"w must have a square kernel, got {tuple(w.shape)}")
    return x, w, False


def _check_padding(k: int, stride: int, padding: int, output_padding: int) -> None:
    if not 0 <= padding <= k - 1:
        raise ValueError(
            f"padding must be in [0, {k - 1}] for a {k}x{k} kernel, got {padding}"
        )
    if not 0 <= output_padding < stride:
        raise ValueError(
            f"output_padding must be in [0, {stride}) for stride {stride}, "
            f"got {output_padding}"
        )


def zero_insert(x: Tensor, stride: int) -> Tensor:
    """Put ``stride - 1`` zeros between neighbouring pixels (rows and columns).

    Shape:
        - Input: ``(..., H, W)``.
        - Output: ``(..., (H - 1) * stride + 1, (W - 1) * stride + 1)``.
    """
    _check_stride(stride)
    if not isinstance(x, Tensor) or x.dim() < 2:
        raise ValueError(f"x must be a tensor of shape (..., H, W), got {x!r}")
    h, w = x.shape[-2:]
    if h == 0 or w == 0:
        raise ValueError(f"x must have at least one pixel, got shape {tuple(x.shape)}")
    out = x.new_zeros(*x.shape[:-2], (h - 1) * stride + 1, (w - 1) * stride + 1)
    out[..., ::stride, ::stride] = x
    return out


def transposed_conv_by_scatter(
    x: Tensor, w: Tensor, stride: int, padding: int = 0, output_padding: int = 0
) -> Tensor:
    """Transposed convolution as painting: each input pixel adds ``value * kernel``
    to the output, at ``stride`` times its own position.

    ``padding`` then trims that many pixels from every border and
    ``output_padding`` keeps that many more at the bottom and right, exactly as
    in ``torch.nn.functional.conv_transpose2d`` (no bias).

    Shape:
        - x: ``(N, C_in, H, W)`` with w ``(C_in, C_out, k, k)``, or x ``(H, W)``
          with w ``(k, k)``.
        - Output: ``(N, C_out, H', W')``, or ``(H', W')``, with
          ``H' = (H - 1) * stride - 2 * padding + k + output_padding``.
    """
    _check_stride(stride)
    x, w, flat = _as_batch(x, w)
    k = w.shape[-1]
    _check_padding(k, stride, padding, output_padding)
    n, _, h, wd = x.shape
    full = x.new_zeros(
        n,
        w.shape[1],
        (h - 1) * stride + k + output_padding,
        (wd - 1) * stride + k + output_padding,
    )
    for i in range(h):
        for j in range(wd):
            # (N, C_in) pixel values times (C_in, C_out, k, k) kernels.
            stamp = torch.einsum("nc,cokl->nokl", x[:, :, i, j], w)
            full[:, :, i * stride : i * stride + k, j * stride : j * stride + k] += (
                stamp
            )
    out = full[
        :, :, padding : full.shape[2] - padding, padding : full.shape[3] - padding
    ]
    return out[0, 0] if flat else out


def transposed_conv_as_conv(
    x: Tensor, w: Tensor, stride: int, padding: int = 0, output_padding: int = 0
) -> Tensor:
    """Transposed convolution as a plain one: :func:`zero_insert` the input, pad it
    with ``k - 1 - padding`` zeros (plus ``output_padding`` at the bottom and
    right), then convolve with stride 1 and the kernel flipped.

    Same result as :func:`transposed_conv_by_scatter`.

    Shape:
        - as :func:`transposed_conv_by_scatter`.
    """
    _check_stride(stride)
    x, w, flat = _as_batch(x, w)
    k = w.shape[-1]
    _check_padding(k, stride, padding, output_padding)
    spread = zero_insert(x, stride)
    edge = k - 1 - padding
    # F.pad's order: (left, right, top, bottom).
    padded = F.pad(spread, (edge, edge + output_padding, edge, edge + output_padding))
    # conv2d wants (C_out, C_in, k, k) and slides the kernel without flipping it.
    kernel = w.transpose(0, 1).flip(-2, -1)
    out = F.conv2d(padded, kernel)
    return out[0, 0] if flat else out


def conv_as_matrix(w: Tensor, size: int, stride: int) -> Tensor:
    """The matrix of a 'valid' convolution with kernel ``w`` and ``stride`` over
    a ``size x size`` image.

    With ``C = conv_as_matrix(w, size, stride)``, ``C @ x.flatten()`` is
    ``F.conv2d(x, w, stride=stride).flatten()``, and ``C.T @ y.flatten()`` is the
    transposed convolution of ``y`` (``size x size`` again).

    Shape:
        - w: ``(k, k)``. Output: ``(out * out, size * size)`` with
          ``out = (size - k) // stride + 1``.
    """
    _check_stride(stride)
    if not isinstance(w, Tensor) or w.dim() != 2 or w.shape[0] != w.shape[1]:
        raise ValueError(f"w must be a square (k, k) kernel, got {w!r}")
    k = w.shape[0]
    if size < k:
        raise ValueError(f"size must be at least the kernel side {k}, got {size}")
    out = (size - k) // stride + 1
    rows = []
    for i in range(out):
        for j in range(out):
            row = w.new_zeros(size, size)
            row[i * stride : i * stride + k, j * stride : j * stride + k] = w
            rows.append(row.flatten())
    return torch.stack(rows)
