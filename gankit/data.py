"""Datasets as uint8 image tensors: MNIST, Fashion-MNIST, SVHN, and a synthetic set.

Taught in ``book/05_losses_and_training.ipynb``; tested in ``tests/test_data.py``.

torchvision reads (and, online, downloads) the files. gankit keeps the images
as one ``uint8`` tensor of shape (N, C, 32, 32), a quarter of the float size,
so that a whole dataset fits on a GPU; batches are scaled to [-1, 1] when they
are drawn. MNIST and Fashion-MNIST are zero-padded from 28x28 to 32x32, as the
article's notebook did, so one architecture serves them and SVHN.

Where the files live: the ``root`` argument, else the ``GANKIT_DATA``
environment variable, else ``~/.cache/gankit`` (``$XDG_CACHE_HOME/gankit``).
"""

from __future__ import annotations

import gzip
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import Dataset

from .config import DATASET_CHANNELS, SUPPORTED_SIZES

#: Debian's ``dataset-fashion-mnist`` package puts the IDX files here.
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
SPLITS = {
    "mnist": ("train", "test"),
    "fashion-mnist": ("train", "test"),
    "svhn": ("train", "test", "extra"),
}


class DatasetNotFoundError(FileNotFoundError):
    """The dataset's files are not where gankit looked, and could not be downloaded."""


def default_root() -> Path:
    """``$GANKIT_DATA``, else ``$XDG_CACHE_HOME/gankit``, else ``~/.cache/gankit``."""
    env = os.environ.get("GANKIT_DATA")
    if env:
        return Path(env).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "gankit"


def to_signed_unit(images: Tensor) -> Tensor:
    """uint8 pixels 0..255 -> float32 in [-1, 1] (0 -> -1, 255 -> 1).

    Shape:
        - any; the output has the input's shape.
    """
    if not isinstance(images, Tensor):
        raise ValueError(
            f"expected a uint8 torch.Tensor, got {type(images).__name__}"
            " (torch.from_numpy turns a NumPy array into one)"
        )
    if images.dtype != torch.uint8:
        raise ValueError(f"expected uint8 pixels, got {images.dtype}")
    return images.float().div_(127.5).sub_(1.0)


def to_uint8(images: Tensor) -> Tensor:
    """float images in [-1, 1] -> uint8 pixels 0..255, rounded.

    Shape:
        - any; the output has the input's shape.
    """
    if not isinstance(images, Tensor) or not images.is_floating_point():
        got = images.dtype if isinstance(images, Tensor) else type(images).__name__
        raise ValueError(f"expected float images in [-1, 1], got {got}")
    return images.detach().add(1.0).mul_(127.5).round_().clamp_(0, 255).to(torch.uint8)


@dataclass
class ImageData(Dataset):
    """A whole image dataset in memory.

    Attributes:
        images: ``uint8`` tensor ``(N, C, S, S)``, pixels 0..255.
        labels: ``int64`` tensor ``(N,)`` (class ids; -1 where there are none).
        name: the dataset's name, e.g. ``"mnist"``.

    Indexing gives ``(image, label)`` with the image as float in [-1, 1], so it
    also works with a ``torch.utils.data.DataLoader``.
    """

    images: Tensor
    labels: Tensor
    name: str

    def __post_init__(self) -> None:
        for field_name in ("images", "labels"):
            value = getattr(self, field_name)
            if not isinstance(value, Tensor):
                raise ValueError(
                    f"{field_name} must be a torch.Tensor, got {type(value).__name__}"
                    " (torch.from_numpy turns a NumPy array into one)"
                )
        if self.images.dtype != torch.uint8 or self.images.dim() != 4:
            raise ValueError(
                "images must be a uint8 tensor of shape (N, C, S, S), got "
                f"{self.images.dtype} {tuple(self.images.shape)}"
            )
        if self.labels.shape != (self.images.shape[0],):
            raise ValueError(
                f"labels must have shape ({self.images.shape[0]},), "
                f"got {tuple(self.labels.shape)}"
            )

    def __len__(self) -> int:
        return self.images.shape[0]

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        return to_signed_unit(self.images[index]), self.labels[index]

    @property
    def channels(self) -> int:
        return self.images.shape[1]

    @property
    def image_size(self) -> int:
        return self.images.shape[-1]

    def to(self, device: torch.device | str) -> ImageData:
        """The same data on ``device`` (e.g. the GPU, to skip host-to-device copies)."""
        return ImageData(self.images.to(device), self.labels.to(device), self.name)

    def batch(self, index: Tensor) -> Tensor:
        """Images at ``index`` as float in [-1, 1]. Shape: ``(len(index), C, S, S)``."""
        return to_signed_unit(self.images[index])

    def subset(self, n: int) -> ImageData:
        """The first ``n`` images (all of them if there are fewer)."""
        return ImageData(self.images[:n], self.labels[:n], self.name)


