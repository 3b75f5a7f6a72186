"""The book's interactive figures, driven in headless Chromium without a kernel.

Chapter 1's ticket game and chapter 6's latent explorer run in the page
(``book/_static/inpage/``, ``gankit.lessons.inpage``). Each control is moved
and the page's output is compared with what gankit's Python computes for the
same controls: the door's verdict, loss and gradients to float tolerance, the
explorer's pixels within 0.01 (mean absolute difference of the [-1, 1] images).
Both pages also run opened from disk (``file://``), refuse a runtime without
WebAssembly and a model that fails its checksum with a short message, load
nothing from outside the book and log no console error.
"""

from __future__ import annotations

import json

import pytest
import torch
from book_site import RENDER_TIMEOUT_MS, Visit

from gankit import pretrained
from gankit.lessons.latent import explorer_strip
from gankit.lessons.warmup import REAL_TICKETS, Forger, fit_door, try_the_door
from gankit.pictures import image_grid

pytestmark = pytest.mark.browser

GAME_PAGE = "book/01_warm_up"
EXPLORER_PAGE = "book/06_going_further"
GAME = ".gankit-ticket-game"
EXPLORER = ".gankit-explorer"
# (mean, spread) positions of the game's sliders, the first the starting one
POSITIONS = [(0.0, 1.0), (2.5, 0.6), (3.0, 0.5), (5.2, 1.35)]
# (seed A, seed B, mix, path) of the explorer, the first its starting state
CONTROLS = [(3, 11, 0.5, "slerp"), (42, 7, 0.25, "lerp"), (5, 5, 0.7, "slerp")]
CONTROLS += [(999, 0, 1.0, "lerp"), (3, 11, 0.5, "slerp")]
EXPLORER_TIMEOUT_MS = 120_000  # the runtime and model: ~33 MB of scripts


def set_slider(page, root: str, label: str, value: float) -> None:
    page.eval_on_selector(
        f'{root} input[aria-label="{label}"]',
        """(input, v) => {
            input.value = String(v);
            input.dispatchEvent(new Event("input", { bubbles: true }));
        }""",
        value,
    )


def open_game(context, base_url: str) -> Visit:
    visit = Visit(context, base_url, GAME_PAGE)
    visit.page.wait_for_selector(
        f'{GAME}[data-ready="true"]', timeout=RENDER_TIMEOUT_MS
    )
    return visit


def game_report(page, mean: float, std: float) -> dict:
    """Move both sliders and wait for the page's round at that position."""
    set_slider(page, GAME, "mean", mean)
    set_slider(page, GAME, "spread", std)
    page.wait_for_function(
        """([sel, m, s]) => {
            const r = document.querySelector(sel).dataset.report;
            return r && JSON.parse(r).mean === m && JSON.parse(r).std === s;
        }""",
        arg=[GAME, mean, std],
        timeout=RENDER_TIMEOUT_MS,
    )
    return json.loads(page.get_attribute(GAME, "data-report"))


def python_round(mean: float, std: float):
    forger = Forger(mean, std)
    return try_the_door(forger, fit_door(forger, REAL_TICKETS, 200))


def open_explorer(context, base_url: str, before=None) -> Visit:
    visit = Visit(context, base_url, EXPLORER_PAGE, before=before)
    visit.page.locator(EXPLORER).scroll_into_view_if_needed()
    visit.page.wait_for_function(
        """sel => ["ready", "failed"]
            .includes(document.querySelector(sel).dataset.state)""",
        arg=EXPLORER,
        timeout=EXPLORER_TIMEOUT_MS,
    )
    return visit


def explorer_pixels(page, seed_a: int, seed_b: int, mix: float, mode: str):
    """Set the controls, wait for the redraw, and read the drawn grid."""
    set_slider(page, EXPLORER, "seed A", seed_a)
    set_slider(page, EXPLORER, "seed B", seed_b)
    set_slider(page, EXPLORER, "mix", mix)
    page.click(f'{EXPLORER} button:text-is("{mode}")')
    want = {"seed_a": seed_a, "seed_b": seed_b, "mix": mix, "mode": mode}
    page.wait_for_function(
        """([sel, want]) => {
            const root = document.querySelector(sel);
            const got = root.dataset.controls && JSON.parse(root.dataset.controls);
            return got && Object.keys(want).every(k => got[k] === want[k]);
        }""",
        arg=[EXPLORER, want],
        timeout=RENDER_TIMEOUT_MS,
    )
    gray = page.eval_on_selector(
        f"{EXPLORER} canvas",
        """c => {
            const d = c.getContext("2d").getImageData(0, 0, c.width, c.height);
            const red = Array.from(d.data.filter((_, i) => i % 4 === 0));
            return [c.height, c.width, red];
        }""",
    )
    height, width, values = gray
    return torch.tensor(values, dtype=torch.float32).reshape(height, width)


@pytest.fixture(scope="module")
def game(browser_context, base_url):
    visit = open_game(browser_context, base_url)
    yield visit
    visit.page.close()


@pytest.fixture(scope="module")
def explorer(browser_context, base_url):
    visit = open_explorer(browser_context, base_url)
    yield visit
    visit.page.close()


@pytest.fixture(scope="module")
def generator():
    return pretrained("mnist")


def python_pixels(generator, seed_a, seed_b, mix, mode) -> torch.Tensor:
    grid = image_grid(explorer_strip(generator, seed_a, seed_b, mix, mode), nrow=3)
    return grid[0].mul(255).round()  # (H, W), gray as the page draws it


