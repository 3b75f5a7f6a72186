"""Training on several processes: torchrun, DistributedDataParallel, one writer.

Not a chapter of its own (the book trains on one device); the README shows the
launch commands, and ``tests/test_distributed.py`` trains two CPU processes.

:class:`gankit.Trainer` calls :func:`setup` once. Launched by ``torchrun``
with more than one process (it sets ``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK``
and the rendezvous address), :func:`setup` joins the process group, NCCL on
GPUs and gloo on CPUs, and puts each process on GPU ``LOCAL_RANK``. On one
process it changes nothing. How the trainer splits the work:

- ``batch_size`` keeps its meaning, the images of one discriminator step: it
  is the *global* batch. Rank ``r`` of ``w`` takes images ``r, r + w, ...`` of
  it, ``batch_size / w`` in all. Every rank draws the step's whole batch of
  noise from the one seeded stream and keeps the same share, so each rank
  sees other images and other noise, and step ``s`` trains on the same images
  and noise whatever the number of processes. That is why a checkpoint
  resumes on any number of them.
- DistributedDataParallel averages the gradients across ranks before each
  optimizer step, so every rank takes the same step and the weights stay
  identical bit for bit.
- Batch norm normalises each rank's share on its own, unless ``sync_bn``
  swaps in :class:`torch.nn.SyncBatchNorm` (GPUs only), whose statistics are
  those of the global batch.
- Rank 0 alone shows progress, calls callbacks, renders the fixed grid and
  writes checkpoints; the others wait for it at a barrier after each save.
- A stop signal (Ctrl-C, SIGTERM, SIGHUP; ``torchrun`` passes them on to
  every process) stops every rank after the same step: after each step the
  ranks agree (:func:`largest`) whether any received one, then all save
  together (rank 0 writes) and exit.
  Logged figures are averaged across ranks when they are logged.
"""

from __future__ import annotations

import inspect
import os
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel

#: How long a collective waits for the other ranks before the job fails. A
#: rank that crashed or hangs then ends the job instead of stalling it.
DEFAULT_TIMEOUT = timedelta(minutes=5)


@dataclass(frozen=True)
class Ranks:
    """This process's place among the training processes, and its device."""

    rank: int
    world_size: int
    device: torch.device

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the process that logs, draws and writes."""
        return self.rank == 0


def launched_world_size() -> int:
    """The number of processes ``torchrun`` started (``WORLD_SIZE``), else 1."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def launched_rank() -> int:
    """This process's rank among those ``torchrun`` started (``RANK``), else 0."""
    return int(os.environ.get("RANK", "0"))


def setup(device: torch.device, timeout: timedelta = DEFAULT_TIMEOUT) -> Ranks:
    """Join the process group when launched with several processes.

    ``device`` is the one asked for; a CUDA device without an index becomes
    ``cuda:LOCAL_RANK``. The group (NCCL for CUDA, gloo otherwise) is created
    unless the caller already created one, which is then used as it is.
    Without several processes this returns rank 0 of 1 and touches nothing.
    """
    initialized = dist.is_available() and dist.is_initialized()
    if not initialized and launched_world_size() <= 1:
        return Ranks(0, 1, device)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    if not initialized:
        if device.type == "cuda":
            torch.cuda.set_device(device)
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend, timeout=timeout)
    global _host_group
    if _host_group is None and dist.get_backend() != "gloo":
        # Host-side agreements (largest) go over gloo, between the CPUs: on
        # NCCL they would make each host wait for its GPU at every step.
        _host_group = dist.new_group(backend="gloo", timeout=timeout)
    return Ranks(dist.get_rank(), dist.get_world_size(), device)


# The gloo group of this process's NCCL job, made once by setup (None on gloo
# jobs, whose default group is already one between the CPUs).
_host_group: Any = None


class _Replicated(DistributedDataParallel):
    """DistributedDataParallel that also answers for the model's own methods
    (e.g. ``Discriminator.features_of``), so that a step function written for
    the bare model runs unchanged. Such calls bypass the wrapper's forward,
    which is right where they are used: on a frozen discriminator."""

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            if name == "module":
                raise
            return getattr(self.module, name)


def replicate(model: nn.Module, ranks: Ranks, sync_bn: bool = False) -> nn.Module:
    """``model`` inside DistributedDataParallel, with SyncBatchNorm if asked.

    ``model`` stays the object it was (SyncBatchNorm replaces its batch-norm
    layers in place, with the same parameters), so its ``state_dict`` has no
    ``module.`` prefix and optimizers built on its parameters still apply.
    """
    if sync_bn:
        if ranks.device.type != "cuda":
            raise ValueError(
                "sync_bn needs CUDA devices: PyTorch's SyncBatchNorm does not run "
                f"on {ranks.device.type}"
            )
        nn.SyncBatchNorm.convert_sync_batchnorm(model)
    kwargs: dict[str, Any] = {}
    # Each rank's batch-norm statistics stay its own (rank 0's are saved):
    # broadcasting them before every forward would cost a collective per call.
    if "forward_sync_buffers" in inspect.signature(DistributedDataParallel).parameters:
        kwargs["forward_sync_buffers"] = False
    else:  # PyTorch before forward_sync_buffers
        kwargs["broadcast_buffers"] = False
    cuda = ranks.device.type == "cuda"
    return _Replicated(
        model, device_ids=[ranks.device.index] if cuda else None, **kwargs
    )


def average(t: Tensor, ranks: Ranks) -> Tensor:
    """The mean of ``t`` over all ranks (a collective: every rank must call it)."""
    if ranks.distributed:
        t = t.clone()
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        t /= ranks.world_size
    return t


def largest(value: int, ranks: Ranks) -> int:
    """The largest ``value`` any rank holds (a collective: every rank must
    call it). The trainer asks it after each step whether a rank received a
    stop signal, so that all stop after the same step."""
    if not ranks.distributed:
        return value
    t = torch.tensor([value])  # on the CPU: the ranks' hosts agree, no GPU waits
    dist.all_reduce(t, op=dist.ReduceOp.MAX, group=_host_group)
    return int(t.item())


def barrier(ranks: Ranks) -> None:
    """Wait until every rank gets here (nothing to wait for on one process)."""
    if not ranks.distributed:
        return
    if dist.get_backend() == "nccl":  # NCCL's barrier runs on this rank's GPU
        dist.barrier(device_ids=[ranks.device.index])
    else:
        dist.barrier()


def shutdown() -> None:
    """Leave the process group, if this process joined one."""
    global _host_group
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()  # every group, the host group included
    _host_group = None
