"""Walking the latent space: interpolations between latent vectors, and the
small functions behind the latent explorer widget.

Chapter 6, ``book/06_going_further.ipynb``; tested in
``tests/lessons/test_latent.py``.

gankit draws ``z`` uniformly in the cube [-1, 1]^z_dim (see :func:`sample_z`),
and :func:`gankit.check_latent` refuses anything outside it. Two ways to go
from ``z0`` to ``z1``:

- :func:`lerp`, the straight segment. The cube is convex, so the segment stays
  inside it; but in many dimensions its middle is much shorter than the
  vectors the generator was trained on (the norm of a uniform ``z`` concentrates
  around ``sqrt(z_dim / 3)``, the midpoint of two of them around
  ``sqrt(z_dim / 6)``).
- :func:`slerp`, the arc at (almost) constant norm, which keeps the path among
  typical vectors (White, 2016, "Sampling Generative Networks"). An arc can
  bulge out of the cube, so :func:`latent_path` clamps it back.
"""

from __future__ import annotations

import io
from pathlib import Path

import torch
from torch import Tensor, nn

from ..generator import sample_z
from ..modes import device_of, evaluating
from ..pictures import image_grid

MODES = ("lerp", "slerp")
# Below this angle (radians) slerp's sin(omega) is too small to divide by, and
# the arc is indistinguishable from the segment.
_PARALLEL = 1e-4


def _check_pair(z0: Tensor, z1: Tensor) -> None:
    for name, z in (("z0", z0), ("z1", z1)):
        if not isinstance(z, Tensor) or z.dim() != 1 or not z.is_floating_point():
            shape = tuple(z.shape) if isinstance(z, Tensor) else type(z).__name__
            raise ValueError(f"{name} must be a float vector (z_dim,), got {shape}")
    if z0.shape != z1.shape:
        raise ValueError(
            f"z0 and z1 must have the same length, got {z0.shape[0]} and {z1.shape[0]}"
        )


def _as_weights(t: float | Tensor, like: Tensor) -> Tensor:
    """``t`` as a column ``(T, 1)`` of interpolation weights in [0, 1]."""
    t = torch.as_tensor(t, dtype=like.dtype, device=like.device).reshape(-1, 1)
    if t.numel() == 0:
        raise ValueError("t must hold at least one weight")
    if bool(((t < 0) | (t > 1) | ~torch.isfinite(t)).any()):
        raise ValueError(f"t must lie in [0, 1], got {t.flatten().tolist()}")
    return t


def lerp(z0: Tensor, z1: Tensor, t: float | Tensor) -> Tensor:
    """Points ``(1 - t) z0 + t z1`` of the segment from ``z0`` to ``z1``.

    Shape:
        - z0, z1: ``(z_dim,)``; t: a float or ``(T,)`` weights in [0, 1].
        - Output: ``(T, z_dim)`` (``T = 1`` for a float ``t``).
    """
    _check_pair(z0, z1)
    t = _as_weights(t, z0)  # (T, 1)
    return (1 - t) * z0 + t * z1  # (T, z_dim)


def slerp(z0: Tensor, z1: Tensor, t: float | Tensor) -> Tensor:
    """Spherical interpolation: the arc from ``z0`` to ``z1`` in their plane.

    With ``omega`` the angle between them, the point at ``t`` is
    ``sin((1 - t) omega) / sin(omega) z0 + sin(t omega) / sin(omega) z1``.
    For vectors of equal norm every point keeps that norm; otherwise the norm
    moves smoothly from one to the other. Nearly parallel vectors fall back to
    :func:`lerp`; opposite ones (no unique arc) raise ``ValueError``.

    Shape:
        - z0, z1: ``(z_dim,)``; t: a float or ``(T,)`` weights in [0, 1].
        - Output: ``(T, z_dim)``; may leave [-1, 1] (see :func:`latent_path`).
    """
    _check_pair(z0, z1)
    t = _as_weights(t, z0)  # (T, 1)
    n0, n1 = z0.norm(), z1.norm()
    if n0 == 0 or n1 == 0:
        raise ValueError("slerp needs non-zero vectors: no angle at 0")
    # The angle from the unit vectors' difference and sum (Kahan's form): exact
    # at 0 and at pi, where arccos of a rounded cosine (-0.99999976 for z and
    # -z in float32) misses pi by far more than the tolerance below.
    u0, u1 = z0 / n0, z1 / n1
    omega = 2 * torch.atan2((u0 - u1).norm(), (u0 + u1).norm())
    if omega < _PARALLEL:
        return lerp(z0, z1, t.flatten())
    if torch.pi - omega < _PARALLEL:
        raise ValueError("opposite directions: no unique arc from z0 to z1")
    w0 = torch.sin((1 - t) * omega) / torch.sin(omega)  # (T, 1)
    w1 = torch.sin(t * omega) / torch.sin(omega)  # (T, 1)
    return w0 * z0 + w1 * z1  # (T, z_dim)


