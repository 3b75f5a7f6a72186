"""gankit: the DCGAN of "An intuitive introduction to GANs", as a small PyTorch kit.

Importing gankit does nothing but define names: no seeding, no downloads, no
device probing. The book (``book/``) teaches one module per chapter.
"""

from ._version import __version__
from .checkpoint import (
    CheckpointError,
    CheckpointMismatchError,
    load_checkpoint,
    load_generator,
    save_checkpoint,
)
from .config import GANConfig
from .data import (
    DatasetNotFoundError,
    ImageData,
    default_root,
    load_dataset,
    synthetic_dataset,
    to_signed_unit,
    to_uint8,
)
from .discriminator import Discriminator
from .generator import Generator, sample_z
from .init import init_weights
from .losses import discriminator_accuracy, discriminator_loss, generator_loss
from .notebook import glue, show_source
from .pictures import (
    animate_samples,
    image_grid,
    plot_history,
    save_grid,
    show_grid,
    side_by_side,
)
from .profiles import Profile, current_profile
from .trainer import (
    Callback,
    History,
    LambdaCallback,
    Trainer,
    TrainingDivergedError,
    build_models,
    resolve_device,
    train_step,
)

__all__ = [
    "__version__",
    "Callback",
    "CheckpointError",
    "CheckpointMismatchError",
    "DatasetNotFoundError",
    "Discriminator",
    "GANConfig",
    "Generator",
    "History",
    "ImageData",
    "LambdaCallback",
    "Profile",
    "Trainer",
    "TrainingDivergedError",
    "animate_samples",
    "build_models",
    "current_profile",
    "default_root",
    "discriminator_accuracy",
    "discriminator_loss",
    "generator_loss",
    "glue",
    "image_grid",
    "init_weights",
    "load_checkpoint",
    "load_dataset",
    "load_generator",
    "plot_history",
    "resolve_device",
    "sample_z",
    "save_checkpoint",
    "save_grid",
    "show_grid",
    "show_source",
    "side_by_side",
    "synthetic_dataset",
    "to_signed_unit",
    "to_uint8",
    "train_step",
]
