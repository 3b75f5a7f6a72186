"""The interactive figures' page twins (``gankit.lessons.inpage``)."""

from __future__ import annotations

import html
import json
import re

import ipywidgets as widgets
import pytest

from gankit.lessons.inpage import WIDGET_VIEW, InPage, slider_spec, static_manifest


def config_of(page: str) -> dict:
    found = re.search(r'data-config="([^"]*)"', page)
    assert found, page
    return json.loads(html.unescape(found.group(1)))


def test_the_output_carries_the_widget_for_jupyter_and_html_for_the_book():
    slider = widgets.IntSlider(value=3, min=0, max=9)
    twin = InPage(slider, "gankit-demo", {"a": 1, "quote": 'it\'s "here" <b>'})
    bundle = twin._repr_mimebundle_()
    assert bundle[WIDGET_VIEW]["model_id"] == slider.model_id
    assert bundle["text/html"].startswith('<div class="gankit-demo" data-config="')
    assert config_of(bundle["text/html"]) == {"a": 1, "quote": 'it\'s "here" <b>'}
    # Without JavaScript the element says what it is, never an empty box.
    assert "runs in the browser" in bundle["text/html"]


def test_a_picture_is_embedded_until_the_script_draws():
    twin = InPage(widgets.IntSlider(), "gankit-demo", {}, picture=b"\x89PNG fake")
    assert 'src="data:image/png;base64,iVBORyBmYWtl"' in twin.html()


def test_bad_arguments_are_refused_with_what_was_expected():
    with pytest.raises(ValueError, match="CSS class"):
        InPage(widgets.IntSlider(), "not a class", {})
    with pytest.raises(ValueError, match="ipywidgets widget"):
        InPage(object(), "gankit-demo", {})


class Plain:
    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/plain": "plain"}


def test_an_object_without_a_widget_view_is_refused():
    with pytest.raises(ValueError, match="widget view"):
        InPage(Plain(), "gankit-demo", {})._repr_mimebundle_()


def test_slider_spec_reads_the_sliders_range():
    slider = widgets.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.05)
    assert slider_spec(slider) == {"value": 0.5, "min": 0.0, "max": 1.0, "step": 0.05}


def test_static_manifest_reads_the_books_files_and_is_none_elsewhere(tmp_path):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "m.json").write_text('{"sha256": "ab"}')
    assert static_manifest("models/m.json", tmp_path) == {"sha256": "ab"}
    assert static_manifest("models/missing.json", tmp_path) is None
