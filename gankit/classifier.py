"""The small classifier every quality figure looks through, and its weights.

Taught in ``book/05_losses_and_training.ipynb``; tested in
``tests/test_classifier.py``.

gankit ships one per dataset (MNIST, Fashion-MNIST), trained by
``scripts/train_classifier.py`` on the training split and stored as float16
safetensors beside a JSON manifest (accuracy, command, seed, SHA-256). Its
penultimate layer is the feature space in which :mod:`gankit.metrics` measures
the Frechet and kernel distances; its labels give the class shares.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file
from torch import Tensor, nn

from .checkpoint import file_sha256, save_weights
from .data import ImageData
from .modes import device_of, evaluating
from .runtime import resolve_device

#: Datasets gankit ships a classifier for, and their class names.
CLASS_NAMES: dict[str, tuple[str, ...]] = {
    "mnist": tuple(str(d) for d in range(10)),
    "fashion-mnist": (
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
}
#: Where the shipped classifier weights and their manifests live.
WEIGHTS_DIR = Path(__file__).parent / "weights"


def conv_block(in_channels: int, out_channels: int) -> nn.Sequential:
    """Conv 3x3 'same', BatchNorm, ReLU, then 2x2 max pooling (halves the side)."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
    )


class Classifier(nn.Module):
    """A small CNN for 32x32 grey images (about 99k parameters).

    A 5x5 stride-2 convolution brings the image to 16x16 at once (cheap: the
    full-size maps are what costs most on a CPU); two conv blocks halve it to
    4x4; a last 3x3 convolution widens to 128 channels, and their average over
    the 16 positions gives the features the metrics compare. One linear layer
    turns those into class logits.

    Shape:
        - Input: ``(N, 1, 32, 32)``, values in [-1, 1] (as :func:`load_dataset`
          and the generator give them).
        - :meth:`features`: ``(N, 128)``; :meth:`forward`: logits ``(N, classes)``.
    """

    num_features = 128

    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 16, 5, stride=2, padding=2, bias=False),  # (N, 16, 16, 16)
            nn.BatchNorm2d(16),
            nn.ReLU(inplace=True),
            conv_block(16, 32),  # (N, 32, 8, 8)
            conv_block(32, 64),  # (N, 64, 4, 4)
            nn.Conv2d(
                64, self.num_features, 3, padding=1, bias=False
            ),  # (N, 128, 4, 4)
            nn.BatchNorm2d(128),
            nn.ReLU(inplace=True),
        )
        self.head = nn.Linear(self.num_features, classes)

    def features(self, x: Tensor) -> Tensor:
        """The penultimate layer: what the Frechet and kernel distances compare."""
        x = self.body(x)  # (N, 128, 4, 4)
        return x.mean(dim=(2, 3))  # (N, 128)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x))  # (N, classes)


class ClassifierFeatures(nn.Module):
    """The classifier's penultimate features as a torchmetrics feature extractor.

    torchmetrics reads ``num_features`` instead of probing the module with a
    dummy Inception-sized image, and hands our [-1, 1] float images through
    unchanged (its ``normalize`` flag only rescales images for its own
    Inception). The classifier always stays in eval mode.
    """

    def __init__(self, classifier: Classifier) -> None:
        super().__init__()
        self.classifier = classifier.eval()
        self.num_features = classifier.num_features
        self._known: tuple[Tensor, Tensor] | None = None

    def train(self, mode: bool = True) -> ClassifierFeatures:
        return super().train(False)

    @contextmanager
    def known(self, images: Tensor, features: Tensor) -> Iterator[None]:
        """Inside the block, ``self(images)`` returns ``features`` without
        recomputing them, so the Frechet and kernel metrics share one pass."""
        self._known = (images, features)
        try:
            yield
        finally:
            self._known = None

    @torch.no_grad()
    def forward(self, x: Tensor) -> Tensor:
        if self._known is not None and x is self._known[0]:
            return self._known[1]
        return self.classifier.features(x)  # (N, 128)


def check_dataset(dataset: str) -> None:
    """Raise ``ValueError`` unless gankit ships a classifier for ``dataset``."""
    if dataset not in CLASS_NAMES:
        raise ValueError(
            f"measured quality is available for {sorted(CLASS_NAMES)} (gankit ships "
            f"a classifier for each), got dataset={dataset!r}"
        )


