"""The training loop: step-counted, resumable, watched by callbacks.

Taught in ``book/05_losses_and_training.ipynb``; tested in ``tests/test_trainer.py``.

:class:`Trainer` schedules the pure step (:func:`gankit.train_step`) and
everything around it: the real batches (:mod:`gankit.batches`) and the noise,
logging every ``log_every`` steps (:mod:`gankit.callbacks`), the fixed-z grid,
the EMA generator (:mod:`gankit.ema`), checkpoints and resuming
(:mod:`gankit.resume`), the divergence guard (:mod:`gankit.divergence`), the
run folder's lock (:mod:`gankit.runfolder`) and stopping on a signal
(:mod:`gankit.interrupt`). On a GPU it replays the step as one CUDA graph
(:mod:`gankit.fast`); launched by ``torchrun`` on several processes it trains
them as one, as :mod:`gankit.distributed` describes.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from . import distributed
from .batches import BatchOrder, checked_training_data
from .callbacks import Callback, FigureSums, History
from .checkpoint import load_checkpoint, save_checkpoint
from .checks import check_latent
from .config import GANConfig
from .data import ImageData, to_uint8
from .discriminator import Discriminator
from .divergence import DivergenceGuard, TrainingDivergedError
from .ema import EMA
from .fast import StepRunner
from .generator import Generator, sample_z
from .interrupt import StopSignals, TrainingInterrupted
from .modes import evaluating
from .resume import load_trainer_state, resumed_config, trainer_state
from .runfolder import claimed, run_folder
from .runtime import resolve_device
from .step import StepFn, build_models, train_step

__all__ = ["CHECKPOINT_NAME", "Trainer", "TrainingDivergedError"]

CHECKPOINT_NAME = "checkpoint.pt"


class Trainer:
    """Trains the article's DCGAN, counting steps.

    Args:
        config: hyper-parameters (:class:`GANConfig`); ``config.seed`` fixes the
            initial weights, the noise and the data order.
        data: :class:`ImageData` (uint8), or a float tensor ``(N, C, S, S)``
            already scaled to [-1, 1]. Checked once here: shape, channels and
            range must match ``config``.
        device: ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"``, ...
        out_dir: the run folder (``out_dir/checkpoint.pt``); None: no saving.
            Created here, so a path that cannot be a folder fails before
            training; held by one trainer at a time while it trains or saves.
        callbacks: :class:`Callback` objects called during :meth:`fit`.
        progress: show a ``tqdm.auto`` progress bar.
        fast: on a CUDA device, replay each step as one CUDA graph
            (:mod:`gankit.fast`; the same sums, up to their order); default
            True on CUDA, ``False`` runs the plain eager loop.
        step_fn: the training step, with :func:`train_step`'s signature and
            return value (default :func:`train_step`); chapter 6 passes a
            feature-matching step here.
        sync_bn: under ``torchrun`` on GPUs, synchronise batch norm across
            processes (SyncBatchNorm); one process has nothing to synchronise.
        channels_last: keep weights and real batches in the channels-last
            memory layout (NHWC): the same arithmetic, off until measured.
        precision: ``"fp32"`` (default) or ``"bf16"``: autocast each step to
            bfloat16 (weights, Adam's state and losses stay float32).

    Under ``torchrun`` with several processes, ``batch_size`` is the global
    batch, shared out between the ranks; only rank 0 shows progress, calls
    callbacks, renders the fixed grid and writes checkpoints.

    The default of two generator steps per discriminator step, and why, is
    documented on :class:`GANConfig`'s ``g_steps_per_d_step``.
    """

    def __init__(
        self,
        config: GANConfig | None = None,
        data: ImageData | Tensor | None = None,
        *,
        device: str | torch.device = "auto",
        out_dir: str | Path | None = None,
        callbacks: Iterable[Callback] = (),
        progress: bool = True,
        fast: bool | None = None,
        step_fn: StepFn | None = None,
        sync_bn: bool = False,
        channels_last: bool = False,
        precision: str = "fp32",
    ) -> None:
        self.config = cfg = config if config is not None else GANConfig()
        self.ranks = ranks = distributed.setup(resolve_device(device))
        self.device = ranks.device
        self.data = checked_training_data(data, cfg, self.device)
        self.batches = BatchOrder(self.data, cfg.batch_size, cfg.seed, ranks=ranks)
        self.out_dir = run_folder(out_dir) if out_dir is not None else None
        self.callbacks = list(callbacks) if ranks.is_main else []
        self.progress = progress and ranks.is_main

        g, d = build_models(cfg)
        self.memory_format = (
            torch.channels_last if channels_last else torch.contiguous_format
        )
        self.generator: Generator = g.to(self.device, memory_format=self.memory_format)
        self.discriminator: Discriminator = d.to(
            self.device, memory_format=self.memory_format
        )
        cuda = self.device.type == "cuda"
        # No CUDA graph across processes: DistributedDataParallel averages the
        # gradients from host-side autograd hooks, which replaying skips.
        self.fast = cuda and fast is not False and not ranks.distributed
        # One fused kernel per update on a GPU; capturable keeps Adam's step
        # count on the device so that a CUDA graph can replay the update.
        self.optimizer_flags = {"fused": cuda, "capturable": self.fast}
        self.opt_g, self.opt_d = (
            torch.optim.Adam(
                m.parameters(), lr, (cfg.beta1, cfg.beta2), **self.optimizer_flags
            )
            for m, lr in ((g, cfg.lr_g), (d, cfg.lr_d))
        )
        self.ema = None if cfg.ema_decay is None else EMA(self.generator, cfg.ema_decay)
        # What the step trains: the models, or with several processes their
        # DistributedDataParallel wrappers, which average the gradients.
        replicas: tuple[nn.Module, nn.Module] = (g, d)
        if ranks.distributed:
            replicas = (
                distributed.replicate(g, ranks, sync_bn),
                distributed.replicate(d, ranks, sync_bn),
            )
        step = step_fn if step_fn is not None else train_step
        self.runner = StepRunner(
            step,
            replicas,
            (self.opt_g, self.opt_d),
            cfg,
            graph=self.fast,
            memory_format=self.memory_format,
            precision=precision,
        )
        self.precision = precision
        self.noise = torch.Generator(self.device).manual_seed(cfg.seed + 1)
        fixed = torch.Generator().manual_seed(cfg.seed + 2)
        self.fixed_z = sample_z(cfg.n_fixed, cfg.z_dim, generator=fixed).to(self.device)
        self.step = 0
        self.history = History()
        self.figures = FigureSums()
        checkpoint = self.out_dir / CHECKPOINT_NAME if self.out_dir else None
        self.guard = DivergenceGuard((self.generator, self.discriminator), checkpoint)

    @property
    def step_fn(self) -> StepFn:
        """The training step: :func:`train_step`, or the one given; settable."""
        return self.runner.step_fn

    @step_fn.setter
    def step_fn(self, fn: StepFn) -> None:
        self.runner.step_fn = fn
        self.runner.reset()  # a graph recorded the old step

    @property
    def steps_per_epoch(self) -> int:
        return self.batches.steps_per_epoch

    def next_batch(self) -> Tensor:
        """The real batch for the current step, float in [-1, 1]: ``(B, C, S, S)``
        (with several processes, this rank's ``B / world_size`` of it)."""
        return self.batches.batch(self.step)

    # -- the loop -----------------------------------------------------------
    def fit(self, max_steps: int | None = None) -> History:
        """Train until ``self.step == max_steps`` (default ``config.max_steps``).

        ``max_steps`` counts from the start of training, so a resumed trainer
        runs only the steps that are left. Ctrl-C, SIGTERM or SIGHUP finish
        the current step, save a checkpoint (when ``out_dir`` is set) and
        raise :class:`gankit.interrupt.TrainingInterrupted` (a
        ``KeyboardInterrupt``) saying what was saved; the steps since the last
        log are not logged then, but the checkpoint keeps their figures.

        Raises:
            RunFolderBusyError: another trainer holds ``out_dir``.
            TrainingDivergedError: a loss, weight or sample became NaN or
                infinite; the last good checkpoint is left as it was.
        """
        target = self.config.max_steps if max_steps is None else max_steps
        if target < 0:
            raise ValueError(f"max_steps must be >= 0, got {target}")
        bar = tqdm(
            total=target,
            initial=min(self.step, target),
            disable=not self.progress,
            desc="training",
            unit="step",
            dynamic_ncols=True,
        )
        with bar, self._holding_folder(), StopSignals() as signals:
            while self.step < target:
                self._one_step()
                bar.update(1)
                self._after_step(target, bar)
                if stop := distributed.largest(signals.received or 0, self.ranks):
                    self._stop(stop)
            path = self.save() if self.out_dir is not None else None
            # A signal during that last save: the run is whole, but say so.
            if stop := distributed.largest(signals.received or 0, self.ranks):
                self._stop(stop, saved=path)
        for cb in self.callbacks:
            cb.on_end(self)
        return self.history

    def _after_step(self, target: int, bar: tqdm) -> None:
        cfg = self.config
        if self.step % cfg.log_every == 0 or self.step == target:
            record = self._log()
            bar.set_postfix(
                d_loss=f"{record['d_loss']:.3f}",
                g_loss=f"{record['g_loss']:.3f}",
                refresh=False,
            )
        if self.step % cfg.sample_every == 0 and self.ranks.is_main:
            self._render_fixed()
        if self.out_dir is not None and self.step % cfg.checkpoint_every == 0:
            self.save()

    def _stop(self, signum: int, saved: Path | None = None) -> None:
        path = saved or (self.save() if self.out_dir is not None else None)
        step = self.step
        done = f"saved step {step} to {path}" if path else f"stopped after step {step}"
        raise TrainingInterrupted(done, signum=signum, step=step, path=path)

    def _holding_folder(self) -> AbstractContextManager[Any]:
        if self.out_dir is None or not self.ranks.is_main:
            return contextlib.nullcontext()
        return claimed(self.out_dir)

    def _one_step(self) -> None:
        cfg = self.config
        z = sample_z(
            cfg.batch_size, cfg.z_dim, device=self.device, generator=self.noise
        )
        if self.ranks.distributed:  # the same share as the images'
            z = z[self.ranks.rank :: self.ranks.world_size]
        metrics = self.runner(self.next_batch(), z)
        if self.ema is not None:
            self.ema.update_parameters(self.generator)
        self.step += 1
        if self.device.type == "cpu":
            # Reading a CPU tensor costs no device sync: check the losses every
            # step there (the weights at each log and before each save).
            losses = {k: float(metrics[k]) for k in ("d_loss", "g_loss")}
            self.guard.check(losses, self.step, self.step, weights=False)
        self.figures.add(metrics)
        for cb in self.callbacks:
            cb.on_step(self, metrics)

    def _unlogged(self, *, weights: bool) -> tuple[Tensor, dict[str, float]]:
        """The figures since the last log, averaged over processes (a
        collective: every rank must call it), as sums and means by name, once
        the guard has checked them (and with ``weights`` the weights too)."""
        sums, record = self.figures.means(lambda t: distributed.average(t, self.ranks))
        first = self.step - self.figures.steps + 1
        self.guard.check(record, first, self.step, weights=weights)
        return sums, record

    def _log(self) -> dict[str, float]:
        """Average the figures since the last log (one host sync) and check them."""
        _, record = self._unlogged(weights=True)
        self.figures.clear()
        record["step"] = self.step
        self.history.append(record)
        for cb in self.callbacks:
            cb.on_log(self, record)
        return record

    @torch.no_grad()
    def sample(
        self, n: int | None = None, *, z: Tensor | None = None, use_ema: bool = True
    ) -> Tensor:
        """Images from the generator (the EMA one when there is one and
        ``use_ema``) in inference mode, from ``z`` or ``n`` fresh latent
        vectors; the trainer's noise stream is left alone.

        Shape:
            - Output: ``(n, C, S, S)`` in [-1, 1], on the trainer's device.
        """
        model: nn.Module = (
            self.ema.module if (use_ema and self.ema is not None) else self.generator
        )
        if z is None:
            n = n if n is not None else self.config.n_fixed
            z = sample_z(n, self.config.z_dim, device=self.device)
        elif z is not self.fixed_z:  # a caller's: checked, as input entering
            check_latent(z, self.config.z_dim)
        with evaluating(model):
            return model(z.to(self.device))

    def _render_fixed(self) -> None:
        images = self.sample(z=self.fixed_z, use_ema=False)
        self.guard.check_samples(images, self.step)  # before a callback draws them
        self.history.samples.append((self.step, to_uint8(images).cpu()))
        for cb in self.callbacks:
            cb.on_sample(self, images)

    # -- state ------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly where training stands.

        Raises :class:`TrainingDivergedError` rather than describe a state
        whose weights, or whose unlogged losses, are NaN or infinite: no
        checkpoint holds one.
        """
        self.guard.check_weights(self.step)
        unlogged = None
        if self.figures.steps:  # kept, so a resumed run logs them with the next
            unlogged = self.figures.state(self._unlogged(weights=False)[0])
        return trainer_state(self, unlogged)

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a :meth:`state_dict`; refuses another architecture."""
        load_trainer_state(self, state)
        self.runner.reset()  # the optimizers' state tensors were replaced

    def save(self, path: str | Path | None = None) -> Path:
        """Write a checkpoint atomically (default ``out_dir/checkpoint.pt``).

        With several processes every rank must call it (it averages the
        unlogged figures across ranks); rank 0 writes, the others wait for it.
        """
        if path is None:
            if self.out_dir is None:
                raise ValueError("no path given and the trainer has no out_dir")
            path = self.out_dir / CHECKPOINT_NAME
        state = self.state_dict()  # refuses a non-finite state
        if self.ranks.is_main:
            with self._holding_folder():
                save_checkpoint(state, path)
        distributed.barrier(self.ranks)
        return Path(path)

    @classmethod
    def from_checkpoint(
        cls,
        checkpoint: str | os.PathLike[str] | Mapping[str, Any],
        data: ImageData | Tensor,
        *,
        changes: Mapping[str, Any] | None = None,
        config: GANConfig | None = None,
        **kwargs: Any,
    ) -> Trainer:
        """A trainer rebuilt from a checkpoint's config and state, ready to
        continue with :meth:`fit`.

        ``checkpoint`` is a path or what :func:`load_checkpoint` read from one;
        ``data`` and ``kwargs`` go to the constructor. ``changes`` (e.g.
        ``{"max_steps": 20_000}``) or a whole ``config`` alter the saved
        config, within :func:`gankit.resume.resumed_config`'s rules: a change
        of architecture, seed or batch size is refused.
        """
        state = checkpoint
        if not isinstance(state, Mapping):
            state = load_checkpoint(state)
        trainer = cls(resumed_config(state["config"], changes, config), data, **kwargs)
        trainer.load_state_dict(state)
        return trainer
