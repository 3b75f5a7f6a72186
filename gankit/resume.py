"""Resuming a run: what a checkpoint's state restores, and what may change.

Beside the checkpoint format (:mod:`gankit.checkpoint`), this is the policy
:class:`gankit.Trainer` follows when it saves and continues a run: which
config fields must stay, how the optimizers' saved state meets this
trainer's device and rates, and how the random streams are carried over.
Taught in ``book/05_losses_and_training.ipynb``; tested in
``tests/test_resume.py`` (and end to end in ``tests/test_trainer.py``).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import asdict, fields, replace
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from ._version import __version__
from .callbacks import History
from .checkpoint import check_architecture
from .config import GANConfig

if TYPE_CHECKING:
    from .trainer import Trainer

#: Config fields a resumed run must keep, and why: the step count locates the
#: run in its epochs only at the batch size it was counted in, and the seed
#: fixed the weights, the noise and the data order that the run continues.
RESUME_FIXED_FIELDS: dict[str, str] = {
    "batch_size": "the step count places the run in its epoch in batches of the "
    "saved size",
    "seed": "the weights, the noise stream and the data order so far came from "
    "the saved seed",
}


def resumed_config(
    saved: Mapping[str, Any],
    changes: Mapping[str, Any] | None = None,
    config: GANConfig | None = None,
) -> GANConfig:
    """The config a run saved with ``saved`` (a config as a dict) continues with.

    Raises:
        CheckpointMismatchError: ``changes`` or ``config`` alter the
            architecture (image size, channels, widths, z_dim).
        ValueError: both ``changes`` and ``config`` are given, ``changes``
            names a field GANConfig does not have, or a field of
            ``RESUME_FIXED_FIELDS`` would change.
    """
    if changes is not None and config is not None:
        raise ValueError("give changes or config, not both")
    was = GANConfig(**saved)
    unknown = sorted(set(changes or {}) - {f.name for f in fields(GANConfig)})
    if unknown:
        raise ValueError(f"changes names {unknown}, which are not GANConfig fields")
    cfg = config or replace(was, **(changes or {}))
    check_architecture(asdict(was), asdict(cfg))
    for name, why in RESUME_FIXED_FIELDS.items():
        before, now = getattr(was, name), getattr(cfg, name)
        if now != before:
            raise ValueError(
                f"{name} cannot change when a run resumes ({before} in the "
                f"checkpoint, {now} asked for): {why}. Start a new run to train "
                "with another."
            )
    return cfg


def load_optimizer_state(
    opt: torch.optim.Optimizer,
    saved: Mapping[str, Any],
    flags: Mapping[str, Any],
    overrides: Mapping[str, Any],
) -> None:
    """Load an optimizer's saved state into ``opt``, under this trainer's
    ``flags`` (``fused``, ``capturable``: the device's, not the saver's) and
    ``overrides`` (the rates or betas the config changed; the others keep the
    saved values, as a callback may have adjusted them).

    The saved state is copied: the optimizer would otherwise train on the
    caller's tensors, and a state resumed twice would share its moments.
    Adam's moments are laid out as their parameter (a fused update walks both
    as one flat array, and the saver may have kept the other memory format).
    """
    state = copy.deepcopy(dict(saved))
    ours = {**flags, **overrides}
    state["param_groups"] = [{**g, **ours} for g in state["param_groups"]]
    opt.load_state_dict(state)
    for param, moments in opt.state.items():
        for name, value in moments.items():
            if (
                isinstance(value, Tensor)
                and value.shape == param.shape
                and value.stride() != param.stride()
            ):
                moments[name] = torch.empty_like(param).copy_(value)


def changed_hyperparameters(
    cfg: GANConfig, saved: Mapping[str, Any], rate: str
) -> dict[str, Any]:
    """The optimizer settings of ``cfg`` that differ from the saved config's:
    the learning rate named ``rate`` (``"lr_g"`` or ``"lr_d"``) and the betas."""
    out: dict[str, Any] = {}
    if getattr(cfg, rate) != saved.get(rate):
        out["lr"] = getattr(cfg, rate)
    betas = (cfg.beta1, cfg.beta2)
    if betas != (saved.get("beta1"), saved.get("beta2")):
        out["betas"] = betas
    return out


def rng_state(device: torch.device, noise: torch.Generator) -> dict[str, Any]:
    """The random streams a run continues: the global CPU generator, the
    trainer's noise stream and, on a GPU, this device's generator."""
    rng: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "noise": noise.get_state(),
    }
    if device.type == "cuda":
        # This device's alone (another machine may have fewer), as a list of
        # one, the form in which earlier versions stored every device's.
        rng["cuda"] = [torch.cuda.get_rng_state(device)]
    return rng


def restore_rng(
    rng: Mapping[str, Any],
    device: torch.device,
    noise: torch.Generator,
    fallback_seed: int,
) -> None:
    """Put back what :func:`rng_state` saved. A noise stream saved on another
    kind of device does not transfer: it restarts from ``fallback_seed``."""
    torch.set_rng_state(rng["torch"])
    try:
        noise.set_state(rng["noise"].cpu())
    except RuntimeError:
        noise.manual_seed(fallback_seed)
    cuda_rng = rng.get("cuda")
    if cuda_rng is not None and device.type == "cuda":
        if isinstance(cuda_rng, (list, tuple)):  # one device's, or (older
            # files) every device's, in the order of their indices
            index = device.index
            index = torch.cuda.current_device() if index is None else index
            cuda_rng = cuda_rng[index] if index < len(cuda_rng) else cuda_rng[0]
        torch.cuda.set_rng_state(cuda_rng, device)


def trainer_state(trainer: Trainer, unlogged: dict[str, Any] | None) -> dict[str, Any]:
    """The checkpoint's payload for ``trainer`` (see ``Trainer.state_dict``,
    which checks it first): config, step, both networks, both optimizers, the
    EMA, the random streams, the history and the ``unlogged`` figures."""
    return {
        "gankit_version": __version__,
        "config": asdict(trainer.config),
        "step": trainer.step,
        "generator": trainer.generator.state_dict(),
        "discriminator": trainer.discriminator.state_dict(),
        "opt_g": trainer.opt_g.state_dict(),
        "opt_d": trainer.opt_d.state_dict(),
        "ema": trainer.ema.state_dict() if trainer.ema is not None else None,
        "rng": rng_state(trainer.device, trainer.noise),
        "history": trainer.history.scalars(),
        "unlogged": unlogged,
    }


def load_trainer_state(trainer: Trainer, state: Mapping[str, Any]) -> None:
    """Put :func:`trainer_state`'s payload back into ``trainer``; refuses
    another architecture. The trainer's own config decides the optimizers'
    rates and betas where it changed them."""
    cfg, saved = trainer.config, state["config"]
    check_architecture(saved, asdict(cfg))
    trainer.generator.load_state_dict(state["generator"])
    trainer.discriminator.load_state_dict(state["discriminator"])
    for opt, key, rate in (
        (trainer.opt_g, "opt_g", "lr_g"),
        (trainer.opt_d, "opt_d", "lr_d"),
    ):
        changed = changed_hyperparameters(cfg, saved, rate)
        load_optimizer_state(opt, state[key], trainer.optimizer_flags, changed)
    if trainer.ema is not None and state.get("ema") is not None:
        trainer.ema.load_state_dict(state["ema"])
    trainer.step = int(state["step"])
    restore_rng(
        state["rng"], trainer.device, trainer.noise, cfg.seed + 1 + trainer.step
    )
    trainer.history = History(**{k: list(v) for k, v in state["history"].items()})
    trainer.figures.load(state.get("unlogged"), trainer.device)
