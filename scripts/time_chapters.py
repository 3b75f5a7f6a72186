"""Time every chapter under nbval in one profile, for the introduction's table.

    GANKIT_DATA=... python scripts/time_chapters.py --profile smoke
    python scripts/time_chapters.py --profile full book/05_*.ipynb

Each chapter runs on its own, top to bottom in a fresh kernel, exactly as
``make test`` runs it (``pytest --nbval-lax --nbval-current-env``). Prints a
Markdown table of wall-clock seconds with the device, torch version and date,
and exits non-zero when a chapter fails.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--profile", required=True, choices=["smoke", "cpu", "full"])
    p.add_argument(
        "chapters", nargs="*", type=Path, help="notebooks (default: book/*.ipynb)"
    )
    args = p.parse_args(argv)
    chapters = args.chapters or sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))
    env = {**os.environ, "GANKIT_PROFILE": args.profile}
    if torch.cuda.is_available():
        device = torch.cuda.get_device_name()
    else:
        device = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"
    rows, failed = [], 0
    for nb in chapters:
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
            + ["--nbval-lax", "--nbval-current-env", str(nb)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - start
        status = "passed" if done.returncode == 0 else "FAILED"
        failed += done.returncode != 0
        if done.returncode != 0:
            print(done.stdout[-3000:], file=sys.stderr)
        rows.append(f"| {nb.stem} | {seconds:.0f} s | {status} |")
        print(rows[-1], flush=True)
    print(
        f"\nprofile {args.profile}, {device}, torch {torch.__version__}, "
        f"{date.today().isoformat()}\n\n| chapter | wall time | nbval |\n|---|---|---|"
    )
    print("\n".join(rows))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
