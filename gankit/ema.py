"""The exponential moving average (EMA) of the generator's weights.

Used by :class:`gankit.Trainer` when ``GANConfig.ema_decay`` is set and taught
in ``book/05_losses_and_training.ipynb``; tested in ``tests/test_ema.py``.

An EMA generator averages the last few thousand generators of a run, which
smooths away the oscillation of the game and usually draws cleaner images than
the raw generator at any one step (the generator gankit ships is one).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn


class EMA(AveragedModel):
    """``AveragedModel`` with ``get_ema_multi_avg_fn(decay)``, buffers
    included, updated without waiting for the device.

    ``AveragedModel.update_parameters`` reads its update count back from the
    device twice per call; on a GPU each read waits for the step to finish, so
    the host could never run ahead. :meth:`update_parameters` makes the same
    update (a copy at the first one, then ``lerp`` towards the model by
    ``1 - decay``) with the count mirrored on the host. The state dict is
    ``AveragedModel``'s, so checkpoints read and write it unchanged.

    Args:
        model: the network to average (the copy starts equal to it).
        decay: in (0, 1); the weight of the past at each update.
    """

    def __init__(self, model: nn.Module, decay: float) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"decay must be in (0, 1), got {decay}")
        super().__init__(
            model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True
        )
        self.decay = decay
        self.updates = 0  # n_averaged, mirrored on the host

    @torch.no_grad()
    def update_parameters(self, model: nn.Module) -> None:
        """Move the average one step towards ``model``'s weights and buffers."""
        averaged, current = [], []
        mine = [*self.module.parameters(), *self.module.buffers()]
        theirs = [*model.parameters(), *model.buffers()]
        for e, m in zip(mine, theirs, strict=True):
            if e.is_floating_point():
                averaged.append(e)
                current.append(m)
            else:  # a count (BatchNorm's num_batches_tracked) is not averaged
                e.copy_(m)
        if self.updates == 0:
            torch._foreach_copy_(averaged, current)
        else:
            torch._foreach_lerp_(averaged, current, 1.0 - self.decay)
        self.n_averaged += 1
        self.updates += 1

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False
    ) -> Any:
        result = super().load_state_dict(state_dict, strict=strict, assign=assign)
        self.updates = int(self.n_averaged)
        return result
