"""The built book, as a reader sees it: every page opened in headless Chromium.

Serves ``_build/html`` on localhost and checks each page of ``_toc.yml``: no
console errors from the book's own pages, nothing loaded from outside the book
(readers may be offline), every image loaded, math typeset, the Binder and
Colab launch buttons present, and each chapter's figures, widgets and
animations drawn. A screenshot of every page goes to pytest's tmp directory.

The book is built first (``jupyter-book build -W --keep-going`` in the smoke
profile) when ``_build/html`` is missing or older than the book's sources, so
a fresh clone needs nothing but ``make test``; ``make book`` beforehand saves
that build. ``GANKIT_BOOK_HTML=path/to/html`` checks another built book.

Needs Chromium: Debian's ``apt-get install chromium``, or ``playwright install
chromium``. Without it the tests skip, except in CI (``CI=true``) where they
fail.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())
PAGES = [TOC["root"]] + [entry["file"] for entry in TOC["chapters"]]

# The least each page must draw: figures (<img> outside animations), rendered
# widget views and matplotlib animations.
EXPECTED = {
    "book/00_introduction": {"images": 0, "widgets": 0, "animations": 0},
    "book/01_warm_up": {"images": 5, "widgets": 1, "animations": 1},
    "book/02_two_player_game": {"images": 1, "widgets": 0, "animations": 0},
    "book/03_generator": {"images": 3, "widgets": 0, "animations": 0},
    "book/04_discriminator": {"images": 4, "widgets": 0, "animations": 0},
    "book/05_losses_and_training": {"images": 7, "widgets": 0, "animations": 1},
    "book/06_going_further": {"images": 5, "widgets": 1, "animations": 0},
}

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
    """Build the book in the smoke profile, warnings as errors."""
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    if not jupyter_book.exists():
        jupyter_book = Path(shutil.which("jupyter-book") or "jupyter-book")
    cmd = [str(jupyter_book), "build", str(ROOT), "--path-output", str(ROOT)]
    cmd += ["-W", "--keep-going"]
    env = {**os.environ, "GANKIT_PROFILE": "smoke"}
    done = subprocess.run(
        cmd, env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S
    )
    if done.returncode != 0 or not (html / "index.html").exists():
        log = (done.stdout + done.stderr)[-6000:]
        pytest.fail(f"building the book failed ({' '.join(cmd)}):\n{log}")


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


class Visit:
    """One page opened in the browser, with what it logged and fetched."""

    def __init__(self, context, base_url: str, page_path: str) -> None:
        self.base_url = base_url
        self.url = base_url + page_path + ".html"
        self.console_errors: list[str] = []
        self.outside_requests: list[str] = []
        self.page = context.new_page()
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda err: self.console_errors.append(str(err)))
        # Behave as offline: anything outside the book is refused and recorded.
        self.page.route("**/*", self._route)
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


@pytest.fixture(scope="module", params=PAGES, ids=[p.split("/")[-1] for p in PAGES])
def visit(request, browser_context, base_url, screenshot_dir):
    page_path = request.param
    seen = Visit(browser_context, base_url, page_path)
    # Widgets render asynchronously after load; so does MathJax.
    n_views = seen.count('script[type="application/vnd.jupyter.widget-view+json"]')
    seen.page.wait_for_function(
        "n => document.querySelectorAll('.widget-subarea > *').length >= n",
        arg=n_views,
        timeout=RENDER_TIMEOUT_MS,
    )
    seen.page.evaluate(
        "async () => { if (window.MathJax?.startup) await MathJax.startup.promise }"
    )
    seen.page.evaluate(
        """async () => {
            const imgs = [...document.images];
            imgs.forEach(img => { img.loading = "eager"; });
            await Promise.all(imgs.map(img => img.decode().catch(() => null)));
        }"""
    )
    name = page_path.split("/")[-1]
    seen.page.screenshot(path=str(screenshot_dir / f"{name}.png"), full_page=True)
    seen.page_path = page_path
    yield seen
    seen.page.close()


def test_page_logs_no_console_errors(visit):
    assert visit.console_errors == []


def test_page_loads_nothing_from_outside_the_book(visit):
    assert visit.outside_requests == []


def test_every_image_is_loaded(visit):
    broken = visit.page.evaluate(
        "() => [...document.images]"
        ".filter(img => !(img.complete && img.naturalWidth > 0))"
        ".map(img => img.src.slice(0, 80) || img.id)"
    )
    assert broken == []


def test_math_is_typeset(visit):
    untypeset = visit.count(".math:not(:has(mjx-container))")
    assert untypeset == 0, f"{untypeset} formulas were not typeset by MathJax"


def test_launch_buttons_open_this_notebook_on_binder_and_colab(visit):
    repo = CONFIG["repository"]["url"].rstrip("/")
    org_repo = urlsplit(repo).path.strip("/")
    branch = CONFIG["repository"]["branch"]
    notebook = f"{visit.page_path}.ipynb"
    links = visit.page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    binder = CONFIG["launch_buttons"]["binderhub_url"].rstrip("/")
    colab = CONFIG["launch_buttons"]["colab_url"].rstrip("/")
    assert any(
        u.startswith(f"{binder}/v2/gh/{org_repo}/{branch}") and notebook in u
        for u in links
    ), "no Binder link to this notebook"
    assert f"{colab}/github/{org_repo}/blob/{branch}/{notebook}" in links


def test_page_draws_its_figures_widgets_and_animations(visit):
    expected = EXPECTED.get(
        visit.page_path, {"images": 0, "widgets": 0, "animations": 0}
    )
    drawn = {
        "images": visit.count("article .cell_output img:not(.animation img)"),
        "widgets": visit.count(".widget-subarea > *"),
        "animations": visit.page.locator(".animation img").evaluate_all(
            "imgs => imgs.filter(i => i.naturalWidth > 0).length"
        ),
    }
    short = {k: (drawn[k], v) for k, v in expected.items() if drawn[k] < v}
    assert not short, f"drawn vs least expected: {short}"
