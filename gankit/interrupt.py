"""Stopping a run cleanly on Ctrl-C or a scheduler's signal.

Used by :class:`gankit.Trainer`; tested in ``tests/test_interrupt.py`` (and,
with real processes, ``tests/test_cli.py`` and ``tests/test_distributed.py``).

Ctrl-C sends SIGINT; ``docker stop``, Kubernetes, SLURM's preemption and most
batch schedulers send SIGTERM, and a closed terminal SIGHUP, before they kill
a process. While :class:`StopSignals` is installed, the first of these asks
the run to stop: the step in flight finishes, the trainer saves a checkpoint
and raises :class:`TrainingInterrupted`. A second signal of the same kind acts
at once, as it would have without gankit (a second Ctrl-C raises
``KeyboardInterrupt`` mid-step); one of another kind while the run is already
stopping is ignored, since a launcher that passes Ctrl-C on as SIGTERM would
otherwise cut the save short. A signal the process ignores (SIGHUP under
``nohup``) stays ignored, and one whose handler Python did not install is
left to it.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Any

#: The signals that ask a run to stop, where the platform has them.
STOP_SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name)
    for name in ("SIGINT", "SIGTERM", "SIGHUP")
    if hasattr(signal, name)
)


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped on a signal after a whole step.

    A ``KeyboardInterrupt``, so code that stops on Ctrl-C stops on it too.
    ``signum`` is the signal (``None`` when unknown), ``step`` the last step
    done and ``path`` the checkpoint that holds it (``None`` when nothing was
    saved). :attr:`exit_status` is the shell's convention, 128 + the signal.
    """

    def __init__(
        self, message: str, *, signum: int | None, step: int, path: Path | None = None
    ) -> None:
        super().__init__(message)
        self.signum, self.step, self.path = signum, step, path

    @property
    def exit_status(self) -> int:
        return 128 + (self.signum or signal.SIGINT)


def signal_name(signum: int | None) -> str:
    """``"SIGTERM"`` for 15, ``"a signal"`` for None."""
    if signum is None:
        return "a signal"
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


class StopSignals:
    """While installed (a context manager), the stop signals set
    :attr:`received` instead of ending the process.

    Handlers can only be installed from the main thread: elsewhere (a training
    thread of a notebook) it installs nothing and the signals keep their
    usual effect.
    """

    def __init__(self) -> None:
        self.received: int | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        self.received = None
        if threading.current_thread() is threading.main_thread():
            for s in STOP_SIGNALS:
                previous = signal.getsignal(s)
                if previous is signal.SIG_IGN or previous is None:
                    continue  # ignored on purpose, or handled outside Python
                self._previous[s] = previous
                signal.signal(s, self._handle)
        return self

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.received is None:
            self.received = signum
            # The same signal again acts at once, as before gankit took it.
            signal.signal(signum, self._previous[signum])

    def __exit__(self, *exc: object) -> None:
        for s, handler in self._previous.items():
            signal.signal(s, handler)
        self._previous = {}
