"""Measuring during a run: the training callback that evaluates the generator.

Taught in ``book/05_losses_and_training.ipynb``; tested in ``tests/test_monitor.py``.

:class:`EvaluationCallback` is a :class:`gankit.callbacks.Callback`: every few
steps it hands the trainer's generator (or its EMA) to
:func:`gankit.metrics.evaluate`, keeps the figures, and raises an alert when a
class vanishes or the discriminator wins every round. It reads the trainer's
``step``, ``config``, ``generator``, ``ema``, ``device`` and ``history``, and
imports no trainer: the type is named for the type checker only.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from .callbacks import Callback
from .classifier import CLASS_NAMES, check_dataset
from .metrics import (
    MISSING_CLASS_FRACTION,
    ModeCollapseWarning,
    check_missing_fraction,
    check_n,
    evaluate,
)

if TYPE_CHECKING:
    from .trainer import Trainer


def _stacklevel_outside_gankit() -> int:
    """The ``stacklevel`` for a ``warnings.warn`` in the caller of this function
    that names the first line outside gankit (e.g. the reader's
    ``trainer.fit()``) rather than gankit's own code."""
    package = os.path.dirname(os.path.abspath(__file__)) + os.sep
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(
        package
    ):
        frame, level = frame.f_back, level + 1
    return level


class EvaluationCallback(Callback):
    """Measures the generator every ``every`` steps during :meth:`Trainer.fit`.

    Stores :func:`evaluate`'s figures in ``results`` (step -> dict), and the
    wall seconds all its measurements took in ``seconds`` (to subtract from a
    timed run that should count training alone). It warns
    (:class:`ModeCollapseWarning`) when a class nearly vanishes from the
    generated images, or when the discriminator's last logged accuracy reaches
    ``d_accuracy_limit``: it then wins nearly every round, and the generator
    learns little from it. Evaluation draws its own random numbers, so it does
    not change the run.

    Args:
        every: steps between evaluations.
        n: generated images per evaluation (and real ones in the floor).
        dataset: whose classifier measures; default the trainer's config.
        use_ema: measure the EMA generator when the trainer keeps one.
        at_end: also measure the last step when it is not a multiple of
            ``every``.
        missing_fraction: a class below this fraction of a uniform share counts
            as missing, in the alerts and in the stored figures alike.
        d_accuracy_limit: warn when the discriminator's accuracy reaches this.
        warn: also issue each alert as a :class:`ModeCollapseWarning`, pointing
            at the caller's line; the alerts are kept in ``alerts`` either way.
    """

    def __init__(
        self,
        every: int,
        n: int = 2000,
        dataset: str | None = None,
        *,
        use_ema: bool = True,
        batch_size: int = 500,
        seed: int = 0,
        root: str | os.PathLike[str] | None = None,
        at_end: bool = True,
        missing_fraction: float = MISSING_CLASS_FRACTION,
        d_accuracy_limit: float = 0.99,
        warn: bool = True,
    ) -> None:
        if every < 1:
            raise ValueError(f"every must be at least 1, got {every}")
        check_n(n)
        if dataset is not None:
            check_dataset(dataset)
        check_missing_fraction(missing_fraction)
        self.every, self.n, self.dataset = every, n, dataset
        self.use_ema, self.batch_size, self.seed, self.root = (
            use_ema,
            batch_size,
            seed,
            root,
        )
        self.at_end = at_end
        self.missing_fraction = missing_fraction
        self.d_accuracy_limit = d_accuracy_limit
        self.warn = warn
        self.results: dict[int, dict[str, Any]] = {}
        self.alerts: list[str] = []
        self.seconds = 0.0

    def on_step(self, trainer: Trainer, metrics: dict[str, Tensor]) -> None:
        if trainer.step % self.every == 0:
            self.measure(trainer)

    def on_end(self, trainer: Trainer) -> None:
        if self.at_end and trainer.step > 0 and trainer.step not in self.results:
            self.measure(trainer)

    def measure(self, trainer: Trainer) -> dict[str, Any]:
        """Evaluate the trainer's generator now; store, check and return the figures."""
        dataset = self.dataset or trainer.config.dataset
        use_ema = self.use_ema and trainer.ema is not None
        model = trainer.ema.module if use_ema else trainer.generator
        if trainer.device.type == "cuda":  # finish the queued training first,
            torch.cuda.synchronize(trainer.device)  # so it is not counted here
        start = time.perf_counter()  # evaluate ends with host numbers: synced
        figures = evaluate(
            model,
            dataset,
            self.n,
            batch_size=self.batch_size,
            device=trainer.device,
            seed=self.seed,
            root=self.root,
            missing_fraction=self.missing_fraction,
        )
        self.seconds += time.perf_counter() - start
        self.results[trainer.step] = figures
        self._check(trainer.step, figures, trainer.history.d_accuracy)
        return figures

    def _check(self, step: int, figures: dict[str, Any], d_accuracy: list[float]):
        shares = figures["class_shares"]
        limit = self.missing_fraction / len(shares)
        names = CLASS_NAMES[figures["dataset"]]
        rare = figures["missing_classes"]  # below ``limit``, as evaluate counted
        if rare:
            listed = ", ".join(f"{names[c]} ({shares[c]:.1%})" for c in rare)
            self._alert(
                f"step {step}: possible mode collapse: the generator hardly draws "
                f"{listed}, each below {limit:.1%} of its images (as the classifier "
                "sees them), where a uniform mix gives "
                f"{1 / len(shares):.0%} each"
            )
        if d_accuracy and d_accuracy[-1] >= self.d_accuracy_limit:
            self._alert(
                f"step {step}: the discriminator's last logged accuracy is "
                f"{d_accuracy[-1]:.1%}: it tells real from generated images almost "
                "every time, so its gradients tell the generator little; the run "
                "may be collapsing or diverging"
            )

    def _alert(self, message: str) -> None:
        self.alerts.append(message)
        if self.warn:
            warnings.warn(
                message, ModeCollapseWarning, stacklevel=_stacklevel_outside_gankit()
            )

    def series(self, key: str) -> tuple[list[int], list[float]]:
        """``(steps, values)`` of one figure, e.g. ``series("fd")`` for a plot."""
        steps = sorted(self.results)
        return steps, [self.results[s][key] for s in steps]