def _idx_files(cls: type) -> list[str]:
    return [Path(url).name.removesuffix(".gz") for url, _ in cls.resources]


def _expected_files(name: str, root: Path, split: str) -> list[Path]:
    from torchvision import datasets

    if name == "mnist":
        return [root / "MNIST" / "raw" / f for f in _idx_files(datasets.MNIST)]
    if name == "fashion-mnist":
        return [
            root / "FashionMNIST" / "raw" / f for f in _idx_files(datasets.FashionMNIST)
        ]
    return [root / "SVHN" / f"{split}_32x32.mat"]


def _missing_message(name: str, root: Path, split: str, reason: str) -> str:
    files = "\n".join(f"  {p}" for p in _expected_files(name, root, split))
    return (
        f"{name} ({split} split) was not found under {root}: {reason}\n"
        f"gankit expected these files:\n{files}\n"
        "Put them there (uncompressed), or set the environment variable "
        "GANKIT_DATA to the folder that holds them, or pass root=... ; "
        "with internet access, download=True fetches them."
    )


def _unreadable_message(name: str, root: Path, split: str, reason: str) -> str:
    files = "\n".join(f"  {p}" for p in _expected_files(name, root, split))
    form = "the .mat file" if name == "svhn" else "uncompressed IDX files"
    return (
        f"{name} ({split} split) under {root} could not be read: {reason}\n"
        f"These files are there but are not {form} of the published dataset "
        f"(still gzip-compressed, truncated, or mismatched?):\n{files}\n"
        "Replace them with the originals, or point GANKIT_DATA or root=... "
        "at a folder that holds them."
    )


def _copy_debian_fashion_mnist(raw: Path) -> None:
    """Lay out Debian's Fashion-MNIST IDX files for torchvision, if installed."""
    if not DEBIAN_FASHION_MNIST.is_dir():
        return
    from torchvision import datasets

    for fname in _idx_files(datasets.FashionMNIST):
        src = DEBIAN_FASHION_MNIST / f"{fname}.gz"
        dst = raw / fname
        if src.is_file() and not dst.is_file():
            raw.mkdir(parents=True, exist_ok=True)
            tmp = dst.with_suffix(".partial")
            with gzip.open(src, "rb") as fin, open(tmp, "wb") as fout:
                shutil.copyfileobj(fin, fout)
            os.replace(tmp, dst)


_RESIZE_CHUNK = 4096  # images resized at a time


def _fit_size(images: Tensor, image_size: int) -> Tensor:
    """Zero-pad 28x28 to 32x32 (the notebook's choice), then resize if asked."""
    side = images.shape[-1]
    if side == 28:
        images = F.pad(images, (2, 2, 2, 2))  # (N, C, 32, 32), black border
    if images.shape[-1] == image_size:
        return images
    # In chunks, so that the float copies stay small beside the uint8 result.
    out = torch.empty(
        (*images.shape[:2], image_size, image_size), dtype=torch.uint8
    )  # (N, C, image_size, image_size)
    for start in range(0, len(images), _RESIZE_CHUNK):
        chunk = images[start : start + _RESIZE_CHUNK].float()
        chunk = F.interpolate(
            chunk, size=image_size, mode="bilinear", align_corners=False
        )
        out[start : start + len(chunk)] = chunk.round_().clamp_(0, 255)
    return out


