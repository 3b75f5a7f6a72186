"""A run folder: the place one trainer writes its checkpoints and grids.

Used by :class:`gankit.Trainer` and the command line; tested in
``tests/test_runfolder.py``.

A folder belongs to one trainer at a time. :func:`claimed` takes an advisory
lock on ``.gankit.lock`` in the folder before anything is written (``flock``
where the platform has it, ``msvcrt.locking`` on Windows) and writes its
process id there, so a second trainer on the same folder fails at once with a
message naming the holder. The operating system drops the lock when the
holder's process ends, however it ends, so a lock left by a killed run never
blocks a resume. Whoever takes the folder also removes the temporary files
(``.*.partial``) that a writer killed mid-write left behind: they are never a
checkpoint, and only the holder of the lock writes them.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO

LOCK_NAME = ".gankit.lock"
#: How the atomic writers name a file until it is complete.
PARTIAL_GLOBS = (".*.partial", "*/.*.partial")


class RunFolderBusyError(RuntimeError):
    """The run folder is held by another trainer."""


def run_folder(path: str | os.PathLike[str]) -> Path:
    """``path`` as an existing, writable folder (created if needed), or a
    ``ValueError`` now rather than at the first checkpoint, after the training
    time was spent."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file where a folder should be, no permission
        raise ValueError(
            f"out_dir {path} cannot be a folder for the run: "
            f"{exc.strerror or exc} ({exc.filename or path})"
        ) from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ValueError(f"out_dir {path} is a folder this process cannot write to")
    return path


def _try_lock(f: IO[str]) -> bool:
    """Take the lock on ``f`` without waiting; False if another process has it."""
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            f.seek(0)
            msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # BlockingIOError where another process holds it
        return False
    return True


def _unlock(f: IO[str]) -> None:
    try:
        import fcntl
    except ImportError:
        import msvcrt

        f.seek(0)
        msvcrt.locking(f.fileno(), msvcrt.LK_UNLCK, 1)
    else:
        fcntl.flock(f.fileno(), fcntl.LOCK_UN)


# The folders this process holds, by resolved path: the lock file and how many
# claims are open. A claim inside a claim (the command line claims the folder,
# then the trainer's fit and save do) shares the one lock.
_HELD: dict[Path, tuple[IO[str], int]] = {}


def remove_partials(folder: Path) -> list[Path]:
    """Delete the temporary files a killed writer left in ``folder`` (and in
    its direct subfolders, such as ``samples/``); return their paths."""
    removed = []
    for pattern in PARTIAL_GLOBS:
        for p in folder.glob(pattern):
            if p.is_file():
                p.unlink(missing_ok=True)
                removed.append(p)
    return removed


@contextlib.contextmanager
def claimed(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Hold the run folder ``path`` (created if needed) inside the block.

    Raises:
        RunFolderBusyError: another process holds it; the message names the
            folder and the holder's process id.
        ValueError: ``path`` cannot be a writable folder.
    """
    folder = run_folder(path)
    key = folder.resolve()
    if key in _HELD:
        f, n = _HELD[key]
        _HELD[key] = (f, n + 1)
    else:
        f = open(folder / LOCK_NAME, "a+", encoding="ascii")  # noqa: SIM115
        if not _try_lock(f):
            f.seek(0)
            holder = f.read().strip() or "unknown"
            f.close()
            raise RunFolderBusyError(
                f"{folder} is in use by another trainer (process {holder}); "
                "wait for it to finish or stop it, or give this run another folder"
            )
        f.seek(0)
        f.truncate()
        f.write(f"{os.getpid()}\n")
        f.flush()
        remove_partials(folder)
        _HELD[key] = (f, 1)
    try:
        yield folder
    finally:
        f, n = _HELD[key]
        if n > 1:
            _HELD[key] = (f, n - 1)
        else:
            del _HELD[key]
            _unlock(f)
            f.close()
