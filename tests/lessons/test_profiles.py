"""How much the chapters train: ``gankit.lessons.profiles``."""

from __future__ import annotations

import pytest
import torch

from gankit.lessons.profiles import PROFILES, current_profile


def test_the_variable_picks_the_profile(monkeypatch):
    monkeypatch.setenv("GANKIT_PROFILE", "smoke")
    assert current_profile() is PROFILES["smoke"]
    monkeypatch.setenv("GANKIT_PROFILE", "cpu")
    assert current_profile().name == "cpu"


def test_a_name_given_wins_over_the_variable(monkeypatch):
    monkeypatch.setenv("GANKIT_PROFILE", "cpu")
    assert current_profile("smoke").name == "smoke"


@pytest.mark.parametrize("gpu, expected", [(False, "cpu"), (True, "full")])
def test_without_the_variable_the_device_decides(monkeypatch, gpu, expected):
    monkeypatch.delenv("GANKIT_PROFILE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: gpu)
    assert current_profile().name == expected
    monkeypatch.setenv("GANKIT_PROFILE", "")  # set but empty: the same
    assert current_profile().name == expected


def test_an_unknown_profile_is_refused_with_the_names_that_exist(monkeypatch):
    monkeypatch.setenv("GANKIT_PROFILE", "fast")
    with pytest.raises(
        ValueError, match=r"one of \['cpu', 'full', 'smoke'\], got 'fast'"
    ):
        current_profile()


def test_full_needs_a_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="'full' profile needs a CUDA GPU"):
        current_profile("full")


def test_the_profiles_grow_from_smoke_to_full():
    smoke, cpu, full = PROFILES["smoke"], PROFILES["cpu"], PROFILES["full"]
    for field in ("train_steps", "batch_size", "toy_steps", "eval_samples"):
        assert getattr(smoke, field) <= getattr(cpu, field) <= getattr(full, field)
    # only `full` trains the article's model from scratch; the others show the
    # generator gankit ships
    assert (smoke.use_pretrained, cpu.use_pretrained, full.use_pretrained) == (
        True,
        True,
        False,
    )
    assert (smoke.device, cpu.device, full.device) == ("cpu", "cpu", "cuda")
