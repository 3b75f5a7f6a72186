"""What training reports: the logged history, and the hooks that watch it.

Taught in ``book/05_losses_and_training.ipynb``; tested in
``tests/test_callbacks.py``.

:class:`History` is what :class:`gankit.Trainer` logged, one entry per log;
:class:`FigureSums` holds the step figures summed on the device between logs.
:class:`Callback` is the interface a notebook or script implements to watch
training (:class:`gankit.EvaluationCallback` is one); :class:`LambdaCallback`
makes one from plain functions. Nothing here imports the trainer: the hooks
receive it, and its type is named for the type checker only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

if TYPE_CHECKING:
    from .trainer import Trainer


@dataclass
class History:
    """What training logged: one entry per log, averaged over the steps since
    the last one, and the fixed-z grids rendered so far.

    ``samples`` holds ``(step, uint8 images of shape (n_fixed, C, S, S))``.
    """

    step: list[int] = field(default_factory=list)
    d_loss: list[float] = field(default_factory=list)
    g_loss: list[float] = field(default_factory=list)
    d_loss_real: list[float] = field(default_factory=list)
    d_loss_fake: list[float] = field(default_factory=list)
    d_real: list[float] = field(default_factory=list)
    d_fake: list[float] = field(default_factory=list)
    d_accuracy: list[float] = field(default_factory=list)
    samples: list[tuple[int, Tensor]] = field(default_factory=list, repr=False)

    def append(self, record: dict[str, float]) -> None:
        for f in fields(self):
            if f.name != "samples":
                getattr(self, f.name).append(record[f.name])

    def scalars(self) -> dict[str, list[float]]:
        """Every logged series (not the images), e.g. for a checkpoint or a plot."""
        return {
            f.name: list(getattr(self, f.name))
            for f in fields(self)
            if f.name != "samples"
        }

    def __len__(self) -> int:
        return len(self.step)


class FigureSums:
    """The figures of the steps since the last log, summed where they were
    computed, so that logging every ``log_every`` steps reads the device once.
    """

    def __init__(self) -> None:
        self.sums: dict[str, Tensor] = {}
        self.steps = 0

    def add(self, metrics: Mapping[str, Tensor]) -> None:
        for k, v in metrics.items():
            v = v.float()  # under bf16, D's probabilities come out in bfloat16
            self.sums[k] = self.sums[k] + v if k in self.sums else v.clone()
        self.steps += 1

    def means(
        self, reduce: Callable[[Tensor], Tensor] = lambda t: t
    ) -> tuple[Tensor, dict[str, float]]:
        """The sums ``(K,)`` after ``reduce`` (the trainer averages them over
        processes), and their means per step by name (one host sync)."""
        if not self.steps:
            raise RuntimeError("nothing to log yet")
        keys = list(self.sums)
        sums = reduce(torch.stack([self.sums[k] for k in keys]))
        return sums, dict(zip(keys, (sums / self.steps).tolist(), strict=True))

    def clear(self) -> None:
        self.sums, self.steps = {}, 0

    def state(self, sums: Tensor) -> dict[str, Any]:
        """What a checkpoint keeps of the unlogged steps: ``sums`` as
        :meth:`means` returned them, on the CPU."""
        return {"keys": list(self.sums), "sums": sums.cpu(), "steps": self.steps}

    def load(self, state: Mapping[str, Any] | None, device: torch.device) -> None:
        """Continue from :meth:`state` (None: nothing was unlogged)."""
        self.clear()
        if state is not None:
            sums = state["sums"].to(device)
            self.sums = dict(zip(state["keys"], sums.unbind(), strict=True))
            self.steps = int(state["steps"])


class Callback:
    """Hooks a notebook or script can override to watch training.

    ``metrics`` in :meth:`on_step` are device tensors: reading them (``.item()``)
    makes the host wait for the device every step, so prefer :meth:`on_log`.
    """

    def on_step(self, trainer: Trainer, metrics: dict[str, Tensor]) -> None: ...

    def on_log(self, trainer: Trainer, record: dict[str, float]) -> None: ...

    def on_sample(self, trainer: Trainer, images: Tensor) -> None: ...

    def on_end(self, trainer: Trainer) -> None: ...


class LambdaCallback(Callback):
    """A :class:`Callback` from plain functions, e.g. ``LambdaCallback(on_log=f)``."""

    def __init__(
        self,
        on_step: Callable[[Trainer, dict[str, Tensor]], None] | None = None,
        on_log: Callable[[Trainer, dict[str, float]], None] | None = None,
        on_sample: Callable[[Trainer, Tensor], None] | None = None,
        on_end: Callable[[Trainer], None] | None = None,
    ) -> None:
        for name, fn in (
            ("on_step", on_step),
            ("on_log", on_log),
            ("on_sample", on_sample),
            ("on_end", on_end),
        ):
            if fn is not None:
                setattr(self, name, fn)
