"""Command line: ``python -m gankit train | sample | evaluate``.

Taught in ``book/07_engineering.ipynb``; tested in ``tests/test_cli.py``.

    python -m gankit train --dataset mnist --steps 4690 --out runs/mnist
    python -m gankit sample --checkpoint runs/mnist/checkpoint.pt --n 64 --out grid.png

``train`` resumes when ``--out`` already holds a checkpoint (with that
checkpoint's settings, except those given as flags; the dataset, batch size
and seed cannot change), and writes the
fixed-z grid as PNG every ``--sample-every`` steps (``samples/step_NNNNNN.png``
and ``samples/latest.png``).
"""

from __future__ import annotations

import argparse
import signal
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from .callbacks import Callback
from .checkpoint import CheckpointError, load_checkpoint, load_generator
from .config import DATASET_CHANNELS, GANConfig
from .data import DatasetNotFoundError, load_dataset
from .distributed import launched_rank
from .distributed import shutdown as shutdown_distributed
from .generator import sample_z
from .interrupt import TrainingInterrupted, signal_name
from .pictures import save_grid
from .runfolder import RunFolderBusyError, claimed
from .trainer import CHECKPOINT_NAME, Trainer, TrainingDivergedError


class GridWriter(Callback):
    """Writes each rendered fixed-z grid as a PNG under ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def on_sample(self, trainer: Trainer, images: torch.Tensor) -> None:
        save_grid(images, self.folder / f"step_{trainer.step:06d}.png", nrow=6)
        save_grid(images, self.folder / "latest.png", nrow=6)


def _base_config(
    args: argparse.Namespace, ckpt: Path, state: dict[str, Any] | None
) -> GANConfig:
    """The config a run starts from before its flags apply: the checkpoint's
    own when ``--out`` holds one (``state``, as read from ``ckpt``: a resumed
    run keeps its EMA, cadence and hyper-parameters unless a flag says
    otherwise), else the article's defaults for ``--dataset``."""
    if state is None:
        return GANConfig.for_dataset(args.dataset or "mnist")
    saved = GANConfig(**state["config"])
    if args.dataset is not None and args.dataset != saved.dataset:
        raise ValueError(
            f"{ckpt} was trained on {saved.dataset!r}, not {args.dataset!r}; "
            "use another --out to start a new run"
        )
    return saved


