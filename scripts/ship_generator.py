"""Measure training checkpoints and ship the best generator as gankit's pretrained one.

Each checkpoint is measured twice, with its raw and (when it has one) its EMA
generator, on ``--n`` generated images against the real MNIST test split
(:func:`gankit.metrics.evaluate`). The one with the lowest Frechet distance is
exported in float16 to ``gankit/weights/mnist_generator`` with a manifest that
records the command, the device, every candidate's figures, the figures on
2,000 images that ``tests/test_shipped.py`` reproduces, and the shipped
generator's Frechet distance under ``--seeds`` different seeds (other latent
vectors and another real floor subset), which says how large a difference
between two candidates must be before it means anything.

Example, after ``python -m gankit train --dataset mnist --steps 4690 --ema 0.999
--out runs/mnist``::

    python scripts/ship_generator.py \\
        --checkpoint runs/mnist/checkpoint.pt \\
        --command "python -m gankit train --dataset mnist --steps 4690 \\
                   --ema 0.999 --out runs/mnist"

``--checkpoint`` and ``--command`` may be given several times, in pairs, to
compare runs; ``--dry-run`` measures without exporting.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

from gankit import load_checkpoint, load_generator
from gankit.metrics import evaluate
from gankit.shipped import export_generator, pretrained, pretrained_paths

#: The shipped generator's goals on 10,000 images.
GOALS = {
    "classes_covered": ("== 10", lambda f: f["classes_covered"] == 10),
    "class shares": (
        "all in [0.08, 0.12]",
        lambda f: all(0.08 <= s <= 0.12 for s in f["class_shares"]),
    ),
    "mean_confidence": (">= 0.95", lambda f: f["mean_confidence"] >= 0.95),
    "fd_ratio": ("<= 2.5", lambda f: f["fd_ratio"] <= 2.5),
}


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    cpu = platform.processor() or platform.machine()
    return f"cpu ({cpu}, {torch.get_num_threads()} threads)"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", action="append", required=True, type=Path)
    p.add_argument(
        "--command",
        action="append",
        required=True,
        help="the command that trained each checkpoint, in the same order",
    )
    p.add_argument("--n", type=int, default=10_000, help="images per measurement")
    p.add_argument("--device", default="auto", help="cpu, cuda or auto")
    p.add_argument(
        "--trained-on",
        default=None,
        help="the device the checkpoints were trained on (default: this one)",
    )
    p.add_argument(
        "--out", type=Path, default=pretrained_paths("mnist")[0].with_suffix("")
    )
    p.add_argument("--dry-run", action="store_true", help="measure, do not export")
    p.add_argument(
        "--seeds",
        type=int,
        default=3,
        help="seeds 0..SEEDS-1 to measure the shipped generator's FD under",
    )
    args = p.parse_args(argv)
    if len(args.checkpoint) != len(args.command):
        p.error("give one --command per --checkpoint")
    if args.seeds < 1:
        p.error("--seeds must be at least 1")
    if args.out.name != "mnist_generator":
        p.error("--out must end in mnist_generator, the name pretrained() reads")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(args.device)
    candidates = []
    for ckpt, command in zip(args.checkpoint, args.command, strict=True):
        state = load_checkpoint(ckpt)
        for ema in (False, True) if state.get("ema") is not None else (False,):
            g = load_generator(ckpt, use_ema=ema).to(device)
            start = time.perf_counter()
            figures = evaluate(g, "mnist", args.n, device=device, download=False)
            label = f"{ckpt} ({'EMA' if ema else 'raw'}, step {state['step']})"
            print(
                f"{label}: FD {figures['fd']:.3f} (floor {figures['fd_floor']:.3f}, "
                f"ratio {figures['fd_ratio']:.2f}), confidence "
                f"{figures['mean_confidence']:.3f}, shares "
                f"{[round(s, 3) for s in figures['class_shares']]} "
                f"[{time.perf_counter() - start:.0f} s]"
            )
            candidates.append((figures["fd"], label, ckpt, command, ema, figures))
    _, label, ckpt, command, ema, figures = min(candidates, key=lambda c: c[0])
    print(f"\nbest: {label}")
    for name, (goal, met) in GOALS.items():
        print(f"  goal {name} {goal}: {'met' if met(figures) else 'NOT met'}")
    if args.dry_run:
        return 0
    extra = {
        "command": command,
        "trained_on": args.trained_on or device_name(device),
        "torch": torch.__version__,
        "date": time.strftime("%Y-%m-%d"),
        "candidates": {
            lab: {k: f[k] for k in ("fd", "fd_floor", "fd_ratio", "mean_confidence")}
            for _, lab, _, _, _, f in candidates
        },
    }
    weights, manifest = export_generator(ckpt, args.out, extra, use_ema=ema)
    # The figures of what ships: the float16 weights, read back as pretrained()
    # reads them (the candidates above are the float32 checkpoints).
    shipped = pretrained("mnist", device, folder=args.out.parent)
    data = json.loads(manifest.read_text())
    data["figures"] = evaluate(shipped, "mnist", args.n, device=device, download=False)
    data["figures_n2000"] = evaluate(
        shipped, "mnist", 2000, device=device, download=False
    )
    # Seed 0 is the one every candidate was measured with; the others show the
    # spread of the measurement itself.
    by_seed = [data["figures"]] + [
        evaluate(shipped, "mnist", args.n, device=device, download=False, seed=s)
        for s in range(1, args.seeds)
    ]
    fds = [f["fd"] for f in by_seed]
    data["fd_seeds"] = {
        "n": args.n,
        "seeds": list(range(args.seeds)),
        "fd": fds,
        "fd_floor": [f["fd_floor"] for f in by_seed],
        "fd_ratio": [f["fd_ratio"] for f in by_seed],
        "fd_std": statistics.stdev(fds) if len(fds) > 1 else None,
    }
    data["goals_met"] = {
        name: bool(met(data["figures"])) for name, (_, met) in GOALS.items()
    }
    manifest.write_text(json.dumps(data, indent=2) + "\n")
    if args.seeds > 1:
        print(
            f"FD over seeds {data['fd_seeds']['seeds']}: "
            f"{[round(f, 3) for f in data['fd_seeds']['fd']]} "
            f"(std {data['fd_seeds']['fd_std']:.3f})"
        )
    print(f"wrote {weights} ({weights.stat().st_size / 2**20:.1f} MiB) and {manifest}")
    print(
        f"shipped, n={args.n}: FD {data['figures']['fd']:.3f}, ratio "
        f"{data['figures']['fd_ratio']:.2f}; goals {data['goals_met']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
