"""Helpers for the book's notebooks: show gankit's real code, glue figures.

Chapters never paste a copy of gankit's code; they display the source of the
object itself, so the page and the package cannot drift apart. Used by every
chapter, from ``book/00_introduction.ipynb`` on; tested in
``tests/lessons/test_notebook.py``.
"""

from __future__ import annotations

import inspect
from typing import Any


def show_source(obj: Any) -> Any:
    """The source code of a gankit function, class or method, highlighted.

    Returns an ``IPython.display.Code`` object (shown when it ends a cell).
    """
    from IPython.display import Code

    module = inspect.getmodule(obj)
    if module is None or not module.__name__.startswith("gankit"):
        raise ValueError(f"show_source shows gankit's own code, not {obj!r}")
    return Code(inspect.getsource(obj), language="python")


def glue(name: str, value: Any, display: bool = False) -> None:
    """Store ``value`` under ``name`` so the book's prose can quote it
    (``{glue:text}`name```); a no-op outside Jupyter Book's tooling."""
    try:
        from myst_nb import glue as _glue
    except ImportError:  # e.g. Colab without the book's extras
        if display:
            from IPython.display import display as _display

            _display(value)
        return
    _glue(name, value, display=display)
