"""``scripts/build_book.py``: the execution cache never crosses profiles."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def build_book(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location(
        "build_book", ROOT / "scripts" / "build_book.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    cache = tmp_path / "_build" / ".jupyter_cache"
    monkeypatch.setattr(module, "CACHE", cache)
    monkeypatch.setattr(module, "PROFILE_FILE", cache / "gankit-profile")
    calls = []

    def fake_build(command, env):
        calls.append((command, env["GANKIT_PROFILE"]))
        cache.mkdir(parents=True, exist_ok=True)
        (cache / "executed").write_text(env["GANKIT_PROFILE"])
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(module.subprocess, "run", fake_build)
    module.calls, module.cache = calls, cache
    return module


def test_a_build_in_the_same_profile_keeps_the_cache(build_book, monkeypatch):
    monkeypatch.setenv("GANKIT_PROFILE", "smoke")
    assert build_book.main(["-W"]) == 0
    (build_book.cache / "kept").write_text("yes")
    assert build_book.main(["-W"]) == 0
    assert (build_book.cache / "kept").exists()
    command, profile = build_book.calls[-1]
    assert command[1:3] == ["build", str(ROOT)] and command[-1] == "-W"
    assert profile == "smoke"


def test_a_build_in_another_profile_empties_the_cache_first(
    build_book, monkeypatch, capsys
):
    monkeypatch.setenv("GANKIT_PROFILE", "smoke")
    build_book.main([])
    (build_book.cache / "kept").write_text("yes")
    monkeypatch.setenv("GANKIT_PROFILE", "cpu")
    build_book.main([])
    assert not (build_book.cache / "kept").exists()
    assert (build_book.cache / "gankit-profile").read_text() == "cpu\n"
    assert "filled in the smoke profile: emptied" in capsys.readouterr().out


def test_a_cache_of_unknown_profile_is_emptied(build_book, monkeypatch):
    build_book.cache.mkdir(parents=True)
    (build_book.cache / "old").write_text("from a build before the profile file")
    monkeypatch.setenv("GANKIT_PROFILE", "smoke")
    build_book.main([])
    assert not (build_book.cache / "old").exists()