def classifier_paths(dataset: str, folder: Path | None = None) -> tuple[Path, Path]:
    """``(weights.safetensors, manifest.json)`` of ``dataset``'s classifier."""
    check_dataset(dataset)
    stem = (folder or WEIGHTS_DIR) / f"{dataset.replace('-', '_')}_classifier"
    return stem.with_suffix(".safetensors"), stem.with_suffix(".json")


def save_classifier(
    model: Classifier,
    dataset: str,
    manifest: dict[str, Any],
    folder: Path | None = None,
    *,
    half: bool = True,
) -> tuple[Path, Path]:
    """Write ``model`` as safetensors (float16 when ``half``) and its JSON manifest.

    The manifest records ``manifest`` plus the dataset, the stored dtype and the
    weights' SHA-256, which :func:`load_classifier` checks.
    """
    weights, manifest_path = classifier_paths(dataset, folder)
    tensors = {
        k: (v.half() if half and v.is_floating_point() else v).contiguous()
        for k, v in model.state_dict().items()
    }
    full = {
        "format": "gankit-classifier",
        "dataset": dataset,
        **manifest,
        "dtype": "float16" if half else "float32",
    }
    return save_weights(
        tensors, weights, manifest_path, full, format="gankit-classifier"
    )


def classifier_manifest(dataset: str, folder: Path | None = None) -> dict[str, Any]:
    """The JSON manifest of ``dataset``'s classifier (accuracy, command, seed...)."""
    _, manifest = classifier_paths(dataset, folder)
    if not manifest.is_file():
        raise FileNotFoundError(f"no classifier manifest for {dataset} at {manifest}")
    return json.loads(manifest.read_text())


def load_classifier(
    dataset: str = "mnist",
    device: str | torch.device = "cpu",
    folder: Path | None = None,
) -> Classifier:
    """The shipped classifier for ``dataset``, float32, in eval mode.

    Offline and safe: safetensors holds tensors only, and the file must match
    the SHA-256 its manifest records. The file is read once per process (see
    :func:`forget_loaded_classifiers`); each call returns a fresh copy.

    Raises:
        ValueError: a dataset without a classifier, or weights that do not
            match their manifest.
        FileNotFoundError: the weights are not where gankit keeps them.
    """
    model = _cached_classifier(dataset, None if folder is None else str(folder))
    copy = _blank_classifier(dataset)
    copy.load_state_dict(model.state_dict())
    return copy.to(resolve_device(device)).eval()


def forget_loaded_classifiers() -> None:
    """Make the next :func:`load_classifier` read the files again (after
    :func:`save_classifier` rewrote them)."""
    _cached_classifier.cache_clear()


@lru_cache(maxsize=4)
def _cached_classifier(dataset: str, folder: str | None) -> Classifier:
    weights, _ = classifier_paths(dataset, None if folder is None else Path(folder))
    if not weights.is_file():
        raise FileNotFoundError(
            f"the {dataset} classifier's weights are missing ({weights}); they "
            "ship with gankit, and scripts/train_classifier.py rebuilds them"
        )
    manifest = classifier_manifest(dataset, None if folder is None else Path(folder))
    if manifest.get("sha256") not in (None, file_sha256(weights)):
        raise ValueError(
            f"{weights} does not match the SHA-256 in its manifest: the file was "
            "changed or is corrupted; reinstall gankit or retrain the classifier"
        )
    state = {
        k: v.float() if v.is_floating_point() else v
        for k, v in load_file(str(weights)).items()
    }
    model = _blank_classifier(dataset)
    model.load_state_dict(state)
    return model.eval()


def _blank_classifier(dataset: str) -> Classifier:
    # Its random initial weights are overwritten at once: leave the caller's
    # random stream as it was.
    with torch.random.fork_rng(devices=[]):
        return Classifier(len(CLASS_NAMES[dataset]))


@torch.no_grad()
def classifier_accuracy(
    model: Classifier, data: ImageData, batch_size: int = 1000
) -> float:
    """Share of ``data`` that ``model`` labels right (model in eval mode)."""
    device = device_of(model)
    right = 0
    with evaluating(model):
        for start in range(0, len(data), batch_size):
            idx = torch.arange(start, min(start + batch_size, len(data)))
            logits = model(data.batch(idx).to(device))
            right += int((logits.argmax(1).cpu() == data.labels[idx].cpu()).sum())
    return right / len(data)
