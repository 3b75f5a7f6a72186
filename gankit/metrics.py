"""Measured quality: distances to the real data, seen through a small classifier.

Taught in ``book/05_losses_and_training.ipynb``; tested in ``tests/test_metrics.py``.

Looking at samples tells a lot, but not how far a run is from the data, nor
whether it forgot a class. The figures here look through the small classifier
gankit ships per dataset (:mod:`gankit.classifier`); its penultimate layer is
their feature space:

- ``fd``: the Frechet distance between generated images and the real *test*
  split, i.e. the FID formula in the classifier's features instead of
  Inception's. It is always reported beside ``fd_floor``, the same distance
  from real *training* images to the test split with the same ``n``: a
  perfect generator sits near the floor, not at zero, because both sides are
  finite samples. The floor itself moves from one sample to the next (by
  about a factor of two at ``n = 1000``): quote figures at ``n = 10000``.
- ``kid_mean`` / ``kid_std``: the kernel distance (KID) in the same features,
  unbiased, so near zero for a perfect generator at any ``n``.
- ``class_shares``: the share of each class among the generated images, as the
  classifier sees them; a class that vanishes is the signature of mode collapse.
- ``mean_confidence``: the classifier's mean top probability: low when images
  hover between classes. It is no guard against images unlike any class
  (uniform noise is labelled with near certainty): that is ``fd``'s job.

The statistics come from torchmetrics (``FrechetInceptionDistance`` and
``KernelInceptionDistance`` with the classifier as a custom feature extractor,
so nothing is downloaded). The standard Inception FID, comparable with papers,
is :func:`gankit.inception.inception_fid`; watching these figures during a run
is :class:`gankit.monitor.EvaluationCallback`'s job.
"""

from __future__ import annotations

import os
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

from .checks import check_image_shape, check_images
from .classifier import CLASS_NAMES, ClassifierFeatures, check_dataset, load_classifier
from .data import default_root, load_dataset, to_signed_unit
from .generator import Generator, sample_z
from .modes import device_of, evaluating
from .runtime import resolve_device

if TYPE_CHECKING:  # torchmetrics takes seconds to import: only when measuring
    from torchmetrics.image.fid import FrechetInceptionDistance
    from torchmetrics.image.kid import KernelInceptionDistance

#: A class whose share of the generated images is below this fraction of a
#: uniform share (1/10) counts as missing: 0.25 -> below 2.5%.
MISSING_CLASS_FRACTION = 0.25
#: Size of the real test splits, the largest ``n`` the figures can use, and the
#: smallest ``n`` they accept (a few thousand give stable figures).
TEST_SPLIT_SIZE = 10_000
MIN_IMAGES = 10


class ModeCollapseWarning(UserWarning):
    """Training shows a sign of mode collapse (a missing class, or a
    discriminator that wins every time)."""


# -- the figures ------------------------------------------------------------------
#: KID averages the kernel distance over this many random subsets (see
#: :func:`kid_subset_size`) and reports their mean and standard deviation.
KID_SUBSETS = 20


def kid_subset_size(n: int) -> int:
    """Images per side in each KID subset: half of ``n``, at most 1000 (the
    usual size), so that the subsets differ and their spread means something."""
    return max(1, min(1000, n // 2))


@dataclass
class _Reference:
    """The real-data side of the figures for one (dataset, n, seed, device):
    test-split statistics inside the two metrics, and the floor."""

    extractor: ClassifierFeatures
    fid: FrechetInceptionDistance
    kid: KernelInceptionDistance
    device: torch.device
    real_shares: list[float]
    real_confidence: float
    fd_floor: float
    kid_floor: float


def random_rows(images: Tensor, n: int, seed: int) -> Tensor:
    """``n`` rows of ``images`` drawn without replacement (all, in order, if n fits)."""
    if n == len(images):
        return images
    idx = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))
    return images[idx[:n]]


