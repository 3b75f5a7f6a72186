"""Wall-clock time of a whole training run, from launching the CLI to the checkpoint.

    python benchmarks/cli_wall_time.py --epochs 20            # the project's goal
    python benchmarks/cli_wall_time.py --epochs 1 --device cpu --batch-size 64
    python benchmarks/cli_wall_time.py --out runs/mnist --extra --ema 0.999

Launches ``python -m gankit train`` in a fresh process (so interpreter start-up,
imports, data loading, CUDA initialisation and graph capture all count), waits
for it to exit, checks the checkpoint is on disk and holds the requested step,
and prints the seconds. With ``--out`` the run is kept there (and must not exist
yet, so that nothing resumes), to be trained further or measured, with the
command that trained it in ``command.txt`` beside the checkpoint. A benchmark,
not a test.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gankit import load_checkpoint, load_dataset


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=float, default=20)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--dataset", default="mnist")
    p.add_argument("--device", default="auto")
    p.add_argument(
        "--out", type=Path, default=None, help="keep the run here (default: discard it)"
    )
    p.add_argument("--extra", nargs=argparse.REMAINDER, default=[], help="CLI flags")
    args = p.parse_args(argv)
    if args.out is not None and args.out.exists():
        p.error(f"--out {args.out} exists; the timed run must start from scratch")
    n_images = len(load_dataset(args.dataset, download=False))
    steps = round(args.epochs * (n_images // args.batch_size))
    with tempfile.TemporaryDirectory() as scratch:
        out = str(args.out or scratch)
        command = [
            sys.executable,
            "-m",
            "gankit",
            "train",
            "--dataset",
            args.dataset,
            "--steps",
            str(steps),
            "--batch-size",
            str(args.batch_size),
            "--device",
            args.device,
            "--out",
            out,
            "--offline",
            "--quiet",
            *args.extra,
        ]
        start = time.perf_counter()
        subprocess.run(command, check=True, env=os.environ)
        seconds = time.perf_counter() - start
        step = load_checkpoint(Path(out) / "checkpoint.pt")["step"]
    if step != steps:
        raise SystemExit(f"the checkpoint holds step {step}, expected {steps}")
    shown = shlex.join(["python", *command[1:]])
    if args.out is not None:  # what trained the kept run, for its records
        (args.out / "command.txt").write_text(shown + "\n")
    print(shown)
    print(
        f"{args.epochs:g} epochs = {steps} steps of {args.batch_size}: {seconds:.1f} s "
        f"from launch to checkpoint ({steps * args.batch_size / seconds:,.0f} images/s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
