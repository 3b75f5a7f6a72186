"""The article's hyper-parameters as one frozen dataclass.

Taught across the book; the defaults are those of the article and its companion
notebook (see ``book/05_losses_and_training.ipynb``). Variations are made with
:func:`dataclasses.replace`, and :func:`dataclasses.asdict` of the config goes
into every checkpoint so that a run can always be rebuilt. Tested in
``tests/test_config.py``.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, fields, replace

#: Channels of each dataset gankit can load (MNIST and Fashion-MNIST are padded
#: to 32x32 grey, SVHN is 32x32 colour).
DATASET_CHANNELS: dict[str, int] = {"mnist": 1, "fashion-mnist": 1, "svhn": 3}
#: Image sizes the models are built for: 32 (the article) and 64 (one more block).
SUPPORTED_SIZES: tuple[int, ...] = (32, 64)
G_LOSSES: tuple[str, ...] = ("non_saturating", "saturating")


def _is_numpy_bool(value: object) -> bool:
    """A NumPy boolean scalar (``numpy.bool_``), without importing NumPy."""
    t = type(value)
    return t.__module__ == "numpy" and t.__name__ in ("bool", "bool_")


@dataclass(frozen=True)
class GANConfig:
    """Everything that defines a DCGAN run. Defaults follow the article.

    Example::

        cfg = GANConfig.for_dataset("svhn")          # 3 channels
        cfg = dataclasses.replace(cfg, max_steps=500)
    """

    dataset: str = "mnist"  # which data the run trains on (see DATASET_CHANNELS)
    channels: int = 1  # image channels: 1 for MNIST, 3 for SVHN
    image_size: int = 32  # 28x28 MNIST is zero-padded to 32 as in the notebook
    z_dim: int = 100  # length of the latent vector z, drawn uniformly in [-1, 1]
    batch_size: int = 128  # images per discriminator step
    lr_g: float = 2e-4  # Adam learning rate of the generator
    lr_d: float = 2e-4  # Adam learning rate of the discriminator
    beta1: float = 0.5  # Adam beta1: 0.5 rather than 0.9, as in the DCGAN paper
    beta2: float = 0.999  # Adam beta2, PyTorch's and TensorFlow's default
    label_smoothing: float = 0.1  # real labels become 1 - 0.1; fake labels stay 0
    # Generator updates per discriminator update: 2, as the article's notebook
    # did (the DCGAN paper and most code use 1), because it measured better:
    # with chapter 5's full profile on an H200 (2026-11-27; two runs each of
    # 4,690 steps at batch 128, Frechet distance in the MNIST classifier's
    # features) two steps gave 0.60 and 0.62, one step 0.81 and 1.09. Each
    # extra step runs both networks forward and backward once more.
    g_steps_per_d_step: int = 2
    g_loss: str = "non_saturating"  # or "saturating", the minimax form
    leaky_slope: float = 0.2  # negative slope of the discriminator's LeakyReLU
    init_std: float = 0.02  # weights drawn from N(0, 0.02)
    spectral_norm: bool = False  # spectral normalisation in D (chapter 6)
    ema_decay: float | None = None  # e.g. 0.999 keeps an EMA copy of the generator
    max_steps: int = 4690  # discriminator steps: about 10 MNIST epochs at 128
    log_every: int = 100  # steps between logged averages (one host sync each)
    sample_every: int = 100  # steps between renders of the fixed z grid
    checkpoint_every: int = 1000  # steps between checkpoints when a folder is set
    n_fixed: int = 36  # fixed latent vectors rendered to show progress (6x6 grid)
    seed: int = 0  # seeds the models' weights, the noise and the data order

    def __post_init__(self) -> None:
        self._check_types()
        if self.dataset not in DATASET_CHANNELS and self.dataset != "synthetic":
            raise ValueError(
                f"dataset must be one of {sorted(DATASET_CHANNELS)} or 'synthetic', "
                f"got {self.dataset!r}"
            )
        if self.channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {self.channels}")
        if self.image_size not in SUPPORTED_SIZES:
            raise ValueError(
                f"image_size must be one of {SUPPORTED_SIZES}, got {self.image_size}"
            )
        if self.g_loss not in G_LOSSES:
            raise ValueError(f"g_loss must be one of {G_LOSSES}, got {self.g_loss!r}")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ValueError(
                f"label_smoothing must be in [0, 1), got {self.label_smoothing}"
            )
        if self.ema_decay is not None and not 0.0 < self.ema_decay < 1.0:
            raise ValueError(
                f"ema_decay must be in (0, 1) or None, got {self.ema_decay}"
            )
        for name in (
            "z_dim",
            "batch_size",
            "g_steps_per_d_step",
            "log_every",
            "sample_every",
            "checkpoint_every",
            "n_fixed",
        ):
            if getattr(self, name) < 1:
                raise ValueError(
                    f"{name} must be at least 1, got {getattr(self, name)}"
                )
        if self.max_steps < 0:
            raise ValueError(f"max_steps must be >= 0, got {self.max_steps}")
        for name in ("lr_g", "lr_d", "init_std"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number, got {value}")
        for name in ("beta1", "beta2"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {getattr(self, name)}")
        if not (math.isfinite(self.leaky_slope) and self.leaky_slope >= 0):
            raise ValueError(f"leaky_slope must be >= 0, got {self.leaky_slope}")

    def _check_types(self) -> None:
        """Refuse a value of the wrong kind (``batch_size=8.0``, ``spectral_norm=
        "no"``), which the range checks below would let through, and store
        NumPy numbers as the plain ``int`` or ``float`` they stand for."""
        for f in fields(self):
            value = getattr(self, f.name)
            kind = str(f.type)
            if kind == "float | None" and value is None:
                continue
            if kind == "bool":
                ok = isinstance(value, bool) or _is_numpy_bool(value)
                if ok:
                    object.__setattr__(self, f.name, bool(value))
            elif kind == "str":
                ok = isinstance(value, str)
            elif kind == "int":
                ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
                if ok:
                    object.__setattr__(self, f.name, int(value))
            else:  # "float" and "float | None"
                ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
                if ok:
                    object.__setattr__(self, f.name, float(value))
            if not ok:
                t = type(value)
                name = (
                    t.__name__
                    if t.__module__ == "builtins"
                    else f"{t.__module__}.{t.__qualname__}"
                )
                raise ValueError(
                    f"{f.name} must be {'a whole number' if kind == 'int' else kind}, "
                    f"got {value!r} ({name})"
                )

    @classmethod
    def for_dataset(cls, dataset: str, **overrides: object) -> GANConfig:
        """The article's config for ``dataset``, with its channel count filled in."""
        if dataset not in DATASET_CHANNELS:
            raise ValueError(
                f"dataset must be one of {sorted(DATASET_CHANNELS)}, got {dataset!r}"
            )
        return replace(
            cls(), dataset=dataset, channels=DATASET_CHANNELS[dataset], **overrides
        )  # type: ignore[arg-type]