def load_dataset(
    name: str,
    root: str | os.PathLike[str] | None = None,
    *,
    split: str = "train",
    download: bool = True,
    image_size: int = 32,
) -> ImageData:
    """Load ``name`` ("mnist", "fashion-mnist" or "svhn") as :class:`ImageData`.

    Args:
        root: data folder; default :func:`default_root`.
        split: "train" or "test" (SVHN also "extra").
        download: try to download missing files (needs internet).
        image_size: 32 (the article) or 64 (bilinear upscaling).

    Raises:
        DatasetNotFoundError: the files are missing and could not be downloaded;
            the message lists the files expected and how to point gankit at them.
        ValueError: an unknown name, split or size.
    """
    if name not in DATASET_CHANNELS:
        raise ValueError(
            f"name must be one of {sorted(DATASET_CHANNELS)}, got {name!r}"
        )
    if split not in SPLITS[name]:
        raise ValueError(
            f"split for {name} must be one of {SPLITS[name]}, got {split!r}"
        )
    if image_size not in SUPPORTED_SIZES:
        raise ValueError(
            f"image_size must be one of {SUPPORTED_SIZES}, got {image_size}"
        )
    root = Path(root).expanduser() if root is not None else default_root()
    from torchvision import datasets

    if name == "fashion-mnist":
        _copy_debian_fashion_mnist(root / "FashionMNIST" / "raw")
    if not download and not all(
        p.is_file() for p in _expected_files(name, root, split)
    ):
        raise DatasetNotFoundError(_missing_message(name, root, split, "files missing"))
    try:
        if name == "svhn":
            ds = datasets.SVHN(root / "SVHN", split=split, download=download)
            images = torch.from_numpy(ds.data)  # (N, 3, 32, 32) uint8
            labels = torch.from_numpy(ds.labels).long()
        else:
            cls = datasets.MNIST if name == "mnist" else datasets.FashionMNIST
            ds = cls(root, train=(split == "train"), download=download)
            images = ds.data.unsqueeze(1)  # (N, 1, 28, 28) uint8
            labels = ds.targets.long()
        if len(labels) != len(images):
            raise ValueError(
                f"the files hold {len(images)} images but {len(labels)} labels"
            )
    # What reading bad or missing files raises; torchvision's IDX reader fails
    # by a bare assert. Anything else (MemoryError, a TypeError from an API
    # change) is not the files' fault and passes through unchanged.
    except (RuntimeError, OSError, ValueError, AssertionError, EOFError) as exc:
        # Raised from None: the dependency's traceback only hides the remedy.
        reason = (
            str(exc).strip().splitlines()[0]
            if str(exc).strip()
            else f"torchvision's reader raised {type(exc).__name__}"
        )
        present = all(p.is_file() for p in _expected_files(name, root, split))
        message = _unreadable_message if present else _missing_message
        raise DatasetNotFoundError(message(name, root, split, reason)) from None
    return ImageData(_fit_size(images.contiguous(), image_size), labels, name)


def synthetic_dataset(
    n: int = 512, channels: int = 1, image_size: int = 32, seed: int = 0
) -> ImageData:
    """A small dataset of bright discs and bars on black, for tests and demos.

    Label 0 is a disc, 1 a horizontal bar, 2 a vertical bar, at random places
    and sizes. Deterministic for a given ``seed``; needs no files.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    g = torch.Generator().manual_seed(seed)
    ys, xs = torch.meshgrid(
        torch.arange(image_size), torch.arange(image_size), indexing="ij"
    )
    labels = torch.randint(0, 3, (n,), generator=g)
    centre = torch.randint(image_size // 4, 3 * image_size // 4, (n, 2), generator=g)
    radius = torch.randint(image_size // 8, image_size // 4, (n,), generator=g)
    cy, cx, r = (
        centre[:, 0, None, None],
        centre[:, 1, None, None],
        radius[:, None, None],
    )
    disc = (ys - cy) ** 2 + (xs - cx) ** 2 <= r**2
    hbar = ((ys - cy).abs() <= r // 3) & ((xs - cx).abs() <= 2 * r)
    vbar = ((xs - cx).abs() <= r // 3) & ((ys - cy).abs() <= 2 * r)
    lab = labels[:, None, None]
    mask = torch.where(lab == 0, disc, torch.where(lab == 1, hbar, vbar))
    images = (mask.to(torch.uint8) * 255)[:, None].expand(n, channels, -1, -1)
    return ImageData(images.contiguous(), labels, "synthetic")
