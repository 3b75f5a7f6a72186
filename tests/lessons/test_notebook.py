"""The chapters' helpers (``gankit.lessons.notebook``): ``show_source`` and ``glue``."""

from __future__ import annotations

import inspect
import sys

import pytest
import torch

from gankit import Trainer
from gankit.generator import sample_z
from gankit.lessons.notebook import glue, show_source


def test_show_source_shows_the_objects_own_code():
    code = show_source(sample_z)
    assert code.data == inspect.getsource(sample_z)
    assert code.data.startswith("def sample_z(")
    assert "def _one_step(self)" in show_source(Trainer).data


def test_show_source_refuses_code_that_is_not_gankits():
    with pytest.raises(ValueError, match="gankit's own code"):
        show_source(torch.nn.Linear)


def test_glue_without_the_book_tooling_shows_the_value_only_when_asked(
    monkeypatch, capsys
):
    monkeypatch.setitem(sys.modules, "myst_nb", None)  # as if not installed
    glue("quiet", 41)
    assert capsys.readouterr().out == ""
    glue("shown", 42, display=True)
    assert capsys.readouterr().out.strip() == "42"