def latent_path(
    z0: Tensor,
    z1: Tensor,
    steps: int,
    mode: str = "slerp",
) -> Tensor:
    """``steps`` evenly spaced points from ``z0`` to ``z1`` (both included),
    clamped to the cube [-1, 1] that :func:`sample_z` draws from.

    Clamping changes nothing for ``"lerp"`` (a segment between two points of
    the cube stays in it); for ``"slerp"`` it pulls the few coordinates that
    bulge past +-1 back onto the cube's faces.

    Shape:
        - z0, z1: ``(z_dim,)`` in [-1, 1].
        - Output: ``(steps, z_dim)`` in [-1, 1].
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if steps < 2:
        raise ValueError(f"steps must be at least 2 (both ends), got {steps}")
    _check_pair(z0, z1)
    for name, z in (("z0", z0), ("z1", z1)):
        if not bool((z.abs() <= 1).all()):  # NaN fails this test too
            raise ValueError(f"{name} must lie in [-1, 1], as sample_z's do")
    t = torch.linspace(0, 1, steps, dtype=z0.dtype, device=z0.device)
    path = lerp(z0, z1, t) if mode == "lerp" else slerp(z0, z1, t)
    return path.clamp(-1.0, 1.0)  # (steps, z_dim)


@torch.no_grad()
def generate(generator: nn.Module, z: Tensor) -> Tensor:
    """Images for ``z`` with the generator in inference mode (batch norm's
    running statistics), leaving its mode as it was.

    Shape:
        - z: ``(N, z_dim)`` in [-1, 1]. Output: ``(N, C, S, S)`` in [-1, 1].
    """
    with evaluating(generator):
        device = device_of(generator)
        return generator(z.to(device)).cpu()


def interpolate(
    generator: nn.Module, z0: Tensor, z1: Tensor, steps: int = 8, mode: str = "slerp"
) -> Tensor:
    """The images along :func:`latent_path` from ``z0`` to ``z1``.

    Shape:
        - z0, z1: ``(z_dim,)`` in [-1, 1].
        - Output: ``(steps, C, S, S)`` in [-1, 1], on the CPU.
    """
    return generate(generator, latent_path(z0, z1, steps, mode))


def interpolation_grid(
    generator: nn.Module,
    starts: Tensor,
    ends: Tensor,
    steps: int = 8,
    mode: str = "slerp",
) -> Tensor:
    """One interpolation per row: ``starts[i]`` to ``ends[i]`` in ``steps``.

    Shape:
        - starts, ends: ``(R, z_dim)``. Output: ``(R * steps, C, S, S)``, row by
          row, ready for ``show_grid(images, nrow=steps)``.
    """
    if starts.dim() != 2 or starts.shape != ends.shape or len(starts) == 0:
        raise ValueError(
            "starts and ends must both have shape (R, z_dim) with R >= 1, got "
            f"{tuple(starts.shape)} and {tuple(ends.shape)}"
        )
    rows = [latent_path(a, b, steps, mode) for a, b in zip(starts, ends, strict=True)]
    return generate(generator, torch.cat(rows))


# -- the latent explorer --------------------------------------------------------
def seeded_z(seed: int, z_dim: int = 100) -> Tensor:
    """The latent vector of a seed: the same ``(z_dim,)`` vector on every machine."""
    return sample_z(1, z_dim, generator=torch.Generator().manual_seed(seed))[0]


def mix_seeds(
    seed_a: int, seed_b: int, t: float, z_dim: int = 100, mode: str = "slerp"
) -> Tensor:
    """The point at ``t`` on the path from seed ``a``'s z to seed ``b``'s,
    clamped to [-1, 1] like :func:`latent_path`.

    Shape:
        - Output: ``(1, z_dim)`` in [-1, 1], ready for the generator.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    z0, z1 = seeded_z(seed_a, z_dim), seeded_z(seed_b, z_dim)
    path = lerp(z0, z1, t) if mode == "lerp" else slerp(z0, z1, t)
    return path.clamp(-1.0, 1.0)  # (1, z_dim)


