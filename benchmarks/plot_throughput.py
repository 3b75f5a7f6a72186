"""Plot images/s against batch size from ``throughput.py``'s JSON.

python benchmarks/plot_throughput.py IN.json OUT.png
"""

from __future__ import annotations

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(src: str, dst: str) -> int:
    res = json.loads(open(src).read())
    runs = sorted(res["runs"], key=lambda r: r["batch"])
    batches = [r["batch"] for r in runs]
    fig, ax = plt.subplots(figsize=(6, 4))
    series = [
        ("reference loop (eager, DataLoader, .item() per step)", "reference_img_s"),
        ("gankit Trainer, eager", "gankit_eager_img_s"),
        ("gankit Trainer, default (CUDA graph on a GPU)", "gankit_img_s"),
    ]
    for label, key in series:
        ax.plot(batches, [r[key] for r in runs], marker="o", label=label)
    ax.set_xscale("log", base=2)
    ax.set_xticks(batches, [str(b) for b in batches])
    ax.set_xlabel("batch size")
    ax.set_ylabel("training images per second")
    ax.set_title(f"{res['device']}, torch {res['torch']}, {res['date']}", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(dst, dpi=120)
    print(f"wrote {dst}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:3]))
