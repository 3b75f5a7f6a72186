"""Files written whole or not at all: the temporary name beside the target.

Every file gankit writes for keeps (checkpoints, exported weights, grids) is
written to a temporary file in the same folder, then renamed over its target,
so a reader never sees half a file. The temporary file's name is made here
alone, and :data:`PARTIAL_NAME` recognises it, so that whoever takes a run
folder (:mod:`gankit.runfolder`) can remove what a killed writer left, and
nothing else. Tested in ``tests/test_atomic.py``.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

#: The names :func:`temporary_beside` makes: ``.<target name>.<8 hex>.partial``.
PARTIAL_NAME = re.compile(r"^\..+\.[0-9a-f]{8}\.partial$")


def temporary_beside(path: Path) -> Path:
    """A new, empty file in ``path``'s folder, to be renamed over ``path``.

    Created as a plain new file would be (the umask decides its mode), not
    private to its owner as ``tempfile.mkstemp`` makes it.
    """
    for _ in range(100):
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
        try:
            os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
        except FileExistsError:
            continue
        return tmp
    raise FileExistsError(f"no free temporary name beside {path}")
