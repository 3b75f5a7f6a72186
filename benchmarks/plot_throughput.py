"""Plot images/s against batch size from ``throughput.py``'s JSON.

python benchmarks/plot_throughput.py IN.json OUT.png
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

SERIES = [  # (label, key in each run); a key a run lacks is not drawn
    ("reference loop (eager, DataLoader, .item() per step)", "reference_img_s"),
    ("gankit Trainer, eager", "gankit_eager_img_s"),
    ("gankit Trainer, default (CUDA graph on a GPU)", "gankit_img_s"),
    ("gankit Trainer, channels_last", "gankit_channels_last_img_s"),
    ("gankit Trainer, bf16 autocast", "gankit_bf16_img_s"),
    ("gankit Trainer, bf16 and channels_last", "gankit_bf16_channels_last_img_s"),
]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("src", type=Path, help="JSON written by throughput.py --out")
    p.add_argument("dst", type=Path, help="image to write, e.g. throughput.png")
    args = p.parse_args(argv)
    try:
        res = json.loads(args.src.read_text())
        runs = sorted(res["runs"], key=lambda r: r["batch"])
    except (OSError, ValueError, KeyError, TypeError) as err:
        p.error(f"{args.src} is not a throughput.py JSON: {err}")
    if not runs:
        p.error(f"{args.src} holds no runs")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    batches = [r["batch"] for r in runs]
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, key in SERIES:
        if all(key in r for r in runs):
            ax.plot(batches, [r[key] for r in runs], marker="o", label=label)
    ax.set_xscale("log", base=2)
    ax.set_xticks(batches, [str(b) for b in batches])
    ax.set_xlabel("batch size")
    ax.set_ylabel("training images per second")
    ax.set_title(f"{res['device']}, torch {res['torch']}, {res['date']}", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.dst, dpi=120)
    print(f"wrote {args.dst}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
