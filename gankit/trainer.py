"""Training: the pure step, and the step-counted loop that schedules it.

Taught in ``book/05_losses_and_training.ipynb``; tested in ``tests/test_trainer.py``.

:func:`train_step` is one round of the game: one discriminator update on a
real and a generated batch, then ``g_steps_per_d_step`` generator updates. It
returns its figures as device tensors and never waits for the device.
:class:`Trainer` owns the models, optimizers, data order, noise and history;
it counts steps (not epochs), logs averages every ``log_every`` steps, renders
a fixed grid of latent vectors, calls callbacks, saves checkpoints, and stops
with a clear error if a loss stops being finite. Launched by ``torchrun`` on
several processes it trains them as one, as :mod:`gankit.distributed` describes.
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
import signal
import threading
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import asdict, fields, replace
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from tqdm.auto import tqdm

from . import distributed
from ._version import __version__
from .callbacks import Callback, History
from .checkpoint import check_architecture, load_checkpoint, save_checkpoint
from .checks import NonFiniteError, check_range
from .config import GANConfig
from .data import ImageData, to_uint8
from .discriminator import Discriminator
from .generator import Generator, sample_z
from .modes import evaluating
from .runtime import resolve_device
from .step import build_models, train_step

CHECKPOINT_NAME = "checkpoint.pt"
#: Config fields a resumed run must keep, and why: the step count locates the
#: run in its epochs only at the batch size it was counted in, and the seed
#: fixed the weights, the noise and the data order that the run continues.
RESUME_FIXED_FIELDS: dict[str, str] = {
    "batch_size": "the step count places the run in its epoch in batches of the "
    "saved size",
    "seed": "the weights, the noise stream and the data order so far came from "
    "the saved seed",
}


class TrainingDivergedError(RuntimeError):
    """A loss, the weights or the samples became NaN or infinite; training
    stopped without saving that state."""


def _run_folder(path: str | os.PathLike[str]) -> Path:
    """``path`` as an existing, writable folder (created if needed), or a
    ``ValueError`` now rather than at the first checkpoint, after the training
    time was spent."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file where a folder should be, no permission
        raise ValueError(
            f"out_dir {path} cannot be a folder for the run: "
            f"{exc.strerror or exc} ({exc.filename or path})"
        ) from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ValueError(f"out_dir {path} is a folder this process cannot write to")
    return path