def explorer_strip(
    generator: nn.Module, seed_a: int, seed_b: int, t: float, mode: str = "slerp"
) -> Tensor:
    """What the latent explorer draws: seed ``a``'s image, the image at ``t``
    on the path between the two seeds' vectors, and seed ``b``'s image.

    Shape:
        - Output: ``(3, C, S, S)`` in [-1, 1], on the CPU.
    """
    z_dim = generator.z_dim
    z = torch.cat(
        [
            seeded_z(seed_a, z_dim)[None],  # (1, z_dim)
            mix_seeds(seed_a, seed_b, t, z_dim, mode),  # (1, z_dim)
            seeded_z(seed_b, z_dim)[None],  # (1, z_dim)
        ]
    )
    return generate(generator, z)


def png_bytes(images: Tensor, nrow: int | None = None, scale: int = 3) -> bytes:
    """A PNG of :func:`image_grid` of ``images``, enlarged ``scale`` times with
    square pixels: what an ``ipywidgets.Image`` shows."""
    from PIL import Image

    if scale < 1:
        raise ValueError(f"scale must be at least 1, got {scale}")
    grid = image_grid(images, nrow)  # (3, H, W) in [0, 1]
    pixels = grid.mul(255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    picture = Image.fromarray(pixels)
    picture = picture.resize(
        (picture.width * scale, picture.height * scale), Image.Resampling.NEAREST
    )
    buffer = io.BytesIO()
    picture.save(buffer, format="png")
    return buffer.getvalue()


def explorer_config(
    seed_a: dict[str, float],
    seed_b: dict[str, float],
    mix: dict[str, float],
    mode: str,
    generator: nn.Module,
    assets: dict[str, dict] | None,
    scale: int = 4,
) -> dict:
    """The settings of :func:`explorer_strip` for the explorer's in-page twin.

    ``book/_static/inpage/explorer.js`` draws the same strip in the reader's
    browser: the seeds' vectors (:func:`seeded_z`), the point at ``mix`` on
    the path (:func:`mix_seeds`), the shipped generator exported to ONNX.
    ``seed_a``, ``seed_b`` and ``mix`` are the sliders' ``value, min, max,
    step``; ``assets`` are the manifests of the model and the runtime,
    ``{"model": ..., "runtime": ...}``: None outside the book, or for a
    generator other than the shipped one (the exported model); the twin then
    says why it cannot run and keeps the picture the book was built with.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    model = (assets or {}).get("model") or {}
    runtime = (assets or {}).get("runtime") or {}
    script = model.get("model", "missing.onnx.js")
    return {
        "seed_a": dict(seed_a),
        "seed_b": dict(seed_b),
        "mix": dict(mix),
        "modes": ["slerp", "lerp"],
        "mode": mode,
        "z_dim": generator.z_dim,
        "image_size": generator.image_size,
        "scale": scale,
        "model": {
            "name": Path(script).name.removesuffix(".onnx.js"),
            "script": f"models/{script}",
            "sha256": model.get("sha256", ""),
            "bytes": model.get("bytes", 0),
            "input": model.get("input", {}).get("name", "z"),
            "output": model.get("output", {}).get("name", "images"),
        },
        "runtime": {
            "module_script": "vendor/onnxruntime-web/ort.wasm.bundle.min.mjs.js",
            "wasm_script": "vendor/onnxruntime-web/ort-wasm-simd-threaded.wasm.js",
            "wasm_sha256": runtime.get("wasm_sha256", ""),
        },
        "download_bytes": round(
            (model.get("bytes", 0) + runtime.get("wasm_bytes", 0)) * 4 / 3
        ),
        "unavailable": None if model else "the page has no exported model of it",
    }