def _train(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file; give a folder for the run")
    if launched_rank() != 0:  # under torchrun, rank 0 alone holds the folder
        return _train_in(out, args)
    # Taken before the checkpoint is read and the data loaded: a second
    # trainer on the same folder fails at once, having written nothing.
    with claimed(out):
        return _train_in(out, args)


def _train_in(out: Path, args: argparse.Namespace) -> int:
    ckpt = out / CHECKPOINT_NAME
    state = load_checkpoint(ckpt) if ckpt.exists() else None  # read once
    cfg = _base_config(args, ckpt, state)
    overrides = {
        "max_steps": args.steps,
        "seed": args.seed,
        "batch_size": args.batch_size,
        "g_steps_per_d_step": args.g_steps,
        "ema_decay": args.ema,
        "sample_every": args.sample_every,
        "log_every": args.log_every,
        "checkpoint_every": args.checkpoint_every,
    }
    cfg = replace(cfg, **{k: v for k, v in overrides.items() if v is not None})
    data = load_dataset(cfg.dataset, args.data_root, download=not args.offline)
    kwargs = dict(
        fast=not args.no_fast,
        channels_last=args.channels_last,
        precision=args.precision,
        device=args.device,
        out_dir=out,
        progress=not args.quiet,
        callbacks=[GridWriter(out / "samples")],
        sync_bn=args.sync_bn,
    )
    if state is not None:
        trainer = Trainer.from_checkpoint(state, data, config=cfg, **kwargs)
        if trainer.ranks.is_main:
            print(f"resuming from {ckpt} at step {trainer.step}", file=sys.stderr)
    else:
        trainer = Trainer(cfg, data, **kwargs)
    trainer.fit()
    shutdown_distributed()
    if not trainer.ranks.is_main:  # under torchrun, rank 0 draws and reports
        return 0
    save_grid(trainer.sample(z=trainer.fixed_z), out / "final.png", nrow=6)
    h = trainer.history
    if len(h):
        print(
            f"step {trainer.step}: d_loss {h.d_loss[-1]:.4f} g_loss {h.g_loss[-1]:.4f} "
            f"D(real) {h.d_real[-1]:.3f} D(fake) {h.d_fake[-1]:.3f}"
        )
    print(f"checkpoint: {ckpt}\ngrid: {out / 'final.png'}")
    return 0


def _sample(args: argparse.Namespace) -> int:
    if args.n < 1:
        raise ValueError(f"--n must be at least 1, got {args.n}")
    g = load_generator(args.checkpoint, use_ema=not args.no_ema)
    gen = torch.Generator().manual_seed(args.seed)
    with torch.no_grad():
        images = g(sample_z(args.n, g.z_dim, generator=gen))
    path = save_grid(images, args.out)
    print(f"wrote {args.n} samples to {path}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    import json

    from .metrics import evaluate, format_figures
    from .runtime import resolve_device

    dataset = args.dataset or load_checkpoint(args.checkpoint)["config"]["dataset"]
    g = load_generator(args.checkpoint, use_ema=not args.no_ema)
    device = resolve_device(args.device)
    figures = evaluate(
        g.to(device),
        dataset,
        args.n,
        seed=args.seed,
        root=args.data_root,
        download=not args.offline,
    )
    print(json.dumps(figures, indent=2) if args.json else format_figures(figures))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m gankit", description=__doc__.split("\n")[0]
    )
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train the article's DCGAN")
    t.add_argument(
        "--dataset",
        choices=sorted(DATASET_CHANNELS),
        default=None,
        help="mnist for a new run; a resumed run keeps its checkpoint's",
    )
    t.add_argument(
        "--steps",
        type=int,
        required=True,
        help="train until this many discriminator steps in total",
    )
    t.add_argument("--out", required=True, help="folder for checkpoint and grids")
    t.add_argument("--device", default="auto", help="cpu, cuda or auto (default)")
    t.add_argument(
        "--data-root",
        default=None,
        help="data folder (default: $GANKIT_DATA, else $XDG_CACHE_HOME/gankit, "
        "~/.cache/gankit by default)",
    )
    t.add_argument("--offline", action="store_true", help="never try to download")
    t.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="images per step (default 128; a resumed run keeps its own)",
    )
    t.add_argument(
        "--g-steps",
        type=int,
        default=None,
        help="generator updates per discriminator update",
    )
    t.add_argument("--ema", type=float, default=None, help="EMA decay, e.g. 0.999")
    t.add_argument(
        "--seed",
        type=int,
        default=None,
        help="seeds weights, noise and data order (default 0; a resumed run "
        "keeps its own)",
    )
    t.add_argument("--log-every", type=int, default=None)
    t.add_argument("--sample-every", type=int, default=None)
    t.add_argument("--checkpoint-every", type=int, default=None)
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.add_argument(
        "--sync-bn",
        action="store_true",
        help="under torchrun on GPUs, batch norm over the whole global batch",
    )
    t.add_argument(
        "--no-fast",
        action="store_true",
        help="on a GPU, train eagerly instead of replaying CUDA graphs",
    )
    t.add_argument(
        "--channels-last",
        action="store_true",
        help="keep weights and batches in the channels-last (NHWC) layout",
    )
    t.add_argument(
        "--precision",
        choices=["fp32", "bf16"],
        default="fp32",
        help="bf16: each step under autocast to bfloat16 (weights stay float32)",
    )
    t.set_defaults(func=_train)

    s = sub.add_parser("sample", help="draw a grid from a checkpoint")
    s.add_argument("--checkpoint", required=True)
    s.add_argument("--n", type=int, default=64)
    s.add_argument("--out", default="grid.png")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--no-ema", action="store_true", help="use the raw generator")
    s.set_defaults(func=_sample)

    e = sub.add_parser(
        "evaluate",
        help="measure a checkpoint's generator against the real test images",
    )
    e.add_argument("--checkpoint", required=True)
    e.add_argument(
        "--n", type=int, default=10_000, help="generated images (default 10000)"
    )
    e.add_argument(
        "--dataset",
        choices=["fashion-mnist", "mnist"],
        default=None,
        help="whose classifier measures (default: the checkpoint's dataset)",
    )
    e.add_argument("--no-ema", action="store_true", help="use the raw generator")
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--device", default="auto", help="cpu, cuda or auto (default)")
    e.add_argument("--data-root", default=None, help="data folder of the test split")
    e.add_argument("--offline", action="store_true", help="never try to download")
    e.add_argument("--json", action="store_true", help="print the figures as JSON")
    e.set_defaults(func=_evaluate)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (
        DatasetNotFoundError,
        CheckpointError,
        TrainingDivergedError,
        RunFolderBusyError,
        FileNotFoundError,
        ValueError,
    ) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except TrainingInterrupted as exc:
        # Ctrl-C, SIGTERM or SIGHUP: the step finished and the trainer saved.
        how = (
            "interrupted"
            if exc.signum in (None, signal.SIGINT)
            else (f"stopped by {signal_name(exc.signum)}")
        )
        print(f"{how}; {exc}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt as exc:
        # A second Ctrl-C, or one before training began, leaves only the
        # checkpoints written before it.
        what = str(exc) or "the last periodic checkpoint, if any, is what remains"
        print(f"interrupted; {what}", file=sys.stderr)
        return 130
