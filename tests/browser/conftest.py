"""The built book in headless Chromium: the fixtures of every browser test.

``html_dir`` is the built book: ``_build/html``, built first (``jupyter-book
build -W --keep-going`` in the smoke profile) when it is missing or older than
the book's sources, so a fresh clone needs nothing but ``make test``; ``make
book`` beforehand saves that build. ``GANKIT_BOOK_HTML=path/to/html`` checks
another built book. ``base_url`` serves it on localhost; ``browser_context`` is
one headless Chromium for the session; :class:`Visit` opens a page and records
its console errors and any request that leaves the book (refused, as offline).

Needs Chromium: Debian's ``apt-get install chromium``, or ``playwright install
chromium``. Without it the tests skip, except in CI (``CI=true``) where they
fail.
"""

from __future__ import annotations

import functools
import os
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from book_site import (
    CHROMIUM_ARGS,
    INSTALL_HINT,
    ROOT,
    book_sources,
    build_book,
    chromium_executable,
    unavailable,
)


@pytest.fixture(scope="session")
def html_dir() -> Path:
    if given := os.environ.get("GANKIT_BOOK_HTML"):
        html = Path(given)
        if not (html / "index.html").exists():
            pytest.fail(f"GANKIT_BOOK_HTML={given} holds no built book")
        return html
    html = ROOT / "_build" / "html"
    index = html / "index.html"
    built = index.stat().st_mtime if index.exists() else 0.0
    missing = [p for p in book_sources() if not p.exists()]
    if missing:
        pytest.fail(f"the book's sources are incomplete: {missing}")
    if any(p.stat().st_mtime > built for p in book_sources()):
        build_book(html)
    return html


@pytest.fixture(scope="session")
def base_url(html_dir: Path):
    class QuietHandler(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    handler = functools.partial(QuietHandler, directory=str(html_dir))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser_context(tmp_path_factory: pytest.TempPathFactory):
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        unavailable(f"the playwright package is missing; {INSTALL_HINT}")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as pw:
        try:
            context = pw.chromium.launch_persistent_context(
                str(profile),
                executable_path=chromium_executable(),
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": 1280, "height": 900},
            )
        except Error as err:
            unavailable(
                f"Chromium does not start ({err.message.splitlines()[0]}); "
                f"{INSTALL_HINT}"
            )
        yield context
        context.close()


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")
