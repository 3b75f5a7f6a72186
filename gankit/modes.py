"""A module's state changed for a while and put back: its mode, frozen weights;
and where its tensors live.

Used wherever gankit runs a model it does not own the state of (sampling,
measuring, the generator's update through the discriminator), among them
``generator_updates`` in ``book/05_losses_and_training.ipynb``; tested in
``tests/test_modes.py``. Each context restores every submodule or parameter
to what it was, not to one flag for all, so a caller's own mix (a batch-norm
layer kept in eval mode, a layer kept frozen) survives.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import nn


@contextlib.contextmanager
def in_mode(module: nn.Module, training: bool) -> Iterator[nn.Module]:
    """Inside, ``module`` and all its submodules are in training mode or, with
    ``training=False``, in eval mode; after, each submodule has its own mode
    back, even if the body raised."""
    modes = [(m, m.training) for m in module.modules()]
    module.train(training)
    try:
        yield module
    finally:
        for m, mode in modes:
            m.training = mode  # this module only: .train() would recurse


def evaluating(module: nn.Module) -> contextlib.AbstractContextManager[nn.Module]:
    """:func:`in_mode` eval: batch norm reads its running statistics, dropout
    is off."""
    return in_mode(module, training=False)


def device_of(module: nn.Module) -> torch.device:
    """Where ``module``'s tensors live (the CPU for one that holds none)."""
    for t in (*module.parameters(), *module.buffers()):
        return t.device
    return torch.device("cpu")


@contextlib.contextmanager
def frozen(module: nn.Module) -> Iterator[nn.Module]:
    """Inside, no parameter of ``module`` needs a gradient; after, each has its
    own ``requires_grad`` back (parameters the caller froze stay frozen)."""
    flags = [(p, p.requires_grad) for p in module.parameters()]
    module.requires_grad_(False)
    try:
        yield module
    finally:
        for p, flag in flags:
            p.requires_grad_(flag)
