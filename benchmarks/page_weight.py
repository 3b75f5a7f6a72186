"""Bytes each page of the built book loads, and the in-page figures' times.

    python benchmarks/page_weight.py                 # reads _build/html
    python benchmarks/page_weight.py --html path/to/html

Serves the built book on localhost, opens every page of the toc in headless
Chromium and sums the bytes of every response the page receives until the
network is idle: the HTML, then its scripts, styles, fonts and images
(uncompressed: this server sends no gzip). Chapter 6's explorer loads its
runtime and model only when it comes into view; those bytes are counted
apart. Then it times the interactive figures as a reader meets them: the
ticket game's round after a slider move, and the explorer's first load
(runtime + model + first strip) and its redraw after a control moves.

Needs a built book (``make book``) and Chromium (``apt-get install chromium``).
"""

from __future__ import annotations

import argparse
import functools
import json
import shutil
import statistics
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from playwright.sync_api import sync_playwright
from sphinx_external_toc.parsing import parse_toc_yaml

ROOT = Path(__file__).resolve().parents[1]


def toc_pages() -> list[str]:
    """Every page in reading order, as Jupyter Book reads ``_toc.yml``."""
    return list(parse_toc_yaml(ROOT / "_toc.yml").keys())


def serve(html: Path) -> tuple[ThreadingHTTPServer, str]:
    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(html))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def weigh(page, url: str) -> dict[str, int]:
    """Bytes received while ``url`` loads, by kind; the explorer's on-demand
    assets are those requested after it is scrolled into view. Sizes are the
    responses' Content-Length, which this server always sends."""
    sizes: list[tuple[str, str, int]] = []
    phase = ["load"]

    def on_response(response) -> None:
        length = int(response.headers.get("content-length", 0))
        sizes.append((phase[0], response.url.split("?")[0], length))

    page.on("response", on_response)
    page.goto(url, wait_until="networkidle")
    if page.locator(".gankit-explorer").count():
        phase[0] = "view"
        page.locator(".gankit-explorer").scroll_into_view_if_needed()
        page.wait_for_function(
            "() => ['ready', 'failed'].includes("
            "document.querySelector('.gankit-explorer').dataset.state)",
            timeout=180_000,
        )
        page.wait_for_load_state("networkidle")
    page.remove_listener("response", on_response)
    loaded = [(u, n) for p, u, n in sizes if p == "load"]
    html = sum(n for u, n in loaded if u.endswith(".html"))
    return {
        "html": html,
        "assets": sum(n for _, n in loaded) - html,
        "on_view": sum(n for p, _, n in sizes if p == "view"),
    }


def time_game(page, url: str, moves: int) -> list[float]:
    page.goto(url, wait_until="networkidle")
    page.wait_for_selector('.gankit-ticket-game[data-ready="true"]')
    times = []
    for i in range(moves):
        value = -1.5 + 0.5 * i
        page.eval_on_selector(
            '.gankit-ticket-game input[aria-label="mean"]',
            "(el, v) => { el.value = String(v);"
            " el.dispatchEvent(new Event('input', {bubbles: true})); }",
            value,
        )
        page.wait_for_function(
            "v => JSON.parse(document.querySelector('.gankit-ticket-game')"
            ".dataset.report).mean === v",
            arg=value,
        )
        times.append(float(page.get_attribute(".gankit-ticket-game", "data-millis")))
    return times


def time_explorer(page, url: str, moves: int) -> tuple[float, list[float]]:
    page.goto(url, wait_until="networkidle")
    page.locator(".gankit-explorer").scroll_into_view_if_needed()
    page.wait_for_function(
        "() => document.querySelector('.gankit-explorer').dataset.state === 'ready'",
        timeout=180_000,
    )
    load = float(page.get_attribute(".gankit-explorer", "data-load-millis"))
    draws = []
    for i in range(moves):
        page.eval_on_selector(
            '.gankit-explorer input[aria-label="seed A"]',
            "(el, v) => { el.value = String(v);"
            " el.dispatchEvent(new Event('input', {bubbles: true})); }",
            100 + i,
        )
        page.wait_for_function(
            "v => JSON.parse(document.querySelector('.gankit-explorer')"
            ".dataset.controls || '{}').seed_a === v",
            arg=100 + i,
        )
        draws.append(float(page.get_attribute(".gankit-explorer", "data-draw-millis")))
    return load, draws


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--html", default=str(ROOT / "_build" / "html"))
    p.add_argument("--moves", type=int, default=10)
    p.add_argument("--json", help="also write the figures here")
    args = p.parse_args(argv)
    html = Path(args.html)
    if not (html / "index.html").exists():
        print(f"no built book in {html}: run `make book` first", file=sys.stderr)
        return 2
    server, base = serve(html)
    figures: dict = {"pages": {}}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=shutil.which("chromium"),
            args=["--headless", "--no-sandbox", "--disable-gpu"],
        )
        print("| page | HTML (KB) | its assets (KB) | loaded on view (MB) |")
        print("|---|---:|---:|---:|")
        for name in toc_pages():
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            w = weigh(page, f"{base}{name}.html")
            page.close()
            figures["pages"][name] = w
            print(
                f"| {name} | {w['html'] / 1e3:,.0f} | {w['assets'] / 1e3:,.0f} "
                f"| {w['on_view'] / 1e6:.1f} |"
            )
        page = browser.new_page()
        game = time_game(page, f"{base}book/01_warm_up.html", args.moves)
        page.close()
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        load, draws = time_explorer(
            page, f"{base}book/06_going_further.html", args.moves
        )
        page.close()
        browser.close()
    server.shutdown()
    figures.update(game_round_ms=game, explorer_load_ms=load, explorer_draw_ms=draws)
    print(
        f"\nticket game, one round after a slider move: median "
        f"{statistics.median(game):.0f} ms (range {min(game):.0f}-{max(game):.0f})"
    )
    print(
        f"explorer, first load (runtime, model, first strip): {load:.0f} ms; "
        f"redraw after a move: median {statistics.median(draws):.0f} ms "
        f"(range {min(draws):.0f}-{max(draws):.0f})"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