class Trainer:
    """Trains the article's DCGAN, counting steps.

    Args:
        config: hyper-parameters (:class:`GANConfig`); ``config.seed`` fixes the
            initial weights, the noise and the data order.
        data: :class:`ImageData` (uint8), or a float tensor ``(N, C, S, S)``
            already scaled to [-1, 1]. Checked once here: shape, channels and
            range must match ``config``.
        device: ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"``, ...
        out_dir: where checkpoints go (``out_dir/checkpoint.pt``); None: no saving.
            Created here, so a path that cannot be a folder fails before training.
        callbacks: :class:`Callback` objects called during :meth:`fit`.
        progress: show a ``tqdm.auto`` progress bar.
        fast: on a CUDA device, replay each step as one CUDA graph
            (:mod:`gankit.fast`); default True on CUDA. It computes what the
            plain loop computes, up to the order of floating-point sums;
            ``fast=False`` runs the plain eager loop.
        step_fn: the training step, with :func:`train_step`'s signature and
            return value (default :func:`train_step`); chapter 6 passes a
            feature-matching step here.
        sync_bn: under ``torchrun`` on GPUs, synchronise batch norm across
            processes (SyncBatchNorm); one process has nothing to synchronise.
        channels_last: keep the models' weights and the real batches in the
            channels-last memory layout (NHWC), which cuDNN's convolutions
            otherwise convert to and from inside every call. The same
            arithmetic; whether it is faster depends on the device, so it is
            off by default (``benchmarks/throughput.py`` measures both).
        precision: ``"fp32"`` (default) or ``"bf16"``: run each step under
            ``torch.autocast`` in bfloat16. Weights, Adam's state and the
            losses stay float32 (autocast computes binary cross-entropy in
            float32); convolutions and matrix products run in bfloat16, with
            about three significant digits. Off by default until measured.

    Under ``torchrun`` with several processes, ``batch_size`` is the global
    batch, shared out between the ranks; only rank 0 shows progress, calls
    callbacks, renders the fixed grid and writes checkpoints, and Ctrl-C is
    left to the launcher (see :mod:`gankit.distributed`).

    Generator steps per discriminator step: the article's notebook ran the
    generator's optimizer twice per discriminator step; the DCGAN paper and most
    code run it once. The default, ``g_steps_per_d_step=2``, follows the
    notebook because it measured better: with chapter 5's full profile on an
    H200 (2026-11-27; two runs each of 4,690 steps at batch 128, Frechet
    distance in the MNIST classifier's features) two steps gave 0.60 and 0.62,
    one step 0.81 and 1.09. A two-step update runs both networks forward and
    backward once more, so it takes longer; chapter 5 measures by how much.
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
        step_fn: Callable[..., dict[str, Tensor]] | None = None,
        sync_bn: bool = False,
        channels_last: bool = False,
        precision: str = "fp32",
    ) -> None:
        self.config = cfg = config if config is not None else GANConfig()
        if precision not in ("fp32", "bf16"):
            raise ValueError(f"precision must be 'fp32' or 'bf16', got {precision!r}")
        self.precision = precision
        if data is None:
            raise ValueError(
                "Trainer needs data: an ImageData or a float tensor "
                "(N, C, S, S) in [-1, 1]"
            )
        self.ranks = distributed.setup(resolve_device(device))
        self.device = self.ranks.device
        if cfg.batch_size % self.ranks.world_size:
            raise ValueError(
                f"batch_size {cfg.batch_size} is not a multiple of the "
                f"{self.ranks.world_size} processes that share each batch"
            )
        self.data = self._checked_data(data)
        if len(self.data) < cfg.batch_size:
            raise ValueError(
                f"the dataset has {len(self.data)} images, fewer than one batch of "
                f"{cfg.batch_size}; lower batch_size or give more data"
            )
        self.out_dir = _run_folder(out_dir) if out_dir is not None else None
        self.callbacks = list(callbacks) if self.ranks.is_main else []
        self.progress = progress and self.ranks.is_main
        self.step_fn = step_fn if step_fn is not None else train_step

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
        # gradients from host-side autograd hooks (and re-plans its buckets
        # after the first step), which replaying recorded kernels would skip.
        wanted = cuda if fast is None else (fast and cuda)
        self.fast = wanted and not self.ranks.distributed
        # One fused kernel per update on a GPU; capturable keeps Adam's step
        # count on the device so that a CUDA graph can replay the update.
        self._opt_flags = {"fused": cuda, "capturable": self.fast}
        self.opt_g = torch.optim.Adam(
            self.generator.parameters(),
            lr=cfg.lr_g,
            betas=(cfg.beta1, cfg.beta2),
            **self._opt_flags,
        )
        self.opt_d = torch.optim.Adam(
            self.discriminator.parameters(),
            lr=cfg.lr_d,
            betas=(cfg.beta1, cfg.beta2),
            **self._opt_flags,
        )
        self._graphed: Any = None  # a GraphedStep once captured, False if it failed
        self.ema: AveragedModel | None = None
        if cfg.ema_decay is not None:
            self.ema = AveragedModel(
                self.generator,
                multi_avg_fn=get_ema_multi_avg_fn(cfg.ema_decay),
                use_buffers=True,
            )
        self._ema_updates = 0  # the EMA's n_averaged, mirrored on the host
        # What the step function trains: the models, or with several processes
        # their DistributedDataParallel wrappers, which average the gradients.
        self._replicas: tuple[nn.Module, nn.Module] = (
            self.generator,
            self.discriminator,
        )
        if self.ranks.distributed:
            self._replicas = (
                distributed.replicate(self.generator, self.ranks, sync_bn),
                distributed.replicate(self.discriminator, self.ranks, sync_bn),
            )
        self.noise = torch.Generator(self.device).manual_seed(cfg.seed + 1)
        self.fixed_z = sample_z(
            cfg.n_fixed,
            cfg.z_dim,
            generator=torch.Generator().manual_seed(cfg.seed + 2),
        ).to(self.device)
        self.step = 0
        self.history = History()
        self._sums: dict[str, Tensor] = {}
        self._n_summed = 0
        self._perm: tuple[int, Tensor] | None = None
        self._stop_requested = False

    # -- data ---------------------------------------------------------------
    def _checked_data(self, data: ImageData | Tensor) -> ImageData | Tensor:
        cfg = self.config
        images = data.images if isinstance(data, ImageData) else data
        if not isinstance(images, Tensor):
            raise ValueError(f"data must be ImageData or a Tensor, got {type(data)}")
        expected = (cfg.channels, cfg.image_size, cfg.image_size)
        if images.dim() != 4 or tuple(images.shape[1:]) != expected:
            raise ValueError(
                f"data must have shape (N, {cfg.channels}, {cfg.image_size}, "
                f"{cfg.image_size}) to match the config, got {tuple(images.shape)}"
            )
        if isinstance(data, ImageData):
            return data.to(self.device)
        if not images.is_floating_point():
            raise ValueError(
                f"a data tensor must be float in [-1, 1], got {images.dtype}; "
                "wrap uint8 images in gankit.ImageData instead"
            )
        check_range(images, -1.0, 1.0, name="data")
        return images.to(self.device, torch.float32)  # the networks' dtype

    @property
    def steps_per_epoch(self) -> int:
        return len(self.data) // self.config.batch_size

    def _permutation(self, epoch: int) -> Tensor:
        # Derived from (seed, epoch) alone, so a resumed run draws the same batches.
        g = torch.Generator().manual_seed(self.config.seed * 1_000_003 + epoch)
        return torch.randperm(len(self.data), generator=g).to(self.device)

    def next_batch(self) -> Tensor:
        """The real batch for the current step, float in [-1, 1]: ``(B, C, S, S)``
        (with several processes, this rank's ``B / world_size`` of it)."""
        epoch, pos = divmod(self.step, self.steps_per_epoch)
        if self._perm is None or self._perm[0] != epoch:
            self._perm = (epoch, self._permutation(epoch))
        b = self.config.batch_size
        idx = self._perm[1][pos * b : (pos + 1) * b]
        if self.ranks.distributed:  # this rank's share of the global batch
            idx = idx[self.ranks.rank :: self.ranks.world_size]
        if isinstance(self.data, ImageData):
            return self.data.batch(idx)
        return self.data[idx]

    # -- the loop -----------------------------------------------------------
    def fit(self, max_steps: int | None = None) -> History:
        """Train until ``self.step == max_steps`` (default ``config.max_steps``).

        ``max_steps`` counts from the start of training, so a resumed trainer
        runs only the steps that are left. Ctrl-C finishes the current step,
        saves a checkpoint (when ``out_dir`` is set) and re-raises; the steps
        since the last log are not logged then, but the checkpoint keeps their
        figures, and a resumed run logs them with the next ones.
        """
        target = self.config.max_steps if max_steps is None else max_steps
        if target < 0:
            raise ValueError(f"max_steps must be >= 0, got {target}")
        restore = self._install_interrupt_handler()
        bar = tqdm(
            total=target,
            initial=min(self.step, target),
            disable=not self.progress,
            desc="training",
            unit="step",
            dynamic_ncols=True,
        )
        try:
            while self.step < target:
                self._one_step()
                bar.update(1)
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
                if self._stop_requested:
                    if self.out_dir is None:
                        raise KeyboardInterrupt(f"stopped after step {self.step}")
                    path = self.save()
                    raise KeyboardInterrupt(f"saved step {self.step} to {path}")
            if self.out_dir is not None:
                self.save()
        finally:
            bar.close()
            restore()
            self._stop_requested = False
        for cb in self.callbacks:
            cb.on_end(self)
        return self.history

    def _one_step(self) -> None:
        real = self.next_batch().contiguous(memory_format=self.memory_format)
        z = sample_z(
            self.config.batch_size,
            self.config.z_dim,
            device=self.device,
            generator=self.noise,
        )
        if self.ranks.distributed:  # the same share as the images'
            z = z[self.ranks.rank :: self.ranks.world_size]
        if self.fast and self._graphed is None:
            from .fast import try_graph

            self._graphed = (
                try_graph(
                    self.generator,
                    self.discriminator,
                    self.opt_g,
                    self.opt_d,
                    self.config,
                    self.step_fn,
                    memory_format=self.memory_format,
                    autocast=self._autocast,
                )
                or False
            )
        try:
            if self._graphed:
                metrics = self._graphed(real, z)
            else:
                with self._autocast():
                    metrics = self.step_fn(
                        *self._replicas,
                        self.opt_g,
                        self.opt_d,
                        real,
                        z,
                        self.config,
                    )
        except ValueError as exc:
            # A generator whose weights or activations went NaN or infinite
            # mid-step makes such images, which the discriminator's input check
            # refuses (the data was checked up front): report the divergence
            # itself rather than the symptom.
            if self._weights_finite() and not isinstance(exc, NonFiniteError):
                raise
            raise TrainingDivergedError(
                "the generator's images or the weights became NaN or infinite "
                f"during step {self.step + 1}; training stopped before saving that "
                f"state. Lower the learning rates or check the data. ({exc})"
            ) from None
        if self.ema is not None:
            self._update_ema()
        self.step += 1
        if self.device.type == "cpu":
            # Reading a CPU tensor costs no device sync: check the losses every
            # step there (the weights at each log and before each save).
            self._check_finite(
                {k: float(metrics[k]) for k in ("d_loss", "g_loss")},
                self.step,
                weights=False,
            )
        for k, v in metrics.items():
            v = v.float()  # under bf16, D's probabilities come out in bfloat16
            self._sums[k] = self._sums[k] + v if k in self._sums else v.clone()
        self._n_summed += 1
        for cb in self.callbacks:
            cb.on_step(self, metrics)

    def _autocast(self) -> AbstractContextManager[Any]:
        """The context each training step runs in: autocast to bfloat16 under
        ``precision="bf16"`` (its cache off, as a CUDA graph requires)."""
        if self.precision == "bf16":
            return torch.autocast(
                self.device.type, dtype=torch.bfloat16, cache_enabled=False
            )
        return contextlib.nullcontext()

    @torch.no_grad()
    def _update_ema(self) -> None:
        """One update of the EMA generator, as ``AveragedModel.update_parameters``
        with ``get_ema_multi_avg_fn`` makes it (a copy at the first update, then
        ``lerp`` towards the generator by ``1 - decay``, its buffers included),
        without reading the update count back from the device: that method
        does twice per call, and on a GPU each read waits for the step to
        finish, so the host could never run ahead of the device."""
        assert self.ema is not None and self.config.ema_decay is not None
        ema = [*self.ema.module.parameters(), *self.ema.module.buffers()]
        now = [*self.generator.parameters(), *self.generator.buffers()]
        averaged, current = [], []
        for e, m in zip(ema, now, strict=True):
            if e.is_floating_point():
                averaged.append(e)
                current.append(m)
            else:  # a count (BatchNorm's num_batches_tracked) is not averaged
                e.copy_(m)
        if self._ema_updates == 0:
            for e, m in zip(averaged, current, strict=True):
                e.copy_(m)
        else:
            torch._foreach_lerp_(averaged, current, 1.0 - self.config.ema_decay)
        self.ema.n_averaged += 1
        self._ema_updates += 1

    def _unlogged(self) -> tuple[Tensor, dict[str, Any]]:
        """The figures summed since the last log, averaged over processes (a
        collective: every rank must call it): their sums ``(K,)`` on the device,
        and their means by name (one host sync)."""
        keys = list(self._sums)
        sums = torch.stack([self._sums[k] for k in keys])
        sums = distributed.average(sums, self.ranks)
        return sums, dict(zip(keys, (sums / self._n_summed).tolist(), strict=True))

    def _log(self) -> dict[str, float]:
        """Average the figures since the last log (one host sync) and check them."""
        if self._n_summed == 0:
            raise RuntimeError("nothing to log yet")
        _, record = self._unlogged()
        first = self.step - self._n_summed + 1
        self._sums, self._n_summed = {}, 0
        self._check_finite(record, first)
        record["step"] = self.step
        self.history.append(record)
        for cb in self.callbacks:
            cb.on_log(self, record)
        return record

    def _weights_finite(self) -> bool:
        """Whether every weight and buffer of both networks is finite (one sync).

        Read from their sums, a fifth of the cost of ``isfinite`` on each
        element: a NaN or an infinity anywhere makes a sum non-finite (and so
        would weights near 1e38, which have diverged as surely)."""
        sums = [
            t.sum()
            for m in (self.generator, self.discriminator)
            for t in (*m.parameters(), *m.buffers())
            if t.is_floating_point()
        ]
        return bool(torch.stack(sums).sum().isfinite())

    def _check_finite(
        self, record: dict[str, float], first: int, *, weights: bool = True
    ) -> None:
        """Raise :class:`TrainingDivergedError` if a loss is NaN or infinite, or
        with ``weights`` a weight is (the losses come from before the step's
        last update, which can leave the weights non-finite)."""
        bad = [k for k in ("d_loss", "g_loss") if not math.isfinite(record[k])]
        if not bad and (not weights or self._weights_finite()):
            return
        last = (self.out_dir / CHECKPOINT_NAME) if self.out_dir else None
        kept = (
            f" The last good checkpoint, {last}, was left as it was."
            if last is not None and last.exists()
            else ""
        )
        span = (
            f"at step {first}"
            if first == self.step
            else (f"between steps {first} and {self.step}")
        )
        what = " and ".join(bad) or "the networks' weights"
        raise TrainingDivergedError(
            f"{what} became NaN or infinite {span}; training "
            f"stopped.{kept} Lower the learning rates or check the data for NaN "
            "values."
        )

    @torch.no_grad()
    def sample(
        self, n: int | None = None, *, z: Tensor | None = None, use_ema: bool = True
    ) -> Tensor:
        """Images from the generator in inference mode (batch norm's running
        statistics), from ``z`` or from ``n`` fresh latent vectors.

        Uses the EMA generator when there is one and ``use_ema`` is set. Does
        not touch the trainer's noise stream.

        Shape:
            - Output: ``(n, C, S, S)`` in [-1, 1], on the trainer's device.
        """
        model: nn.Module = (
            self.ema.module if (use_ema and self.ema is not None) else self.generator
        )
        if z is None:
            z = sample_z(
                n if n is not None else self.config.n_fixed,
                self.config.z_dim,
                device=self.device,
            )
        with evaluating(model):
            return model(z.to(self.device))

    def _render_fixed(self) -> None:
        images = self.sample(z=self.fixed_z, use_ema=False)
        if not bool(torch.isfinite(images).all()):  # one sync, as the grid needs
            raise TrainingDivergedError(
                f"the generator's samples became NaN or infinite by step "
                f"{self.step}; training stopped. Lower the learning rates."
            )
        cpu = to_uint8(images).cpu()
        self.history.samples.append((self.step, cpu))
        for cb in self.callbacks:
            cb.on_sample(self, images)

    # -- interruption ---------------------------------------------------------
    def _install_interrupt_handler(self) -> Callable[[], None]:
        # With several processes the launcher owns Ctrl-C and stops them all at
        # once; the last periodic checkpoint, written atomically, stays whole.
        if (
            threading.current_thread() is not threading.main_thread()
            or self.ranks.distributed
        ):
            return lambda: None
        previous = signal.getsignal(signal.SIGINT)

        def handler(signum: int, frame: object) -> None:
            # First Ctrl-C: finish the step and save. A second one acts at once.
            self._stop_requested = True
            signal.signal(signal.SIGINT, previous)

        signal.signal(signal.SIGINT, handler)
        return lambda: signal.signal(signal.SIGINT, previous)

    # -- state ------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly where training stands.

        Raises :class:`TrainingDivergedError` rather than describe a state
        whose weights, or whose unlogged losses, are NaN or infinite: no
        checkpoint holds one.
        """
        if not self._weights_finite():
            raise TrainingDivergedError(
                f"the networks' weights are NaN or infinite at step {self.step}; "
                "this state is not saved, and a checkpoint written before it is "
                "left as it was"
            )
        partial = None
        if self._n_summed:
            # The figures summed since the last log are checked (their losses:
            # the weights were just checked), and kept (averaged over
            # processes, as a log would), so that saving leaves the logged
            # history as it would have been without a save.
            sums, record = self._unlogged()
            self._check_finite(record, self.step - self._n_summed + 1, weights=False)
            partial = {
                "keys": list(record),
                "sums": sums.cpu(),
                "steps": self._n_summed,
            }
        rng: dict[str, Any] = {
            "torch": torch.get_rng_state(),
            "noise": self.noise.get_state(),
        }
        if self.device.type == "cuda":
            # This device's alone (another machine may have fewer), as a list
            # of one, the form in which earlier versions stored every device's.
            rng["cuda"] = [torch.cuda.get_rng_state(self.device)]
        return {
            "gankit_version": __version__,
            "config": asdict(self.config),
            "step": self.step,
            "generator": self.generator.state_dict(),
            "discriminator": self.discriminator.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "ema": self.ema.state_dict() if self.ema is not None else None,
            "rng": rng,
            "history": self.history.scalars(),
            "unlogged": partial,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a :meth:`state_dict`; refuses another architecture."""
        check_architecture(state["config"], asdict(self.config))
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])
        cfg, saved_cfg = self.config, state["config"]
        for opt, key, rate in (
            (self.opt_g, "opt_g", "lr_g"),
            (self.opt_d, "opt_d", "lr_d"),
        ):
            # A copy: the optimizer would otherwise train on the caller's
            # tensors, and a state resumed twice would share its moments.
            saved = copy.deepcopy(state[key])
            # The flags of this trainer's device win over those of the saver's;
            # so do the config's rates where the config changed them (else the
            # saved ones stand, as a callback may have adjusted them).
            ours = dict(self._opt_flags)
            if getattr(cfg, rate) != saved_cfg.get(rate):
                ours["lr"] = getattr(cfg, rate)
            betas = (cfg.beta1, cfg.beta2)
            if betas != (saved_cfg.get("beta1"), saved_cfg.get("beta2")):
                ours["betas"] = betas
            saved["param_groups"] = [{**g, **ours} for g in saved["param_groups"]]
            opt.load_state_dict(saved)
            # Adam's moments in their parameter's layout: a fused update walks
            # both as one flat array, and a checkpoint may come from a trainer
            # with the other memory format (only then is a moment copied).
            for param, moments in opt.state.items():
                for name, value in moments.items():
                    if (
                        isinstance(value, Tensor)
                        and value.shape == param.shape
                        and value.stride() != param.stride()
                    ):
                        moments[name] = torch.empty_like(param).copy_(value)
        self._graphed = None  # the optimizers' state tensors were replaced
        if self.ema is not None and state.get("ema") is not None:
            self.ema.load_state_dict(state["ema"])
            self._ema_updates = int(self.ema.n_averaged)
        self.step = int(state["step"])
        torch.set_rng_state(state["rng"]["torch"])
        try:
            self.noise.set_state(state["rng"]["noise"].cpu())
        except RuntimeError:
            # Saved on another kind of device: the stream's state does not
            # transfer, so continue with a stream derived from seed and step.
            self.noise.manual_seed(self.config.seed + 1 + self.step)
        cuda_rng = state["rng"].get("cuda")
        if cuda_rng is not None and self.device.type == "cuda":
            if isinstance(cuda_rng, (list, tuple)):  # one device's, or (older
                # files) every device's, in the order of their indices
                index = self.device.index
                index = torch.cuda.current_device() if index is None else index
                cuda_rng = cuda_rng[index] if index < len(cuda_rng) else cuda_rng[0]
            torch.cuda.set_rng_state(cuda_rng, self.device)
        self.history = History(**{k: list(v) for k, v in state["history"].items()})
        self._sums, self._n_summed, self._perm = {}, 0, None
        unlogged = state.get("unlogged")
        if unlogged is not None:  # figures summed since the last log, kept
            sums = unlogged["sums"].to(self.device)
            self._sums = dict(zip(unlogged["keys"], sums.unbind(), strict=True))
            self._n_summed = int(unlogged["steps"])

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

        Args:
            checkpoint: a checkpoint's path, or what :func:`load_checkpoint`
                returned for it (so a caller that has read it already need
                not read it twice).
            data: the training images, as for the constructor.
            changes: fields of the saved config to change, e.g.
                ``{"max_steps": 20_000}``; the others keep the saved values.
            config: instead of ``changes``, a whole config to train with.
            kwargs: go to the constructor (device, out_dir, callbacks, progress).

        Raises:
            CheckpointMismatchError: ``changes`` or ``config`` alter the
                architecture (image size, channels, widths, z_dim).
            ValueError: both ``changes`` and ``config`` are given,
                ``changes`` names a field GANConfig does not have, or the seed
                or batch size would change (see ``RESUME_FIXED_FIELDS``).
        """
        if changes is not None and config is not None:
            raise ValueError("give changes or config, not both")
        state = (
            checkpoint
            if isinstance(checkpoint, Mapping)
            else load_checkpoint(checkpoint)
        )
        saved = GANConfig(**state["config"])
        unknown = sorted(set(changes or {}) - {f.name for f in fields(GANConfig)})
        if unknown:
            raise ValueError(f"changes names {unknown}, which are not GANConfig fields")
        cfg = config or replace(saved, **(changes or {}))
        check_architecture(asdict(saved), asdict(cfg))
        for name in RESUME_FIXED_FIELDS:
            was, now = getattr(saved, name), getattr(cfg, name)
            if now != was:
                raise ValueError(
                    f"{name} cannot change when a run resumes ({was} in the "
                    f"checkpoint, {now} asked for): {RESUME_FIXED_FIELDS[name]}. "
                    "Start a new run to train with another."
                )
        trainer = cls(cfg, data, **kwargs)
        trainer.load_state_dict(state)
        return trainer
