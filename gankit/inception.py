"""The standard FID, in Inception v3's features, comparable with papers.

No chapter uses it (the book measures offline, with :mod:`gankit.metrics`);
tested in ``tests/test_inception.py``.

The figures of :mod:`gankit.metrics` look through gankit's own small
classifier and work offline. Papers quote the Frechet distance in the pool
features of Inception v3 instead; that needs the ``torch-fidelity`` package and
its weights (downloaded on first use), so it is not available offline, and it
says so with :class:`InceptionUnavailableError`.
"""

from __future__ import annotations

import os

import torch
from torch import Tensor, nn

from .classifier import check_dataset
from .data import load_dataset
from .metrics import (
    check_batch_size,
    check_image_batch,
    check_n,
    generate,
    random_rows,
)
from .runtime import resolve_device


class InceptionUnavailableError(RuntimeError):
    """The standard Inception FID cannot run here (package or weights missing)."""


def inception_fid(
    fake: Tensor | nn.Module,
    dataset: str = "mnist",
    n: int = 10_000,
    *,
    batch_size: int = 100,
    device: str | torch.device | None = None,
    seed: int = 0,
    root: str | os.PathLike[str] | None = None,
    weights_path: str | None = None,
) -> float:
    """The standard FID (Inception v3 pool features, as in papers) between
    ``fake`` (a generator, or images in [-1, 1]) and ``n`` test images.

    Grey images are repeated to three channels and upscaled to 299x299 by
    torchmetrics, so this is slow on a CPU (minutes for 10000 images). It needs
    the ``torch-fidelity`` package and its Inception weights, which are
    downloaded on first use unless ``weights_path`` points at them.

    Raises:
        InceptionUnavailableError: the package or the weights cannot be had
            (e.g. offline); the classifier figures of
            :func:`gankit.metrics.evaluate` work offline.
    """
    check_dataset(dataset)
    check_n(n)
    check_batch_size(batch_size)
    device = resolve_device(device or "cpu")
    try:
        import torch_fidelity  # noqa: F401
    except ImportError:
        raise InceptionUnavailableError(
            "the standard Inception FID needs the torch-fidelity package "
            "(pip install torch-fidelity) and, on first use, internet access to "
            "fetch its Inception v3 weights; offline, use evaluate(), whose fd is "
            "measured in gankit's own classifier features"
        ) from None
    from torchmetrics.image.fid import FrechetInceptionDistance

    try:
        fid = FrechetInceptionDistance(
            feature=2048, feature_extractor_weights_path=weights_path
        )
    except (OSError, RuntimeError, ValueError) as exc:
        raise InceptionUnavailableError(
            "could not load the Inception v3 weights for the standard FID "
            f"({type(exc).__name__}: {exc}); they are downloaded on first use, "
            "or pass weights_path= to a local copy"
        ) from None
    if isinstance(fake, nn.Module):
        images = generate(fake, n, batch_size=batch_size, seed=seed, device="cpu")
    else:
        check_image_batch(fake)
        images = fake[:n].cpu()
    fid = fid.to(device)
    test = load_dataset(dataset, root, split="test")
    real = random_rows(test.images, len(images), seed)

    def to_rgb_uint8(x: Tensor) -> Tensor:
        if x.dtype != torch.uint8:
            x = x.add(1).mul(127.5).round().clamp(0, 255).to(torch.uint8)
        return x.expand(-1, 3, -1, -1).to(device)

    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            fid.update(to_rgb_uint8(real[start : start + batch_size]), real=True)
            fid.update(to_rgb_uint8(images[start : start + batch_size]), real=False)
    return float(fid.compute())
