"""The trained generators gankit ships, loaded offline, and how they are made.

Shown in ``book/05_losses_and_training.ipynb``; tested in ``tests/test_shipped.py``.

Training the article's DCGAN for real takes a GPU; a reader on a laptop still
gets to see and measure its result. A shipped generator is two files in
``gankit/weights/``:

- ``<name>_generator.safetensors``: the weights, stored in float16 to keep the
  package small and read back as float32; safetensors holds tensors only, so
  loading runs no code.
- ``<name>_generator.json``: the manifest: the training config, steps, seed,
  the command that trained it, its measured figures (:func:`gankit.metrics.evaluate`),
  the gankit version, and the weights' SHA-256, checked on load.

:func:`export_generator` writes both from a training checkpoint::

    from gankit import evaluate, export_generator, load_generator

    ckpt = "runs/mnist/checkpoint.pt"
    figures = evaluate(load_generator(ckpt), "mnist", n=10_000)
    export_generator(
        ckpt,
        "gankit/weights/mnist_generator",
        {"command": "python -m gankit train --dataset mnist ...", "figures": figures},
    )
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file

from ._version import __version__
from .checkpoint import (
    CheckpointError,
    file_sha256,
    load_checkpoint,
    load_generator,
    save_weights,
)
from .config import GANConfig
from .generator import Generator

#: Names of the generators gankit ships.
PRETRAINED: tuple[str, ...] = ("mnist",)
#: Where they live inside the package.
WEIGHTS_DIR = Path(__file__).parent / "weights"
FORMAT = "gankit-generator"
FORMAT_VERSION = 1
#: Manifest keys :func:`export_generator` fills in itself.
RESERVED_KEYS = (
    "format",
    "format_version",
    "name",
    "config",
    "steps",
    "seed",
    "ema",
    "dtype",
    "gankit_version",
    "trained_with_gankit",
    "sha256",
)


def pretrained_paths(
    name: str = "mnist", folder: str | os.PathLike[str] | None = None
) -> tuple[Path, Path]:
    """``(weights.safetensors, manifest.json)`` of the shipped generator ``name``.

    Raises:
        ValueError: ``name`` is not one gankit ships.
    """
    if name not in PRETRAINED:
        raise ValueError(
            f"no pretrained generator named {name!r}; gankit ships {list(PRETRAINED)}"
        )
    stem = Path(folder) if folder is not None else WEIGHTS_DIR
    stem = stem / f"{name}_generator"
    return stem.with_suffix(".safetensors"), stem.with_suffix(".json")


def pretrained_manifest(
    name: str = "mnist", folder: str | os.PathLike[str] | None = None
) -> dict[str, Any]:
    """The manifest of the shipped generator ``name``: config, steps, seed,
    command, figures, gankit version.

    Raises:
        ValueError: an unknown ``name``.
        FileNotFoundError: the generator is not installed.
    """
    weights, manifest = pretrained_paths(name, folder)
    for path in (weights, manifest):
        if not path.is_file():
            raise FileNotFoundError(
                f"the pretrained {name} generator is not installed: {path} is "
                "missing. It is made by training (python -m gankit train) and "
                "exporting the checkpoint with gankit.export_generator; "
                f"until then, train a generator yourself or load a checkpoint"
            )
    try:
        data = json.loads(manifest.read_text())
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        raise CheckpointError(f"{manifest} is not readable JSON: {exc}") from None
    if (
        not isinstance(data, dict)
        or data.get("format") != FORMAT
        or data.get("format_version") != FORMAT_VERSION
    ):
        raise CheckpointError(
            f"{manifest} is not a gankit generator manifest of format version "
            f"{FORMAT_VERSION}"
        )
    missing = [k for k in ("sha256", "config") if k not in data]
    if missing or not isinstance(data["config"], dict):
        raise CheckpointError(
            f"{manifest} lacks what a generator manifest records: "
            f"{', '.join(missing) or 'config as a mapping'}"
        )
    return data


def pretrained(
    name: str = "mnist",
    device: str | torch.device = "cpu",
    *,
    folder: str | os.PathLike[str] | None = None,
) -> Generator:
    """The shipped, fully trained generator ``name``, float32, in eval mode.

    Offline and safe: nothing is downloaded, and the weights must match the
    SHA-256 their manifest records. ``folder`` reads another export than the
    package's (e.g. one of your own).

    Raises:
        ValueError: an unknown ``name``.
        FileNotFoundError: the weights or manifest are missing.
        CheckpointError: the weights do not match their manifest.
    """
    manifest = pretrained_manifest(name, folder)
    weights, _ = pretrained_paths(name, folder)
    if manifest["sha256"] != file_sha256(weights):
        raise CheckpointError(
            f"{weights} does not match the SHA-256 in its manifest: the file was "
            "changed or is corrupted"
        )
    try:
        cfg = GANConfig(**manifest["config"])
    except (TypeError, ValueError) as exc:
        raise CheckpointError(
            f"the config in {name}'s manifest is not valid: {exc}"
        ) from None
    with torch.random.fork_rng(devices=[]):  # weights are overwritten below
        g = Generator(cfg.z_dim, cfg.channels, cfg.image_size, cfg.init_std)
    state = {
        k: v.float() if v.is_floating_point() else v
        for k, v in load_file(str(weights)).items()
    }
    try:
        g.load_state_dict(state)
    except RuntimeError as exc:
        raise CheckpointError(f"{weights} does not fit its config: {exc}") from None
    return g.to(device).eval()


def export_generator(
    checkpoint_path: str | os.PathLike[str],
    out_stem: str | os.PathLike[str],
    manifest_extra: dict[str, Any] | None = None,
    *,
    half: bool = True,
    use_ema: bool = True,
) -> tuple[Path, Path]:
    """Write a checkpoint's generator as ``out_stem.safetensors`` + ``out_stem.json``.

    Args:
        checkpoint_path: a training checkpoint (``Trainer.save``).
        out_stem: path without suffix, e.g. ``gankit/weights/mnist_generator``.
        manifest_extra: JSON-able facts to record, e.g. ``{"command": ...,
            "figures": evaluate(...)}``; the config, steps, seed, EMA flag,
            dtype, versions and SHA-256 come from the checkpoint and the export.
        half: store float16 (half the size; outputs change by ~1e-3).
        use_ema: export the EMA generator when the checkpoint has one.

    Returns:
        The paths of the weights and the manifest.

    Raises:
        ValueError: ``manifest_extra`` overrides a key the export fills in, or
            is not JSON-able; the weights overflow float16.
    """
    extra = dict(manifest_extra or {})
    clash = sorted(set(extra) & set(RESERVED_KEYS))
    if clash:
        raise ValueError(
            f"manifest_extra must not set {clash}: export_generator fills them in"
        )
    try:
        json.dumps(extra)
    except TypeError as exc:
        raise ValueError(f"manifest_extra must be JSON-able: {exc}") from None
    state = load_checkpoint(checkpoint_path)
    g = load_generator(checkpoint_path, use_ema=use_ema)
    tensors = {}
    for k, v in g.state_dict().items():
        v = v.detach().cpu().contiguous()  # safetensors stores the plain layout
        if half and v.is_floating_point():
            v = v.half()
            if not bool(torch.isfinite(v).all()):
                raise ValueError(f"{k} overflows float16; export with half=False")
        tensors[k] = v.contiguous()
    out_stem = Path(out_stem)
    weights = out_stem.with_name(out_stem.name + ".safetensors")
    manifest_path = out_stem.with_name(out_stem.name + ".json")
    config = state["config"]
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": out_stem.name,
        "config": config,
        "steps": int(state["step"]),
        "seed": config["seed"],
        "ema": bool(use_ema and state.get("ema") is not None),
        "dtype": "float16" if half else "float32",
        "gankit_version": __version__,
        "trained_with_gankit": state.get("gankit_version"),
        **extra,
    }
    return save_weights(tensors, weights, manifest_path, manifest, format=FORMAT)