@torch.no_grad()
def _observe(ref: _Reference, images: Tensor, *, real: bool, batch_size: int) -> Tensor:
    """Feed ``images`` (uint8, or float in [-1, 1]) to both metrics, one
    classifier pass per batch; return the class probabilities ``(N, classes)``."""
    probs = []
    for start in range(0, len(images), batch_size):
        x = images[start : start + batch_size].to(ref.device)
        x = to_signed_unit(x) if x.dtype == torch.uint8 else x.float()
        feats = ref.extractor(x)  # (B, 128)
        with ref.extractor.known(x, feats):
            ref.fid.update(x, real=real)
            ref.kid.update(x, real=real)
        probs.append(ref.extractor.classifier.head(feats).softmax(dim=1).cpu())
    return torch.cat(probs)


def _fake_side(
    ref: _Reference, images: Tensor, seed: int, batch_size: int
) -> tuple[Tensor, float, float, float]:
    """Feed ``images`` as the generated side, compute FD and KID (mean, std)
    against the real side, and forget those images again even when
    interrupted midway: the reference is cached, and half-fed images left in
    it would skew every later figure. Also returns the class probabilities."""
    try:
        probs = _observe(ref, images, real=False, batch_size=batch_size)
        fd = float(ref.fid.compute())
        with torch.random.fork_rng(devices=[]):  # KID's subsets, reproducible
            torch.default_generator.manual_seed(seed)  # the CPU's alone, as forked
            kid_mean, kid_std = ref.kid.compute()
    finally:
        ref.fid.reset()  # both keep their real statistics (reset_real_features=False)
        ref.kid.reset()
    return probs, fd, float(kid_mean), float(kid_std)


def _shares(probs: Tensor, classes: int) -> list[float]:
    counts = torch.bincount(probs.argmax(dim=1), minlength=classes)
    return (counts.double() / len(probs)).tolist()


#: The last few references built, so that repeated evaluations (a callback, a
#: notebook) compute the real side once: (dataset, n, seed, root, device) -> it.
_REFERENCES: OrderedDict[tuple[str, int, int, str, str], _Reference] = OrderedDict()
_KEPT_REFERENCES = 4


def _reference(
    dataset: str, n: int, seed: int, root: str, device: str, download: bool
) -> _Reference:
    key = (dataset, n, seed, root, device)
    if key in _REFERENCES:
        _REFERENCES.move_to_end(key)
        return _REFERENCES[key]
    ref = _build_reference(dataset, n, seed, root, device, download)
    _REFERENCES[key] = ref
    while len(_REFERENCES) > _KEPT_REFERENCES:
        _REFERENCES.popitem(last=False)
    return ref


def _build_reference(
    dataset: str, n: int, seed: int, root: str, device: str, download: bool
) -> _Reference:
    from torchmetrics.image.fid import FrechetInceptionDistance
    from torchmetrics.image.kid import KernelInceptionDistance

    test = load_dataset(dataset, root, split="test", download=download)
    train = load_dataset(dataset, root, split="train", download=download)
    dev = torch.device(device)
    extractor = ClassifierFeatures(load_classifier(dataset, dev))
    with warnings.catch_warnings():
        # KID keeps every feature vector: a few MB at n = 10000, as it says.
        warnings.filterwarnings("ignore", message=".*will save all extracted")
        kid = KernelInceptionDistance(
            extractor,
            subsets=KID_SUBSETS,
            subset_size=kid_subset_size(n),
            reset_real_features=False,
        )
    fid = FrechetInceptionDistance(extractor, reset_real_features=False)
    ref = _Reference(extractor, fid.to(dev), kid.to(dev), dev, [], 0.0, 0.0, 0.0)
    batch = 1000
    real = _observe(ref, random_rows(test.images, n, seed), real=True, batch_size=batch)
    ref.real_shares = _shares(real, len(CLASS_NAMES[dataset]))
    ref.real_confidence = float(real.max(dim=1).values.mean())
    # The floor: as many real training images, against the same test images.
    floor_images = random_rows(train.images, n, seed + 1)
    _, ref.fd_floor, ref.kid_floor, _ = _fake_side(ref, floor_images, seed, batch)
    return ref


def check_missing_fraction(missing_fraction: float) -> None:
    """Raise ``ValueError`` unless ``missing_fraction`` lies in (0, 1]."""
    if not 0.0 < missing_fraction <= 1.0:
        raise ValueError(
            f"missing_fraction must lie in (0, 1], got {missing_fraction!r}"
        )


