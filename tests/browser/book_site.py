"""The built book and a browser to read it: what the browser tests share.

The fixtures that use these are in ``conftest.py`` beside this file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from sphinx_external_toc.parsing import parse_toc_yaml

ROOT = Path(__file__).resolve().parents[2]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())


# Every page in reading order, as Jupyter Book reads _toc.yml (parts included).
PAGES = list(parse_toc_yaml(ROOT / "_toc.yml").keys())

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSTALL_HINT = (
    "install Chromium to run the browser tests: `apt-get install chromium` "
    "(Debian/Ubuntu) or `playwright install chromium`"
)
BUILD_TIMEOUT_S = 1800
RENDER_TIMEOUT_MS = 60_000


def unavailable(reason: str) -> None:
    """Skip on a developer's machine; in CI a missing piece is a failure."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true, so this fails instead of skipping)")
    pytest.skip(reason)


def chromium_executable() -> str | None:
    """The system's Chromium, or None to let playwright use its own download."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    return None


def book_sources() -> list[Path]:
    static = [p for p in (ROOT / "book" / "_static").rglob("*") if p.is_file()]
    notebooks = [ROOT / f"{page}.ipynb" for page in PAGES]
    return [ROOT / "_config.yml", ROOT / "_toc.yml", *notebooks, *static]


def build_book(html: Path) -> None:
    """Build the book in the smoke profile, warnings as errors, as ``make
    book`` builds it (``scripts/build_book.py``: chapters whose code did not
    change since a smoke build come from the execution cache)."""
    cmd = [sys.executable, str(ROOT / "scripts" / "build_book.py")]
    cmd += ["-W", "--keep-going"]
    env = {**os.environ, "GANKIT_PROFILE": "smoke"}
    done = subprocess.run(
        cmd, env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S
    )
    if done.returncode != 0 or not (html / "index.html").exists():
        log = (done.stdout + done.stderr)[-6000:]
        pytest.fail(f"building the book failed ({' '.join(cmd)}):\n{log}")


class Visit:
    """One page opened in the browser, with what it logged and fetched.

    ``base_url`` is the served book (``http://127.0.0.1:.../``) or the built
    folder itself (``file:///.../html/``), as a reader opens it from disk.
    ``before(page)``, if given, runs before the page loads (to add routes or
    init scripts; a route added there overrides the offline one).
    """

    def __init__(self, context, base_url: str, page_path: str, before=None) -> None:
        self.base_url = base_url
        self.url = base_url + page_path + ".html"
        self.console_errors: list[str] = []
        self.outside_requests: list[str] = []
        self.page = context.new_page()
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda err: self.console_errors.append(str(err)))
        # Behave as offline: anything outside the book is refused and recorded.
        self.page.route("**/*", self._route)
        if before is not None:
            before(self.page)
        self.page.goto(self.url, wait_until="load", timeout=RENDER_TIMEOUT_MS)
        self.page.wait_for_load_state("networkidle", timeout=RENDER_TIMEOUT_MS)

    def _on_console(self, msg) -> None:
        source = msg.location.get("url", "") if msg.location else ""
        if msg.type == "error" and (not source or source.startswith(self.base_url)):
            self.console_errors.append(f"{msg.text} ({source})")

    def _route(self, route) -> None:
        url = route.request.url
        if url.startswith(self.base_url) or urlsplit(url).scheme in ("data", "blob"):
            route.continue_()
        else:
            self.outside_requests.append(url)
            route.abort()

    def count(self, selector: str) -> int:
        return self.page.locator(selector).count()
