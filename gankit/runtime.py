"""Where the work runs: the device a run uses and the CPU threads torch takes.

Shared by the trainer, the metrics and the chapters' toys (chapters 1 and 2
train on one thread); tested in ``tests/test_runtime.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` -> CUDA if available, else CPU; anything else as given.

    Raises:
        ValueError: a name torch does not know, or CUDA asked for without a GPU.
    """
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}"
        ) from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for, but no CUDA GPU is available")
    return device


@contextmanager
def one_thread() -> Iterator[None]:
    """Run torch on one CPU thread inside the block, then restore the setting.

    The toy GANs of chapters 1 and 2 train on batches of a few hundred numbers:
    worker threads cost far more than they save (tens of times more on a busy
    machine), so the toys run on one.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
