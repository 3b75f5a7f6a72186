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
that gankit's writers killed mid-write left behind
(``.checkpoint.pt.<8 hex digits>.partial``, named by :mod:`gankit.atomic`):
they are never a checkpoint, and only the holder of the lock writes them.
Another run folder inside this one (one with its own lock file) is left alone.
On a file system that cannot lock at all, the folder is used with a warning.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from .atomic import PARTIAL_NAME

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]
    import msvcrt

LOCK_NAME = ".gankit.lock"
#: Where on Windows the lock byte lies: past the process id written at the
#: start of the file, which a mandatory lock would keep others from reading.
_WINDOWS_LOCK_OFFSET = 1 << 20


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
    """Take the lock on ``f`` without waiting; False if another process has it.

    Raises:
        OSError: the file system cannot lock (some network mounts).
    """
    if fcntl is None:
        f.seek(_WINDOWS_LOCK_OFFSET)
        try:
            msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
        except PermissionError:  # EACCES: held by another process
            return False
        return True
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:  # EWOULDBLOCK: held by another process
        return False
    return True


def _unlock(f: IO[str]) -> None:
    if fcntl is None:
        f.seek(_WINDOWS_LOCK_OFFSET)
        msvcrt.locking(f.fileno(), msvcrt.LK_UNLCK, 1)
    else:
        fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def _holder(f: IO[str]) -> str:
    try:
        f.seek(0)
        return f.read(64).strip() or "unknown"
    except OSError:
        return "unknown"


# The folders this process holds, by resolved path: the lock file and how many
# claims are open. A claim inside a claim (the command line claims the folder,
# then the trainer's fit and save do) shares the one lock.
_HELD: dict[Path, tuple[IO[str], int, bool]] = {}


def remove_partials(folder: Path) -> list[Path]:
    """Delete the temporary files gankit's writers left in ``folder`` and in
    its direct subfolders (``samples/``), except those of another run folder
    nested in it; return their paths."""
    places = [folder] + [
        d for d in folder.iterdir() if d.is_dir() and not (d / LOCK_NAME).exists()
    ]
    removed = []
    for place in places:
        for p in place.iterdir():
            if PARTIAL_NAME.match(p.name) and p.is_file():
                p.unlink(missing_ok=True)
                removed.append(p)
    return sorted(removed)


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
        f, n, locked = _HELD[key]
        _HELD[key] = (f, n + 1, locked)
    else:
        f = open(folder / LOCK_NAME, "a+", encoding="ascii")  # noqa: SIM115
        try:
            locked = _try_lock(f)
        except OSError as exc:  # no locking here: use the folder, but say so
            locked = None
            warnings.warn(
                f"{folder} cannot be locked ({exc.strerror or exc}); make sure no "
                "other trainer uses it at the same time",
                RuntimeWarning,
                stacklevel=3,
            )
        if locked is False:
            holder = _holder(f)
            f.close()
            raise RunFolderBusyError(
                f"{folder} is in use by another trainer (process {holder}); "
                "wait for it to finish or stop it, or give this run another folder"
            )
        try:
            f.seek(0)
            f.truncate()
            f.write(f"{os.getpid()}\n")
            f.flush()
            remove_partials(folder)
        except BaseException:
            if locked:
                _unlock(f)
            f.close()
            raise
        _HELD[key] = (f, 1, bool(locked))
    try:
        yield folder
    finally:
        f, n, locked = _HELD[key]
        if n > 1:
            _HELD[key] = (f, n - 1, locked)
        else:
            del _HELD[key]
            if locked:
                _unlock(f)
            f.close()
