"""The built book, as a reader sees it: every page opened in headless Chromium.

Checks each page of ``_toc.yml``: no console errors from the book's own pages,
nothing loaded from outside the book (readers may be offline), every image
loaded, math typeset, the Binder and Colab launch buttons present, and each
chapter's figures, widgets and animations drawn. A screenshot of every page
goes to pytest's tmp directory. The fixtures are in ``conftest.py`` here.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from book_site import CONFIG, PAGES, RENDER_TIMEOUT_MS, Visit

pytestmark = pytest.mark.browser

# The least each page must draw: figures (<img> outside animations), rendered
# widget views and matplotlib animations. Chapters 1 and 6 show their widgets'
# in-page twins instead (test_interactive.py drives them).
EXPECTED = {
    "book/00_introduction": {"images": 0, "widgets": 0, "animations": 0},
    "book/01_warm_up": {"images": 4, "widgets": 0, "animations": 1},
    "book/02_two_player_game": {"images": 1, "widgets": 0, "animations": 0},
    "book/03_generator": {"images": 3, "widgets": 0, "animations": 0},
    "book/04_discriminator": {"images": 4, "widgets": 0, "animations": 0},
    "book/05_losses_and_training": {"images": 9, "widgets": 0, "animations": 2},
    "book/06_going_further": {"images": 7, "widgets": 0, "animations": 0},
    "book/07_engineering": {"images": 2, "widgets": 0, "animations": 0},
}


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
