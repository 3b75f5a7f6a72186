"""Fetch the datasets the tests read, before ``make test`` runs them.

    python scripts/fetch_data.py            # MNIST, both splits

Where the files are already there (``$GANKIT_DATA``, else the per-user cache)
nothing is downloaded. Where they are missing and cannot be downloaded, it
says so and exits 0: the tests that need them are then skipped, and say why.
"""

from __future__ import annotations

import argparse
import socket
import sys

from gankit import load_dataset
from gankit.data import DatasetNotFoundError, default_root


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", default="mnist", help="which dataset (default mnist)")
    p.add_argument(
        "--timeout", type=float, default=30.0, help="seconds per network request"
    )
    args = p.parse_args(argv)
    socket.setdefaulttimeout(args.timeout)  # never hang on a network that drops
    try:
        for split in ("train", "test"):
            load_dataset(args.dataset, split=split)
    except DatasetNotFoundError as exc:
        print(
            f"{args.dataset} is not available, so the tests that need it will be "
            f"skipped:\n{exc}",
            file=sys.stderr,
        )
        return 0
    print(f"{args.dataset}: both splits are in {default_root()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
