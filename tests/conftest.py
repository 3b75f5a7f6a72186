"""Shared fixtures. MNIST comes from $GANKIT_DATA (CI lays out the real files)."""

from __future__ import annotations

import os
from dataclasses import replace

import pytest
import torch

from gankit import GANConfig, Trainer, load_dataset, synthetic_dataset
from gankit.data import DatasetNotFoundError


def real_split(name: str, split: str):
    """A real dataset's split from $GANKIT_DATA: the test skips where it is
    not on the machine, and fails in CI, which lays every one out."""
    try:
        return load_dataset(name, split=split, download=False)
    except DatasetNotFoundError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"{name} {split} not available locally ({exc}); set GANKIT_DATA")


@pytest.fixture(scope="session")
def mnist():
    """The real MNIST training split."""
    return real_split("mnist", "train")


@pytest.fixture(scope="session")
def mnist_test():
    """The real MNIST test split."""
    return real_split("mnist", "test")


@pytest.fixture(scope="session")
def fashion_mnist_test():
    """The real Fashion-MNIST test split."""
    return real_split("fashion-mnist", "test")


@pytest.fixture(scope="module")
def shapes():
    """64 synthetic one-channel images, enough for a few tiny steps."""
    return synthetic_dataset(64, channels=1, seed=0)


@pytest.fixture
def tiny_cfg() -> GANConfig:
    """The article's config at a size that runs in well under a second a step
    (one generator step per discriminator step, to halve the cost)."""
    return replace(
        GANConfig(),
        batch_size=8,
        log_every=2,
        sample_every=2,
        checkpoint_every=1000,
        max_steps=4,
        g_steps_per_d_step=1,
    )


@pytest.fixture
def train():
    """``train(cfg, data, steps, **kwargs)``: a CPU trainer without a progress
    bar, fitted to ``steps``."""

    def fit(cfg, data, steps, **kwargs):
        trainer = Trainer(cfg, data, device="cpu", progress=False, **kwargs)
        trainer.fit(steps)
        return trainer

    return fit


@pytest.fixture
def accelerator_seeds_untouched(monkeypatch):
    """Fails the test if its code reseeds the GPUs' global generators, as
    ``torch.manual_seed`` does: ``fork_rng(devices=[])`` would not restore them,
    so every later random draw on a GPU would repeat. Works without a GPU."""

    def refuse(seed: int) -> None:
        raise AssertionError(f"the GPUs' global generators were reseeded with {seed}")

    monkeypatch.setattr(torch.cuda, "manual_seed_all", refuse)
