"""Build the book, re-running only the chapters that changed.

    python scripts/build_book.py [jupyter-book build options]   # e.g. -W --keep-going

Jupyter Book's execution cache (``_config.yml``: ``execute_notebooks: cache``)
keeps each chapter's executed outputs under ``_build/.jupyter_cache``, keyed on
the chapter's code, so a rebuild runs only the chapters whose code changed.
The key does not see ``GANKIT_PROFILE``, though: outputs executed in the
``smoke`` profile would be reused for a ``cpu`` build. So the cache records the
profile it was filled in, and a build in another profile empties it first.
The tests never read the cache: nbval runs every chapter itself.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "_build" / ".jupyter_cache"
PROFILE_FILE = CACHE / "gankit-profile"


def current_profile() -> str:
    """The profile the chapters will run in (``gankit.lessons.profiles``)."""
    from gankit.lessons.profiles import current_profile as profile

    return profile().name


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    profile = current_profile()
    cached = PROFILE_FILE.read_text().strip() if PROFILE_FILE.exists() else None
    if cached != profile and CACHE.exists():
        print(f"execution cache filled in the {cached or 'unknown'} profile: emptied")
        shutil.rmtree(CACHE)
    env = {**os.environ, "GANKIT_PROFILE": profile}
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    command = [str(jupyter_book), "build", str(ROOT), "--path-output", str(ROOT)]
    done = subprocess.run([*command, *args], env=env)
    if CACHE.exists():
        PROFILE_FILE.write_text(profile + "\n")
    return done.returncode


if __name__ == "__main__":
    raise SystemExit(main())
