"""gankit: the DCGAN of "An intuitive introduction to GANs", as a small PyTorch kit.

Importing gankit does nothing but define names: no seeding, no downloads, no
device probing. What a user builds on is exported here, each name documented
in its module; ``gankit.lessons`` holds what exists only to teach a chapter of
the book (``book/``), one module per lesson.

The kit's modules in layers, lowest first. A module imports only from its own
layer or below, type-only imports aside, and nothing imports in a circle
(``tests/test_layers.py`` checks this table against the code):

0. base: config, checks, modes, runtime, distributed, interrupt, atomic, runfolder
1. data and models: data, init, generator, discriminator, losses
2. the step: step, fast, batches, ema, callbacks, divergence
3. saving: checkpoint, resume
4. the loop: trainer
5. measuring and showing: classifier, metrics, inception, monitor, pictures, shipped
6. the command line: cli

The lessons (``gankit.lessons``) sit above all of them: they use the kit, the
kit never imports a lesson, and no lesson imports another.

Building blocks that are not exported stay reachable in their modules, as the
chapters show them: ``gankit.generator.up_block``, ``gankit.step.
discriminator_update`` and ``generator_updates``, ``gankit.metrics.generate``,
``gankit.shipped.pretrained_paths``, ``gankit.cli.main``.
"""

from . import cli as cli  # the command line, run in-process by chapter 5
from ._version import __version__
from .callbacks import Callback, History, LambdaCallback
from .checkpoint import CheckpointError, load_checkpoint, load_generator
from .checks import check_images, check_latent
from .config import GANConfig
from .data import DatasetNotFoundError, ImageData, load_dataset, synthetic_dataset
from .discriminator import Discriminator
from .generator import Generator, sample_z
from .init import init_weights
from .interrupt import TrainingInterrupted
from .losses import discriminator_loss, generator_loss
from .metrics import ModeCollapseWarning, evaluate, evaluate_images
from .monitor import EvaluationCallback
from .pictures import (
    animate_samples,
    image_grid,
    plot_history,
    save_grid,
    show_grid,
    side_by_side,
)
from .runfolder import RunFolderBusyError
from .shipped import export_generator, pretrained, pretrained_manifest
from .step import train_step
from .trainer import Trainer, TrainingDivergedError

__all__ = [
    "__version__",
    # configuration and models
    "GANConfig",
    "Generator",
    "Discriminator",
    "sample_z",
    "init_weights",
    "check_images",
    "check_latent",
    # the game
    "discriminator_loss",
    "generator_loss",
    "train_step",
    # training
    "Trainer",
    "Callback",
    "LambdaCallback",
    "History",
    "TrainingDivergedError",
    "TrainingInterrupted",
    "RunFolderBusyError",
    # data
    "ImageData",
    "load_dataset",
    "synthetic_dataset",
    "DatasetNotFoundError",
    # checkpoints and shipped weights
    "load_checkpoint",
    "load_generator",
    "CheckpointError",
    "pretrained",
    "pretrained_manifest",
    "export_generator",
    # measuring
    "evaluate",
    "evaluate_images",
    "EvaluationCallback",
    "ModeCollapseWarning",
    # pictures
    "image_grid",
    "save_grid",
    "show_grid",
    "side_by_side",
    "plot_history",
    "animate_samples",
]
