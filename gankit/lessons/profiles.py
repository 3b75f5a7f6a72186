"""Run profiles for the book: how much each chapter trains.

Introduced in ``book/00_introduction.ipynb`` and read by every chapter; tested
in ``tests/lessons/test_profiles.py``.

Read from the environment variable ``GANKIT_PROFILE``:

- ``smoke``: every chapter in under a minute on 2 CPU cores, on the real data
  with few steps (what CI runs under nbval).
- ``cpu``: the default without a GPU (Binder, a laptop): each chapter in a few
  minutes; trained results come from the generator gankit ships.
- ``full``: the article's training from scratch; the default with a CUDA GPU.

Chapters print the profile they ran under, and every figure they quote comes
from that run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Profile:
    """How much a chapter trains under one profile."""

    name: str  # "smoke", "cpu" or "full"
    device: str  # where chapters train: "cpu" or "cuda"
    train_steps: int  # discriminator steps of the article's DCGAN in a chapter
    batch_size: int  # batch size of those steps
    toy_steps: int  # steps of the small 1-D and 2-D toy GANs
    eval_samples: int  # generated images per metric evaluation
    use_pretrained: bool  # show the shipped, fully trained generator


PROFILES: dict[str, Profile] = {
    "smoke": Profile(
        "smoke",
        "cpu",
        train_steps=20,
        batch_size=32,
        toy_steps=300,
        eval_samples=500,
        use_pretrained=True,
    ),
    "cpu": Profile(
        "cpu",
        "cpu",
        train_steps=100,
        batch_size=64,
        toy_steps=2000,
        eval_samples=2000,
        use_pretrained=True,
    ),
    "full": Profile(
        "full",
        "cuda",
        train_steps=4690,
        batch_size=128,
        toy_steps=5000,
        eval_samples=10000,
        use_pretrained=False,
    ),
}


def current_profile(name: str | None = None) -> Profile:
    """The profile named by ``name``, else ``$GANKIT_PROFILE``, else ``full``
    when a CUDA GPU is present and ``cpu`` otherwise."""
    if name is None:
        name = os.environ.get("GANKIT_PROFILE") or None
    if name is None:
        name = "full" if torch.cuda.is_available() else "cpu"
    if name not in PROFILES:
        raise ValueError(
            f"GANKIT_PROFILE must be one of {sorted(PROFILES)}, got {name!r}"
        )
    profile = PROFILES[name]
    if profile.device == "cuda" and not torch.cuda.is_available():
        raise ValueError("the 'full' profile needs a CUDA GPU; use 'cpu' or 'smoke'")
    return profile