def check_n(n: int) -> None:
    """Raise ``ValueError`` unless ``n`` images can be compared with the test split."""
    if not isinstance(n, int) or not MIN_IMAGES <= n <= TEST_SPLIT_SIZE:
        raise ValueError(
            f"n must be an int from {MIN_IMAGES} to {TEST_SPLIT_SIZE} (the size "
            f"of the test split the images are compared with), got {n!r}"
        )


def check_batch_size(batch_size: int) -> None:
    """Raise ``ValueError`` unless ``batch_size`` is a whole number >= 1."""
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a whole number >= 1, got {batch_size!r}")


def check_image_batch(images: Tensor) -> None:
    """Raise ``ValueError`` unless ``images`` is a batch the classifier reads:
    ``(N, 1, 32, 32)``, uint8, or float with finite values in [-1, 1] (read
    here, once per measurement, on any device)."""
    if isinstance(images, Tensor) and images.dtype == torch.uint8:
        check_image_shape(images, 1, 32, allow_uint8=True)
    else:
        check_images(images, 1, 32)


def evaluate_images(
    images: Tensor,
    dataset: str = "mnist",
    *,
    batch_size: int = 500,
    device: str | torch.device | None = None,
    seed: int = 0,
    root: str | os.PathLike[str] | None = None,
    download: bool = True,
    missing_fraction: float = MISSING_CLASS_FRACTION,
) -> dict[str, Any]:
    """The quality figures of a set of images against ``dataset``'s test split.

    Args:
        images: ``(N, 1, 32, 32)``, float in [-1, 1] or uint8 0..255; ``N`` is
            the ``n`` of every figure (10..10000; a few thousand give stable ones).
        dataset: "mnist" or "fashion-mnist".
        device: where the classifier runs (default: the images' device).
        seed: picks the real subsets and KID's random subsets.
        root, download: where the real data is (see :func:`gankit.load_dataset`).
        missing_fraction: a class whose share is below this fraction of a
            uniform share counts as missing.

    Returns:
        A dict of plain Python values:

        - ``fd``: Frechet distance to ``n`` test images in the classifier's
          features; ``fd_floor``: the same from ``n`` real training images;
          ``fd_ratio = fd / fd_floor`` (about 1 for real data).
        - ``kid_mean``, ``kid_std``: kernel distance (unbiased; about 0 for
          real data), and ``kid_floor``, its value for real training images.
        - ``class_shares``: share of each class among the images, as the
          classifier labels them; ``real_class_shares`` the same for the test
          images; ``class_tv``: the total variation distance between the two
          (0: same mix, 1: disjoint); ``min_class_share``;
          ``classes_covered``: classes holding at least
          ``missing_fraction`` of a uniform share; ``missing_classes``.
        - ``mean_confidence``: the classifier's mean top probability on the
          images, and ``mean_confidence_real`` on the test images.
        - ``dataset``, ``n``, ``seed``.

    Raises:
        ValueError: a dataset without a classifier, images of another shape,
            holding NaN or values outside [-1, 1], or ``n`` outside 10..10000.
    """
    check_dataset(dataset)
    check_missing_fraction(missing_fraction)
    check_image_batch(images)
    n = len(images)
    check_n(n)
    check_batch_size(batch_size)
    device = resolve_device(device) if device is not None else images.device
    root = Path(root).expanduser() if root is not None else default_root()
    ref = _reference(dataset, n, seed, str(root), str(device), download)
    probs, fd, kid_mean, kid_std = _fake_side(ref, images, seed, batch_size)
    classes = len(CLASS_NAMES[dataset])
    shares = _shares(probs, classes)
    limit = missing_fraction / classes
    pairs = zip(shares, ref.real_shares, strict=True)
    tv = 0.5 * sum(abs(a - b) for a, b in pairs)  # total variation distance
    return {
        "dataset": dataset,
        "n": n,
        "seed": seed,
        "fd": fd,
        "fd_floor": ref.fd_floor,
        "fd_ratio": fd / ref.fd_floor,
        "kid_mean": kid_mean,
        "kid_std": kid_std,
        "kid_floor": ref.kid_floor,
        "class_shares": shares,
        "real_class_shares": list(ref.real_shares),
        "class_tv": tv,
        "min_class_share": min(shares),
        "classes_covered": sum(s >= limit for s in shares),
        "missing_classes": [c for c, s in enumerate(shares) if s < limit],
        "mean_confidence": float(probs.max(dim=1).values.mean()),
        "mean_confidence_real": ref.real_confidence,
    }


