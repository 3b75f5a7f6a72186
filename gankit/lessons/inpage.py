"""Interactive figures that also work on the built page, without a kernel.

Chapters 1 and 6 (``book/01_warm_up.ipynb``, ``book/06_going_further.ipynb``);
tested in ``tests/lessons/test_inpage.py``, and in the browser by
``tests/browser/test_interactive.py``.

An ipywidgets control needs a running kernel to answer: on the rendered book
its sliders move and nothing changes. :class:`InPage` pairs the widget with
an HTML element that a script of the book (``book/_static/inpage/``) brings to
life in the reader's browser. Its output carries both: Jupyter, Colab and VS
Code draw the widget (the widget view outranks HTML there), the book draws the
element (``_config.yml`` ranks ``text/html`` above widget views). The
element's ``data-config`` holds everything the script needs, written by the
chapter's lesson (``warmup.ticket_game_config``, ``latent.explorer_config``),
so that page and Python compute from the same settings.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

#: The book's static folder, seen from the chapters (they run in ``book/``).
STATIC = Path("_static")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


class InPage:
    """A widget for a live kernel, with its twin for the static page.

    Args:
        widget: the ipywidgets control the notebook shows.
        element: the CSS class the page's script looks for, e.g.
            ``"gankit-ticket-game"``.
        config: JSON-serialisable settings, put in the element's
            ``data-config``.
        picture: optional PNG bytes shown in the element until the script
            draws (and where it cannot run).
    """

    def __init__(
        self,
        widget: Any,
        element: str,
        config: dict[str, Any],
        picture: bytes | None = None,
    ) -> None:
        if not element.replace("-", "").isalnum():
            raise ValueError(f"element must be a CSS class name, got {element!r}")
        if not callable(getattr(widget, "_repr_mimebundle_", None)):
            raise ValueError(
                f"InPage needs an ipywidgets widget, got {type(widget).__name__}"
            )
        self.widget = widget
        self.element = element
        self.config = config
        self.picture = picture

    def html(self) -> str:
        """The element the page's script fills in."""
        data = html.escape(json.dumps(self.config, separators=(",", ":")), quote=True)
        inner = '<p class="gankit-message">This figure runs in the browser with'
        inner += " JavaScript; in a notebook, run the cell to use it.</p>"
        if self.picture is not None:
            b64 = base64.b64encode(self.picture).decode()
            alt = "the figure as the book was built"
            inner += f'<img alt="{alt}" src="data:image/png;base64,{b64}">'
        return f'<div class="{self.element}" data-config="{data}">{inner}</div>'

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, Any]:
        bundle = dict(self.widget._repr_mimebundle_(include=include, exclude=exclude))
        if WIDGET_VIEW not in bundle:
            raise ValueError("InPage needs an ipywidgets widget (no widget view)")
        bundle["text/html"] = self.html()
        return bundle


def static_manifest(relative: str, static: Path = STATIC) -> dict[str, Any] | None:
    """The JSON file ``relative`` of the book's static folder, or None where
    the chapter runs outside the book (Colab, a copied notebook)."""
    path = static / relative
    if not path.is_file():
        return None
    return json.loads(path.read_text())


def slider_spec(slider: Any) -> dict[str, float]:
    """A slider's ``value, min, max, step``, for the page's copy of it."""
    return {k: getattr(slider, k) for k in ("value", "min", "max", "step")}
