"""Divergence: losses, weights or samples that became NaN or infinite.

The one place :class:`gankit.Trainer` asks whether a run has diverged; tested
in ``tests/test_divergence.py``. The models do not scan their inputs for NaN
(that would cost a device sync on every forward pass), so a run that blows up
is caught here, from figures the loop has read anyway, and never saved.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path

import torch
from torch import Tensor, nn

#: The figures whose finiteness says whether a step diverged.
LOSSES = ("d_loss", "g_loss")


class TrainingDivergedError(RuntimeError):
    """A loss, the weights or the samples became NaN or infinite; training
    stopped without saving that state."""


def weights_finite(models: Iterable[nn.Module]) -> bool:
    """Whether every floating-point weight and buffer of ``models`` is finite
    (one device sync).

    Read from their sums, a fifth of the cost of ``isfinite`` on each element:
    a NaN or an infinity anywhere makes a sum non-finite (and so would weights
    near 1e38, which have diverged as surely).
    """
    sums = [
        t.sum()
        for m in models
        for t in (*m.parameters(), *m.buffers())
        if t.is_floating_point()
    ]
    return not sums or bool(torch.stack(sums).sum().isfinite())


class DivergenceGuard:
    """Checks a run's figures, weights and samples; raises
    :class:`TrainingDivergedError` naming the steps and what went wrong.

    Args:
        models: the networks whose weights must stay finite.
        checkpoint: the run's checkpoint file, named in the error when it
            exists (it holds the last good state), or None.
    """

    def __init__(self, models: Iterable[nn.Module], checkpoint: Path | None) -> None:
        self.models = tuple(models)
        self.checkpoint = checkpoint

    def check(
        self, record: Mapping[str, float], first: int, last: int, *, weights: bool
    ) -> None:
        """Raise if a loss of ``record`` (the figures of steps ``first`` to
        ``last``) is not finite or, with ``weights``, a weight is: the losses
        come from before the step's last update, which can leave the weights
        non-finite while its losses were not."""
        bad = [k for k in LOSSES if k in record and not math.isfinite(record[k])]
        if not bad and (not weights or weights_finite(self.models)):
            return
        span = (
            f"at step {first}" if first == last else f"between steps {first} and {last}"
        )
        what = " and ".join(bad) or "the networks' weights"
        raise TrainingDivergedError(
            f"{what} became NaN or infinite {span}; training stopped.{self._kept()} "
            "Lower the learning rates or check the data for NaN values."
        )

    def check_weights(self, step: int) -> None:
        """Raise if a weight or buffer is NaN or infinite: such a state is
        never saved."""
        if not weights_finite(self.models):
            raise TrainingDivergedError(
                f"the networks' weights are NaN or infinite at step {step}; "
                f"this state is not saved.{self._kept()}"
            )

    def check_samples(self, images: Tensor, step: int) -> None:
        """Raise if the generator's ``images`` hold NaN or infinity (one sync)."""
        if not bool(torch.isfinite(images).all()):
            raise TrainingDivergedError(
                f"the generator's samples became NaN or infinite by step {step}; "
                f"training stopped.{self._kept()} Lower the learning rates."
            )

    def _kept(self) -> str:
        if self.checkpoint is not None and self.checkpoint.exists():
            return f" The last good checkpoint, {self.checkpoint}, was left as it was."
        return ""
