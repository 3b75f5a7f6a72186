"""The built book reads as a lesson: no test plumbing, no cut-off lines.

For every page of ``_toc.yml``:

- no code a reader sees (a cell's input, not behind a "show code" toggle)
  holds an ``assert``, a ``glue(...)`` call or an ``NBVAL`` marker: checks
  for nbval belong in cells tagged ``remove-cell`` or ``remove-input``;
- no output prints a temporary path, which means nothing on another machine;
- in Chromium at 1280x900, no code or output block of the article is wider
  than its box, with every toggle opened: a line that does not fit is cut off
  at the block's right edge. A cell's block holds ``FITS`` characters of the
  code font there (the narrowest of the usual widths: both sidebars show);
  the code in a "show code" toggle two fewer, an exercise's solution about 79.

The first two read the built HTML; the others measure the page in the browser.
The fixtures are in ``conftest.py`` here.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from book_site import PAGES, Visit
from bs4 import BeautifulSoup

pytestmark = pytest.mark.browser

IDS = [page.split("/")[-1] for page in PAGES]
PLUMBING = re.compile(r"\bassert |\bglue\(|NBVAL")
# /tmp/..., macOS's /var/folders/..., Windows' ...\AppData\Local\Temp\..., the
# tmpXXXXXXXX names tempfile makes and pytest's tmp_path folders.
TEMPORARY = re.compile(
    r"/tmp/|/var/folders/|AppData[\\/]+Local[\\/]+Temp|\btmp[a-z0-9_]{8}\b|"
    r"pytest-of-" + "|" + re.escape(tempfile.gettempdir().rstrip("/\\") + "/")
)
# The characters of the code font a cell's code or output block holds at
# 1280x900: its inner width (652 px) over one character (7.35 px at the 12.2 px
# that book/_static/inpage/gankit.css sets), the package's line length.
FITS = 88


def soup(html_dir: Path, page: str) -> BeautifulSoup:
    path = html_dir / f"{page}.html"
    if not path.exists():
        pytest.fail(f"{path} is missing: was the book built from this _toc.yml?")
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def shown_inputs(page: BeautifulSoup) -> list[str]:
    """The code of each cell whose input the page shows without a click."""
    return [
        cell.get_text()
        for cell in page.select("article div.cell_input")
        if cell.find_parent("details") is None
    ]


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_shown_code_holds_no_checks_for_nbval(html_dir, page):
    found = [
        line.strip()
        for code in shown_inputs(soup(html_dir, page))
        for line in code.splitlines()
        if PLUMBING.search(line)
    ]
    assert found == [], (
        f"{len(found)} shown lines are checks for nbval; move them into a cell "
        f"tagged remove-cell (or remove-input to keep its output): {found[:8]}"
    )


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_no_output_shows_a_temporary_path(html_dir, page):
    outputs = soup(html_dir, page).select("article div.cell_output")
    found = [
        line.strip()
        for out in outputs
        for line in out.get_text().splitlines()
        if TEMPORARY.search(line)
    ]
    assert found == [], f"temporary paths printed: {found[:5]}"


# Every block of the article, with its toggles opened: the first line of each
# block wider than its box, and how many characters that box holds.
OVERFLOWS = """() => {
    document.querySelectorAll("article details").forEach(d => { d.open = true; });
    document.querySelectorAll("article .toggle-hidden")
        .forEach(e => e.classList.remove("toggle-hidden"));
    const ctx = document.createElement("canvas").getContext("2d");
    const found = [];
    for (const pre of document.querySelectorAll("article pre")) {
        if (pre.getClientRects().length === 0) continue;
        const style = getComputedStyle(pre);
        ctx.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
        const room = pre.clientWidth - parseFloat(style.paddingLeft)
            - parseFloat(style.paddingRight);
        const fits = Math.floor(room / ctx.measureText("0").width);
        if (pre.scrollWidth <= pre.clientWidth + 1) continue;
        const lines = pre.textContent.split("\\n");
        const line = lines.find(l => ctx.measureText(l).width > room)
            ?? lines.reduce((a, b) => (b.length > a.length ? b : a));
        const kind = pre.closest(".cell_input") ? "code"
            : pre.closest(".cell_output") ? "output" : "text";
        found.push({kind, fits, chars: line.length, line});
    }
    return found;
}"""


# How many characters of the code font each cell block not in a toggle holds.
BLOCK_WIDTHS = """() => {
    const ctx = document.createElement("canvas").getContext("2d");
    return [...document.querySelectorAll("article .cell pre")]
        .filter(pre => !pre.closest("details") && pre.getClientRects().length)
        .map(pre => {
            const style = getComputedStyle(pre);
            ctx.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
            const room = pre.clientWidth - parseFloat(style.paddingLeft)
                - parseFloat(style.paddingRight);
            return Math.floor(room / ctx.measureText("0").width);
        });
}"""


@pytest.fixture(scope="module", params=PAGES, ids=IDS)
def opened(request, browser_context, base_url):
    seen = Visit(browser_context, base_url, request.param)
    yield seen
    seen.page.close()


def test_cell_blocks_hold_the_line_length_the_chapters_keep_to(opened):
    # The chapters keep shown lines to FITS characters; a narrower block (a
    # theme or font change) would cut them off.
    widths = opened.page.evaluate(BLOCK_WIDTHS)
    assert widths == [] or min(widths) >= FITS, f"blocks hold {sorted(set(widths))}"


def test_no_code_or_output_block_is_cut_off(opened):
    overflows = opened.page.evaluate(OVERFLOWS)
    lines = [
        f"{o['kind']}, {o['chars']} characters where {o['fits']} fit: "
        f"{o['line'].strip()[:100]!r}"
        for o in overflows
    ]
    assert lines == [], (
        f"{len(lines)} blocks wider than the page, the first line cut off in "
        "each:\n" + "\n".join(lines)
    )
