"""How the trainer runs each step: eagerly, under autocast, or on a GPU as one
CUDA graph replayed.

Taught in ``book/07_engineering.ipynb``; tested in ``tests/test_fast.py``
(the parts a CPU can check) and measured by ``benchmarks/throughput.py``.

The article's model is small: at batch 128 one step launches a few hundred
short kernels, and in eager mode the GPU waits on Python between them. A CUDA
graph records every kernel of :func:`gankit.step.train_step` (both forward
and backward passes and both Adam updates) once, then replays them with one
launch. The step's inputs and outputs live in fixed buffers: each step copies
the real batch and the noise into them, and reads the figures out of them.

Recording needs a few warm-up steps, which really train. To keep learning
exactly what the plain loop learns, the models' and optimizers' state is
copied before the warm-up and written back, in place, before recording (the
recording itself computes nothing).

:class:`StepRunner` is what :class:`gankit.Trainer` calls: it picks the graph
where it can be captured and the eager step elsewhere, with the memory layout
and the precision the trainer was asked for.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any, Literal

import torch
from torch import Tensor, nn

from .config import GANConfig
from .step import StepFn, train_step


def _state_tensors(
    models: tuple[nn.Module, ...], optimizers: tuple[torch.optim.Optimizer, ...]
) -> Iterator[Tensor]:
    for m in models:
        yield from m.parameters()
        yield from m.buffers()
    for opt in optimizers:
        for state in opt.state.values():
            yield from (v for v in state.values() if isinstance(v, Tensor))


class GraphedStep:
    """``train_step`` captured in a CUDA graph; call it like ``train_step``'s tail.

    The optimizers must have been built with ``capturable=True``.
    ``memory_format`` is the layout of the real batch's buffer: the one the
    models' weights are kept in. ``autocast`` makes the context the step is
    recorded in (e.g. ``torch.autocast`` to bfloat16, its cache off).

    Shape:
        - real: ``(B, C, S, S)``; z: ``(B, z_dim)``, the batch size fixed at capture.
    """

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        opt_g: torch.optim.Optimizer,
        opt_d: torch.optim.Optimizer,
        cfg: GANConfig,
        step_fn: StepFn = train_step,
        warmup: int = 3,
        memory_format: torch.memory_format = torch.contiguous_format,
        autocast: Callable[[], AbstractContextManager[Any]] = contextlib.nullcontext,
    ) -> None:
        device = next(generator.parameters()).device
        if device.type != "cuda":
            raise ValueError(f"CUDA graphs need a CUDA device, got {device}")
        self.args = (generator, discriminator, opt_g, opt_d)
        self.cfg = cfg
        b = cfg.batch_size
        self.real = torch.empty(
            b,
            cfg.channels,
            cfg.image_size,
            cfg.image_size,
            device=device,
            memory_format=memory_format,
        ).zero_()
        self.z = torch.zeros(b, cfg.z_dim, device=device)
        models, opts = (generator, discriminator), (opt_g, opt_d)
        before = {id(t): t.detach().clone() for t in _state_tensors(models, opts)}
        try:
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side), autocast():
                for _ in range(warmup):
                    step_fn(*self.args, self.real, self.z, cfg)
            torch.cuda.current_stream().wait_stream(side)
        finally:
            with torch.no_grad():
                for t in _state_tensors(models, opts):
                    # State the warm-up created (Adam's moments and step count)
                    # is zero in a fresh optimizer.
                    t.copy_(before[id(t)]) if id(t) in before else t.zero_()
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph), autocast():
            self.out = step_fn(*self.args, self.real, self.z, cfg)

    def __call__(self, real: Tensor, z: Tensor) -> dict[str, Tensor]:
        """One training step. The returned tensors are overwritten by the next call."""
        self.real.copy_(real)
        self.z.copy_(z)
        self.graph.replay()
        return self.out


def try_graph(
    generator: nn.Module,
    discriminator: nn.Module,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    cfg: GANConfig,
    step_fn: StepFn = train_step,
    memory_format: torch.memory_format = torch.contiguous_format,
    autocast: Callable[[], AbstractContextManager[Any]] = contextlib.nullcontext,
) -> GraphedStep | None:
    """A :class:`GraphedStep`, or None (with a warning) where capture fails."""
    try:
        return GraphedStep(
            generator,
            discriminator,
            opt_g,
            opt_d,
            cfg,
            step_fn,
            memory_format=memory_format,
            autocast=autocast,
        )
    except Exception as exc:  # noqa: BLE001 - any failure means: train eagerly
        warnings.warn(
            f"CUDA graph capture failed, training eagerly instead: {exc}",
            RuntimeWarning,
            stacklevel=2,
        )
        return None


class StepRunner:
    """One training step as the trainer was configured to run it.

    Args:
        step_fn: the step (:func:`gankit.train_step` or a variant).
        models: what the step trains: ``(generator, discriminator)``, or their
            DistributedDataParallel wrappers (never graphed).
        optimizers: ``(opt_g, opt_d)``, built ``capturable`` when ``graph``.
        cfg: the run's config.
        graph: capture the step as a CUDA graph on its first call (falls back
            to the eager step, with a warning, where capture fails).
        memory_format: the layout of the real batch (the weights' layout).
        precision: ``"fp32"``, or ``"bf16"`` for autocast to bfloat16.
    """

    def __init__(
        self,
        step_fn: StepFn,
        models: tuple[nn.Module, nn.Module],
        optimizers: tuple[torch.optim.Optimizer, torch.optim.Optimizer],
        cfg: GANConfig,
        *,
        graph: bool = False,
        memory_format: torch.memory_format = torch.contiguous_format,
        precision: str = "fp32",
    ) -> None:
        if precision not in ("fp32", "bf16"):
            raise ValueError(f"precision must be 'fp32' or 'bf16', got {precision!r}")
        self.step_fn = step_fn
        self.models = models
        self.optimizers = optimizers
        self.cfg = cfg
        self.graph = graph
        self.memory_format = memory_format
        self.precision = precision
        # None until the first call captures it; False where capture failed.
        self.graphed: GraphedStep | Literal[False] | None = None

    def autocast(self) -> AbstractContextManager[Any]:
        """The context each step runs in: autocast to bfloat16 under
        ``precision="bf16"`` (its cache off, as a CUDA graph requires)."""
        if self.precision == "bf16":
            device = next(self.models[0].parameters()).device
            return torch.autocast(
                device.type, dtype=torch.bfloat16, cache_enabled=False
            )
        return contextlib.nullcontext()

    def reset(self) -> None:
        """Forget the captured graph (the optimizers' state tensors changed)."""
        self.graphed = None

    def __call__(self, real: Tensor, z: Tensor) -> dict[str, Tensor]:
        """One step on the real batch ``(B, C, S, S)`` and noise ``(B, z_dim)``;
        returns the step's figures as device tensors."""
        real = real.contiguous(memory_format=self.memory_format)
        if self.graph and self.graphed is None:
            self.graphed = (
                try_graph(
                    *self.models,
                    *self.optimizers,
                    self.cfg,
                    self.step_fn,
                    memory_format=self.memory_format,
                    autocast=self.autocast,
                )
                or False
            )
        if self.graphed:
            return self.graphed(real, z)
        with self.autocast():
            return self.step_fn(*self.models, *self.optimizers, real, z, self.cfg)
