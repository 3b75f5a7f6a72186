"""gankit: the DCGAN of "An intuitive introduction to GANs", as a small PyTorch kit.

Importing gankit does nothing but define names: no seeding, no downloads, no
device probing. The book (``book/``) teaches one module per chapter.

The kit (models, losses, data, trainer, checkpoints, metrics, pictures) is
exported here. The chapters' teaching toys live in their own modules and are
imported from there: ``gankit.warmup`` (chapter 1), ``gankit.toy2d`` (2),
``gankit.transposed`` (3), ``gankit.activations`` (4), ``gankit.latent`` and
``gankit.improved`` (6); ``gankit.distributed`` runs the trainer under torchrun;
``gankit.reference`` is the plain loop the trainer is measured against (5).
A few building blocks are also imported from the module that holds them, where
a chapter takes one apart: ``generator.up_block`` (3), ``discriminator.
down_block`` (4), ``trainer.discriminator_update``, ``metrics.generate`` and
``cli.main`` (the command line, run in-process, 5), the shipped generator's
manifest helpers in ``gankit.pretrained`` (5, 6) and ``profiles.PROFILES``
(the introduction).
"""

from ._version import __version__
from .callbacks import Callback, History, LambdaCallback
from .checkpoint import (
    CheckpointError,
    CheckpointMismatchError,
    load_checkpoint,
    load_generator,
    save_checkpoint,
)
from .classifier import load_classifier
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
from .inception import InceptionUnavailableError, inception_fid
from .init import init_weights
from .losses import discriminator_accuracy, discriminator_loss, generator_loss
from .metrics import (
    ModeCollapseWarning,
    evaluate,
    evaluate_images,
    format_figures,
)
from .monitor import EvaluationCallback
from .pictures import (
    animate_samples,
    image_grid,
    plot_history,
    save_grid,
    show_grid,
    side_by_side,
)
from .pretrained import export_generator, pretrained
from .runtime import resolve_device
from .step import build_models, generator_updates, train_step
from .trainer import Trainer, TrainingDivergedError

__all__ = [
    "__version__",
    "animate_samples",
    "build_models",
    "Callback",
    "CheckpointError",
    "CheckpointMismatchError",
    "DatasetNotFoundError",
    "default_root",
    "Discriminator",
    "discriminator_accuracy",
    "discriminator_loss",
    "evaluate",
    "evaluate_images",
    "EvaluationCallback",
    "export_generator",
    "format_figures",
    "GANConfig",
    "Generator",
    "generator_loss",
    "generator_updates",
    "History",
    "image_grid",
    "ImageData",
    "inception_fid",
    "InceptionUnavailableError",
    "init_weights",
    "LambdaCallback",
    "load_checkpoint",
    "load_classifier",
    "load_dataset",
    "load_generator",
    "ModeCollapseWarning",
    "plot_history",
    "pretrained",
    "resolve_device",
    "sample_z",
    "save_checkpoint",
    "save_grid",
    "show_grid",
    "side_by_side",
    "synthetic_dataset",
    "to_signed_unit",
    "to_uint8",
    "train_step",
    "Trainer",
    "TrainingDivergedError",
]