@torch.no_grad()
def generate(
    generator: nn.Module,
    n: int,
    *,
    batch_size: int = 500,
    seed: int = 0,
    device: str | torch.device | None = None,
) -> Tensor:
    """``n`` images from ``generator`` in eval mode, from latent vectors seeded
    by ``seed`` (the same on any device); its train/eval mode is restored.

    Shape:
        - Output: ``(n, C, S, S)`` in [-1, 1], on ``device`` (default: the
          generator's).
    """
    check_batch_size(batch_size)
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a whole number of images >= 1, got {n!r}")
    z_dim = getattr(generator, "z_dim", None)
    if not isinstance(generator, nn.Module) or not isinstance(z_dim, int):
        raise ValueError(
            "generator must be a gankit Generator (an nn.Module with a z_dim), "
            f"got {type(generator).__name__}"
        )
    own = device_of(generator)
    device = resolve_device(device) if device is not None else own
    z = sample_z(n, z_dim, generator=torch.Generator().manual_seed(seed))
    with evaluating(generator):
        out = [
            generator(z[i : i + batch_size].to(own)).to(device)
            for i in range(0, n, batch_size)
        ]
    return torch.cat(out)


def evaluate(
    generator: nn.Module,
    dataset: str = "mnist",
    n: int = 10_000,
    *,
    batch_size: int = 500,
    device: str | torch.device | None = None,
    seed: int = 0,
    root: str | os.PathLike[str] | None = None,
    download: bool = True,
    missing_fraction: float = MISSING_CLASS_FRACTION,
) -> dict[str, Any]:
    """The quality figures of ``n`` images drawn from ``generator`` (see
    :func:`evaluate_images` for what each one means, and for
    ``missing_fraction``).

    The generator runs in eval mode (batch norm's running statistics) on its own
    device and is left as it was; ``device`` is where the classifier runs
    (default: the generator's). The latent vectors and the real subsets depend
    on ``seed`` only, so two calls give the same figures.

    Example::

        g = gankit.load_generator("runs/mnist/checkpoint.pt")
        figures = evaluate(g, "mnist", n=10_000)
        print(format_figures(figures))
    """
    check_dataset(dataset)
    check_n(n)
    check_missing_fraction(missing_fraction)
    shape = tuple(getattr(generator, a, None) for a in ("channels", "image_size"))
    if isinstance(generator, Generator) and shape != (1, 32):
        raise ValueError(
            f"the {dataset} classifier reads 1-channel 32x32 images; this generator "
            f"makes {shape[0]}-channel {shape[1]}x{shape[1]} images"
        )
    images = generate(generator, n, batch_size=batch_size, seed=seed, device=device)
    return evaluate_images(
        images,
        dataset,
        batch_size=batch_size,
        device=device,
        seed=seed,
        root=root,
        download=download,
        missing_fraction=missing_fraction,
    )


def format_figures(figures: dict[str, Any]) -> str:
    """The figures of :func:`evaluate` as a few aligned lines of text."""
    f = figures
    names = CLASS_NAMES.get(f["dataset"], ())
    shares = "  ".join(
        f"{names[c] if c < len(names) else c}: {s:.1%}"
        for c, s in enumerate(f["class_shares"])
    )
    missing = ", ".join(str(names[c]) for c in f["missing_classes"]) or "none"
    return "\n".join(
        [
            f"dataset      {f['dataset']} (n = {f['n']}, seed {f['seed']})",
            f"FD           {f['fd']:.3f}  (floor {f['fd_floor']:.3f}: real training "
            f"vs test images; ratio {f['fd_ratio']:.1f})",
            f"KID          {f['kid_mean']:.5f} +- {f['kid_std']:.5f}  "
            f"(floor {f['kid_floor']:.5f})",
            f"classes      {f['classes_covered']} of {len(f['class_shares'])} "
            f"present; missing: {missing}; distance to the real mix "
            f"{f['class_tv']:.3f}",
            f"shares       {shares}",
            f"confidence   {f['mean_confidence']:.3f}  (real test images: "
            f"{f['mean_confidence_real']:.3f})",
        ]
    )
