"""Train the classifier that gankit's quality figures look through.

The shipped weights were made with::

    python scripts/train_classifier.py --dataset mnist
    python scripts/train_classifier.py --dataset fashion-mnist --epochs 4 --shift 0

Trains :class:`gankit.classifier.Classifier` on the real training split (32x32,
[-1, 1], as ``gankit.load_dataset`` gives it), by default with random shifts
of up to 2 pixels (for MNIST; on Fashion-MNIST they slowed learning more than
they helped within 4 epochs), then writes float16 safetensors and a JSON
manifest into ``gankit/weights/``. The test accuracy in the manifest is
measured on the whole test split with the weights as shipped (float16, read
back as float32). About 5 minutes an epoch on two busy CPU cores; where other
programs share the cores, ``--threads 1`` is often faster than two threads.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from gankit import __version__, load_dataset
from gankit.classifier import (
    CLASS_NAMES,
    WEIGHTS_DIR,
    Classifier,
    classifier_accuracy,
    forget_loaded_classifiers,
    load_classifier,
    save_classifier,
)


def flipped(x: Tensor, generator: torch.Generator) -> Tensor:
    """Each image mirrored left-right with probability 1/2 (clothes, not digits)."""
    mirror = torch.rand(x.shape[0], generator=generator) < 0.5
    return torch.where(mirror[:, None, None, None], x.flip(-1), x)


def shifted(x: Tensor, max_shift: int, generator: torch.Generator) -> Tensor:
    """Each image moved by up to ``max_shift`` pixels in x and y, black filled in."""
    n, _, h, w = x.shape
    shift = torch.randint(-max_shift, max_shift + 1, (n, 2), generator=generator)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = theta[:, 1, 1] = 1.0
    theta[:, 0, 2] = shift[:, 0] * 2.0 / w
    theta[:, 1, 2] = shift[:, 1] * 2.0 / h
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    # grid_sample fills with 0; shifting to [0, 2] first makes the fill black (-1).
    moved = F.grid_sample(x + 1, grid, mode="nearest", align_corners=False)
    return moved - 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataset", choices=sorted(CLASS_NAMES), default="mnist")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=3e-3, help="peak learning rate")
    p.add_argument("--shift", type=int, default=2, help="augmentation, pixels")
    p.add_argument("--flip", action="store_true", help="random left-right mirroring")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=WEIGHTS_DIR)
    p.add_argument("--data-root", default=None)
    p.add_argument("--threads", type=int, default=None)
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    train = load_dataset(args.dataset, args.data_root, split="train")
    test = load_dataset(args.dataset, args.data_root, split="test")
    torch.manual_seed(args.seed)
    model = Classifier(len(CLASS_NAMES[args.dataset]))
    steps_per_epoch = len(train) // args.batch_size
    total = steps_per_epoch * args.epochs
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, args.lr, total_steps=total)
    g = torch.Generator().manual_seed(args.seed + 1)
    start = time.perf_counter()
    model.train()
    for epoch in range(args.epochs):
        order = torch.randperm(len(train), generator=g)
        running = 0.0
        for i in range(steps_per_epoch):
            idx = order[i * args.batch_size : (i + 1) * args.batch_size]
            x = shifted(train.batch(idx), args.shift, g)
            if args.flip:
                x = flipped(x, g)
            loss = F.cross_entropy(model(x), train.labels[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            running += loss.item()
            if (i + 1) % 100 == 0:
                print(
                    f"epoch {epoch + 1} step {i + 1}/{steps_per_epoch} "
                    f"loss {running / 100:.4f} ({time.perf_counter() - start:.0f} s)",
                    flush=True,
                )
                running = 0.0
    seconds = time.perf_counter() - start
    float_accuracy = classifier_accuracy(model.eval(), test)
    given = sys.argv[1:] if argv is None else list(argv)
    # Where the files go and how many threads ran do not change the recipe.
    for flag in ("--out", "--data-root", "--threads"):
        while flag in given:
            i = given.index(flag)
            del given[i : i + 2]
    command = "python scripts/train_classifier.py " + shlex.join(given)
    manifest = {
        "test_accuracy": None,  # filled in below, from the weights as shipped
        "test_split": f"{args.dataset} test ({len(test)} images)",
        "train_split": f"{args.dataset} train ({len(train)} images)",
        "command": command.strip(),
        "seed": args.seed,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "peak_lr": args.lr,
        "augmentation": ", ".join(
            ([f"random shifts of up to {args.shift} pixels"] if args.shift else [])
            + (["left-right mirroring"] if args.flip else [])
        )
        or "none",
        "parameters": sum(p.numel() for p in model.parameters()),
        "train_seconds": round(seconds, 1),
        "torch_version": torch.__version__,
        "gankit_version": __version__,
    }
    save_classifier(model, args.dataset, manifest, args.out)
    forget_loaded_classifiers()  # measure the file just written, not a cached one
    shipped = load_classifier(args.dataset, folder=args.out)
    manifest["test_accuracy"] = round(classifier_accuracy(shipped, test), 4)
    weights, path = save_classifier(model, args.dataset, manifest, args.out)
    print(
        f"{args.dataset}: test accuracy {manifest['test_accuracy']:.4f} as shipped "
        f"(float32 before export: {float_accuracy:.4f}); trained in {seconds:.0f} s; "
        f"wrote {weights} ({weights.stat().st_size // 1024} KiB) and {path}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