# -- the ticket game -------------------------------------------------------------
@pytest.mark.parametrize("mean, std", POSITIONS)
def test_the_game_gives_pythons_verdict_and_advice(game, mean, std):
    page = game_report(game.page, mean, std)
    python = python_round(mean, std)
    assert page["p_real"] == pytest.approx(python.p_real, abs=1e-4)
    assert page["g_loss"] == pytest.approx(python.g_loss, abs=1e-4)
    assert page["grad_mean"] == pytest.approx(python.grad_mean, abs=1e-4)
    assert page["grad_std"] == pytest.approx(python.grad_std, abs=1e-4)
    assert page["advice"] == python.advice()
    shown = game.page.inner_text(f"{GAME} .gankit-verdict")
    assert f"P(real) = {python.p_real:.2f}" in shown and python.advice() in shown


def test_moving_a_slider_redraws_the_picture(game):
    game_report(game.page, 0.0, 1.0)
    before = game.page.get_attribute(f"{GAME} path.forged", "d")
    game_report(game.page, 2.5, 0.6)
    after = game.page.get_attribute(f"{GAME} path.forged", "d")
    assert before != after
    assert game.page.locator(f"{GAME} path.door").get_attribute("d")


def test_the_game_page_stays_offline_and_quiet(game):
    game_report(game.page, 1.0, 0.8)
    assert game.outside_requests == []
    assert game.console_errors == []


# -- the latent explorer -------------------------------------------------------
def test_the_explorer_runs_the_generator_in_the_page(explorer):
    assert explorer.page.get_attribute(EXPLORER, "data-state") == "ready"
    assert explorer.page.locator(f"{EXPLORER} canvas").is_visible()
    assert "Drawn in your browser" in explorer.page.inner_text(EXPLORER)


@pytest.mark.parametrize("seed_a, seed_b, mix, mode", CONTROLS)
def test_the_explorer_draws_pythons_digits(
    explorer, generator, seed_a, seed_b, mix, mode
):
    page = explorer_pixels(explorer.page, seed_a, seed_b, mix, mode)
    python = python_pixels(generator, seed_a, seed_b, mix, mode)
    assert page.shape == python.shape
    # On the [-1, 1] scale of the images: 2 / 255 per grey level.
    assert (page - python).abs().mean().item() * 2 / 255 < 0.01


def test_every_control_changes_the_strip(explorer):
    base = explorer_pixels(explorer.page, 3, 11, 0.5, "slerp")
    for changed in [(4, 11, 0.5, "slerp"), (3, 12, 0.5, "slerp")]:
        assert not torch.equal(explorer_pixels(explorer.page, *changed), base)
    middle = slice(36, 68)  # the mixed image, between the two seeds' images
    for changed in [(3, 11, 0.2, "slerp"), (3, 11, 0.5, "lerp")]:
        other = explorer_pixels(explorer.page, *changed)
        assert not torch.equal(other[:, middle], base[:, middle])


def test_the_explorer_page_stays_offline_and_quiet(explorer):
    explorer_pixels(explorer.page, 8, 9, 0.3, "lerp")
    assert explorer.outside_requests == []
    assert explorer.console_errors == []


# -- opened from disk, and where it cannot run ----------------------------------
def test_both_figures_work_opened_from_disk(browser_context, html_dir, generator):
    base = html_dir.resolve().as_uri() + "/"
    game = open_game(browser_context, base)
    try:
        page = game_report(game.page, 2.5, 0.6)
        assert page["p_real"] == pytest.approx(python_round(2.5, 0.6).p_real, abs=1e-4)
        assert game.console_errors == []
    finally:
        game.page.close()
    explorer = open_explorer(browser_context, base)
    try:
        assert explorer.page.get_attribute(EXPLORER, "data-state") == "ready"
        page = explorer_pixels(explorer.page, 42, 7, 0.25, "lerp")
        python = python_pixels(generator, 42, 7, 0.25, "lerp")
        assert (page - python).abs().mean().item() * 2 / 255 < 0.01
        assert explorer.console_errors == []
    finally:
        explorer.page.close()


def failed_message(visit: Visit) -> str:
    assert visit.page.get_attribute(EXPLORER, "data-state") == "failed"
    # The strip the book was built with stays, with the reason beside it.
    assert visit.page.locator(f"{EXPLORER} img").is_visible()
    return visit.page.inner_text(f"{EXPLORER} .gankit-message")


def test_without_webassembly_the_explorer_says_so(browser_context, base_url):
    def no_wasm(page):
        page.add_init_script("delete globalThis.WebAssembly;")

    visit = open_explorer(browser_context, base_url, before=no_wasm)
    try:
        assert "no WebAssembly" in failed_message(visit)
        assert visit.console_errors == []
    finally:
        visit.page.close()


def test_a_model_that_fails_its_checksum_is_refused(browser_context, base_url):
    def corrupt(page):
        def serve(route):
            body = route.fetch().text()
            at = body.index('= "') + 40  # one base64 letter inside the model
            flipped = "B" if body[at] != "B" else "C"
            route.fulfill(body=body[:at] + flipped + body[at + 1 :])

        page.route("**/models/*.onnx.js", serve)

    visit = open_explorer(browser_context, base_url, before=corrupt)
    try:
        assert "failed its checksum" in failed_message(visit)
        assert visit.console_errors == []
    finally:
        visit.page.close()
