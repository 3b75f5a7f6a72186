"""Checkpoints: one file, written atomically, loaded without running code.

Taught in ``book/05_losses_and_training.ipynb``; tested in ``tests/test_checkpoint.py``.

A checkpoint is a dict of tensors and plain Python values saved with
``torch.save`` and read back with ``torch.load(weights_only=True)``, whose
unpickler accepts only tensors and primitive containers, so a crafted file
cannot execute code. Writes go to a temporary file in the same folder, are
flushed to disk, and only then renamed over the old file: a crash mid-write
leaves the previous checkpoint whole. Exported weights (a safetensors file
and its JSON manifest, :func:`save_weights`) are written the same way.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from .atomic import temporary_beside

if TYPE_CHECKING:  # the models import this module's neighbours; typing only
    from .generator import Generator

FORMAT = "gankit-checkpoint"
FORMAT_VERSION = 1
#: Config fields that fix the networks' shapes: a checkpoint whose values differ
#: cannot be loaded into the models at hand.
ARCHITECTURE_FIELDS = ("z_dim", "channels", "image_size", "spectral_norm")
#: How a file ``torch.save`` wrote begins: a zip archive (its default since
#: torch 1.6) or, in the legacy format, a pickle's protocol byte.
_TORCH_SAVE_MAGIC = (b"PK\x03\x04", b"\x80")


class CheckpointError(ValueError):
    """A file that is not a usable gankit checkpoint (unreadable, unsafe, foreign)."""


class CheckpointMismatchError(CheckpointError):
    """A checkpoint of another architecture than the models it is loaded into."""


def save_checkpoint(payload: dict[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write ``payload`` to ``path`` atomically; return the path.

    The folder is created if needed. Until the final rename, the file at
    ``path`` (if any) is the previous, complete checkpoint.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": FORMAT, "format_version": FORMAT_VERSION, **payload}
    tmp = temporary_beside(path)
    try:
        with open(tmp, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of a file's bytes, as hex."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def save_weights(
    tensors: dict[str, torch.Tensor],
    weights: str | os.PathLike[str],
    manifest_path: str | os.PathLike[str],
    manifest: dict[str, Any],
    *,
    format: str,
) -> tuple[Path, Path]:
    """Write ``tensors`` as safetensors and ``manifest`` (plus the weights'
    ``sha256``) as JSON, both atomically: the two are complete in temporary
    files before either is renamed into place, so an interrupted export leaves
    the previous pair as it was (but for the instant between the renames)."""
    from safetensors.torch import save

    weights, manifest_path = Path(weights), Path(manifest_path)
    weights.parent.mkdir(parents=True, exist_ok=True)
    manifest_path.parent.mkdir(parents=True, exist_ok=True)
    tmp_weights, tmp_manifest = None, None
    try:
        tmp_weights = temporary_beside(weights)
        tmp_weights.write_bytes(save(tensors, metadata={"format": format}))
        full = {**manifest, "sha256": file_sha256(tmp_weights)}
        tmp_manifest = temporary_beside(manifest_path)
        tmp_manifest.write_text(json.dumps(full, indent=2) + "\n")
        os.replace(tmp_weights, weights)
        os.replace(tmp_manifest, manifest_path)
    except BaseException:
        for tmp in (tmp_weights, tmp_manifest):
            if tmp is not None:
                tmp.unlink(missing_ok=True)
        raise
    return weights, manifest_path


def load_checkpoint(
    path: str | os.PathLike[str], map_location: str | torch.device = "cpu"
) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`, safely.

    Raises:
        FileNotFoundError: no file at ``path``.
        CheckpointError: the file is truncated, is not a gankit checkpoint, or
            holds objects other than tensors and plain values (a pickle that
            would run code is refused before anything in it runs).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    with open(path, "rb") as f:
        head = f.read(4)
    if not head.startswith(_TORCH_SAVE_MAGIC):
        raise CheckpointError(
            f"{path} is not a gankit checkpoint: torch.save did not write it"
        )
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        # Name what was refused, but not torch's advice to retry unsafely.
        found = re.search(r"GLOBAL ([\w.]+)", str(exc))
        raise CheckpointError(
            f"{path} was refused: it holds objects other than tensors and plain "
            "values, which gankit never writes, so nothing in it was run"
            + (f" (it asks for {found.group(1)})" if found else "")
        ) from None
    except Exception as exc:  # noqa: BLE001 - torch's reader fails many ways
        raise CheckpointError(
            f"{path} is not a readable checkpoint (truncated or corrupted?): "
            f"{type(exc).__name__}: {exc}"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a gankit checkpoint")
    if payload.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(
            f"{path} has checkpoint format version {payload.get('format_version')}, "
            f"this gankit reads version {FORMAT_VERSION}"
        )
    return payload


def check_architecture(saved: dict[str, Any], current: dict[str, Any]) -> None:
    """Raise :class:`CheckpointMismatchError` naming every architecture field
    whose saved value differs from the current config's."""
    diffs = [
        f"{k}: checkpoint has {saved.get(k)!r}, model has {current.get(k)!r}"
        for k in ARCHITECTURE_FIELDS
        if saved.get(k) != current.get(k)
    ]
    if diffs:
        raise CheckpointMismatchError(
            "checkpoint is of another architecture: " + "; ".join(diffs)
        )


def load_generator(
    path: str | os.PathLike[str],
    *,
    use_ema: bool = True,
    map_location: str | torch.device = "cpu",
) -> Generator:
    """The generator stored in a checkpoint, in eval mode.

    Takes the EMA copy when the checkpoint has one and ``use_ema`` is set.
    """
    from .config import GANConfig
    from .generator import Generator

    state = load_checkpoint(path, map_location=map_location)
    cfg = GANConfig(**state["config"])
    g = Generator(cfg.z_dim, cfg.channels, cfg.image_size, cfg.init_std)
    weights = state["generator"]
    if use_ema and state.get("ema") is not None:
        weights = {
            k.removeprefix("module."): v
            for k, v in state["ema"].items()
            if k.startswith("module.")
        }
    try:
        g.load_state_dict(weights)
    except RuntimeError as exc:
        raise CheckpointMismatchError(
            f"{path}: generator weights do not fit: {exc}"
        ) from None
    return g.eval()
