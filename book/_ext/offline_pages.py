"""Sphinx extension of the gankit book: pages that work without a network.

Readers may open the book offline, so a page loads nothing from another site:
its widgets and math come from ``book/_static/vendor`` (see ``_config.yml``).
This extension handles what configuration cannot:

- matplotlib's animation HTML links a Font Awesome 4 stylesheet on a CDN for
  its buttons; the book's theme already draws those icons, so the link goes.
- Sphinx 7.4 writes inline scripts that an extension adds after the builder
  has started twice (sphinx-thebe's settings), and the second copy raises
  "Identifier has already been declared" in the browser; copies are dropped.
- Any script, stylesheet, frame or image that a page still loads from another
  site is a warning, so a ``-W`` build fails on it.
"""

from __future__ import annotations

import re
from typing import Any

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

ANIMATION_CDN_LINK = re.compile(
    r'<link\s+rel="stylesheet"\s+href="https://maxcdn\.bootstrapcdn\.com/'
    r'font-awesome/[^"]+"\s*/?>\s*'
)
REMOTE_RESOURCE = re.compile(
    r"<(?:script|img|link|iframe|source|video|audio)\b[^>]*?\s(?:src|href)="
    r'["\']((?:https?:)?//[^"\']+)',
    re.IGNORECASE,
)


def _script_key(js: Any) -> tuple:
    attributes = getattr(js, "attributes", {})
    return (getattr(js, "filename", None) or "", sorted(attributes.items()))


def keep_pages_offline(
    app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any
) -> None:
    scripts = context.get("script_files")
    if isinstance(scripts, list):
        seen, unique = [], []
        for js in scripts:
            if (key := _script_key(js)) not in seen:
                seen.append(key)
                unique.append(js)
        scripts[:] = unique
        for js in unique:
            if "://" in (getattr(js, "filename", None) or ""):
                logger.warning(
                    "page %s loads a script from another site: %s",
                    pagename,
                    js.filename,
                )

    body = context.get("body")
    if not body:
        return
    body = ANIMATION_CDN_LINK.sub("", body)
    context["body"] = body
    for url in REMOTE_RESOURCE.findall(body):
        logger.warning("page %s loads a resource from another site: %s", pagename, url)


def setup(app: Sphinx) -> dict:
    # After myst-nb, which adds each page's widget scripts in the same event.
    app.connect("html-page-context", keep_pages_offline, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
