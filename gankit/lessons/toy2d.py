"""The two-player game on a plane: a toy GAN on a ring of Gaussians.

Chapter 2, ``book/02_two_player_game.ipynb``; tested in
``tests/lessons/test_toy2d.py``.

The data is a ring of ``n_modes`` small Gaussians; a small MLP generator maps
noise to points of the plane and a small MLP discriminator scores points with
a logit. Everything is small enough to train in seconds on one CPU core, so a
reader can watch the discriminator's decision surface move while the generator
chases it, and see mode collapse happen. The module also holds the theory's
two numeric checks: the optimal discriminator ``p_data / (p_data + p_g)`` and
the value ``V(D, G)`` of the game, on densities sampled on a grid.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

from ..generator import sample_z
from ..losses import generator_loss
from ..modes import device_of
from ..runtime import one_thread
from ..step import discriminator_update, generator_updates, step_figures

if TYPE_CHECKING:  # matplotlib loads only when something is drawn
    from matplotlib.animation import FuncAnimation
    from matplotlib.axes import Axes

G_LOSSES = ("non_saturating", "saturating")
#: What :func:`toy_step` returns and :class:`ToyHistory` records, one list each.
TOY_FIGURES = ("d_loss", "g_loss", "d_real", "d_fake")


def _check_points(x: Tensor, name: str) -> None:
    if not isinstance(x, Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.dim() != 2 or x.shape[1] != 2:
        raise ValueError(f"{name} must have shape (N, 2), got {tuple(x.shape)}")
    if not x.is_floating_point():
        raise ValueError(f"{name} must be a float tensor, got {x.dtype}")


# ---------------------------------------------------------------------------
# Data: a ring of Gaussians


def ring_centers(n_modes: int = 8, radius: float = 2.0) -> Tensor:
    """The centres of ``n_modes`` Gaussians evenly spaced on a circle.

    The first centre sits at angle 0, i.e. at ``(radius, 0)``.

    Shape:
        - Output: ``(n_modes, 2)``.
    """
    if n_modes < 1:
        raise ValueError(f"n_modes must be at least 1, got {n_modes}")
    if radius <= 0:
        raise ValueError(f"radius must be positive, got {radius}")
    angles = torch.arange(n_modes, dtype=torch.float32) * (2 * math.pi / n_modes)
    return radius * torch.stack([angles.cos(), angles.sin()], dim=1)  # (K, 2)


def sample_ring(
    n: int,
    n_modes: int = 8,
    radius: float = 2.0,
    std: float = 0.1,
    *,
    generator: torch.Generator | None = None,
) -> Tensor:
    """``n`` points from an equal mixture of Gaussians centred on a ring.

    Each point picks one of :func:`ring_centers` uniformly, then adds
    isotropic noise of standard deviation ``std``.

    Shape:
        - Output: ``(n, 2)``.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if std <= 0:
        raise ValueError(f"std must be positive, got {std}")
    centers = ring_centers(n_modes, radius)  # (K, 2)
    which = torch.randint(n_modes, (n,), generator=generator)  # (n,)
    noise = torch.randn(n, 2, generator=generator)  # (n, 2)
    return centers[which] + std * noise  # (n, 2)


# ---------------------------------------------------------------------------
# The two players


def _mlp(sizes: Sequence[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:  # no activation after the last layer
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class ToyGenerator(nn.Module):
    """An MLP from noise to a point of the plane.

    Args:
        z_dim: length of the noise vector (drawn with :func:`sample_z`).
        hidden: width of each hidden layer.
        depth: number of hidden layers.

    Shape:
        - Input: ``(N, z_dim)``. Output: ``(N, 2)``, unbounded.
    """

    def __init__(self, z_dim: int = 8, hidden: int = 128, depth: int = 2) -> None:
        super().__init__()
        if z_dim < 1 or hidden < 1 or depth < 1:
            raise ValueError(
                "z_dim, hidden and depth must be at least 1, "
                f"got {z_dim}, {hidden}, {depth}"
            )
        self.z_dim = z_dim
        self.net = _mlp([z_dim, *[hidden] * depth, 2])

    def forward(self, z: Tensor) -> Tensor:
        if z.dim() != 2 or z.shape[1] != self.z_dim:
            raise ValueError(
                f"z must have shape (N, {self.z_dim}), got {tuple(z.shape)}"
            )
        return self.net(z)  # (N, 2)


class ToyDiscriminator(nn.Module):
    """An MLP from a point of the plane to one real/fake logit.

    Args:
        hidden: width of each hidden layer.
        depth: number of hidden layers.

    Shape:
        - Input: ``(N, 2)``. Output: ``(N,)`` logits; ``sigmoid`` gives P(real).
    """

    def __init__(self, hidden: int = 128, depth: int = 2) -> None:
        super().__init__()
        if hidden < 1 or depth < 1:
            raise ValueError(
                f"hidden and depth must be at least 1, got {hidden}, {depth}"
            )
        self.net = _mlp([2, *[hidden] * depth, 1])

    def forward(self, x: Tensor) -> Tensor:
        _check_points(x, "x")
        return self.net(x).squeeze(1)  # (N, 1) -> (N,)


# ---------------------------------------------------------------------------
# Training


@dataclass(frozen=True)
class ToyConfig:
    """Settings of a toy run; vary them with ``dataclasses.replace``."""

    n_modes: int = 8  # Gaussians on the ring
    radius: float = 2.0  # radius of the ring
    std: float = 0.1  # standard deviation of each Gaussian
    z_dim: int = 8  # length of the generator's noise vector
    hidden: int = 128  # width of both MLPs' hidden layers
    depth: int = 2  # hidden layers of both MLPs
    batch_size: int = 256  # real and generated points per step
    lr_d: float = 2e-3  # Adam learning rate of the discriminator
    lr_g: float = 1e-3  # Adam learning rate of the generator
    beta1: float = 0.5  # Adam's beta1, as in the article
    g_steps_per_d_step: int = 1  # generator updates after each discriminator update
    g_loss: str = "non_saturating"  # or "saturating", the minimax form
    label_smoothing: float = 0.0  # one-sided smoothing of the real labels
    seed: int = 0  # seeds the weights, the data and the noise

    def __post_init__(self) -> None:
        if self.g_loss not in G_LOSSES:
            raise ValueError(f"g_loss must be one of {G_LOSSES}, got {self.g_loss!r}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {self.batch_size}")
        if self.g_steps_per_d_step < 1:
            raise ValueError(
                f"g_steps_per_d_step must be at least 1, got {self.g_steps_per_d_step}"
            )
        if self.lr_d <= 0 or self.lr_g <= 0:
            raise ValueError(
                f"learning rates must be positive, got {self.lr_d}, {self.lr_g}"
            )


@dataclass
class ToySnapshot:
    """The game at one step: G's points for a fixed noise batch, and D's surface.

    ``fake`` is ``(n_fixed, 2)``; ``surface`` is ``sigmoid(D)`` on the grid of
    :func:`decision_surface`, ``(resolution, resolution)``.
    """

    step: int
    fake: Tensor
    surface: Tensor


@dataclass
class ToyHistory:
    """What :func:`train_toy` recorded, one entry per step, and the trained
    players. ``d_real`` and ``d_fake`` are D's mean probability on the real and
    the generated batch."""

    config: ToyConfig
    generator: ToyGenerator
    discriminator: ToyDiscriminator
    extent: float
    step: list[int] = field(default_factory=list)
    d_loss: list[float] = field(default_factory=list)
    g_loss: list[float] = field(default_factory=list)
    d_real: list[float] = field(default_factory=list)
    d_fake: list[float] = field(default_factory=list)
    snapshots: list[ToySnapshot] = field(default_factory=list, repr=False)


def snapshot_schedule(steps: int, n_snapshots: int) -> list[int]:
    """``n_snapshots`` steps evenly spread over ``[0, steps]``, both ends included."""
    if steps < 0 or n_snapshots < 0:
        raise ValueError(
            f"steps and n_snapshots must be >= 0, got {steps}, {n_snapshots}"
        )
    if n_snapshots == 0:
        return []
    if n_snapshots == 1:
        return [steps]
    return sorted({round(i * steps / (n_snapshots - 1)) for i in range(n_snapshots)})


def build_toy_models(cfg: ToyConfig) -> tuple[ToyGenerator, ToyDiscriminator]:
    """The toy generator and discriminator for ``cfg``, seeded by ``cfg.seed``.

    The global RNG is left as it was.
    """
    with torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(cfg.seed)  # the CPU's alone, as forked
        g = ToyGenerator(cfg.z_dim, cfg.hidden, cfg.depth)
        d = ToyDiscriminator(cfg.hidden, cfg.depth)
    return g, d


def toy_step(
    generator: ToyGenerator,
    discriminator: ToyDiscriminator,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    real: Tensor,
    z: Tensor,
    cfg: ToyConfig,
) -> dict[str, float]:
    """One round of the game: D steps up ``V`` once, then G steps against it.

    D is a real/fake classifier, so raising ``V`` is lowering its binary
    cross-entropy on a real and a generated batch. G then takes
    ``cfg.g_steps_per_d_step`` steps on ``cfg.g_loss`` against the updated D.
    Both halves are the DCGAN's own (:mod:`gankit.step`), given points of the
    plane instead of images. Returns the losses and D's mean probability on
    each batch, before its update.

    Shape:
        - real: ``(B, 2)``; z: ``(B, z_dim)``.
    """
    d = discriminator_update(
        generator, discriminator, opt_d, real, z, cfg.label_smoothing
    )
    g_loss = generator_updates(
        generator,
        discriminator,
        opt_g,
        d.fake,
        z,
        cfg.g_steps_per_d_step,
        lambda points: generator_loss(discriminator(points), cfg.g_loss),
    )
    figures = step_figures(d, g_loss)
    return {name: figures[name].item() for name in TOY_FIGURES}


@one_thread()
def train_toy(
    steps: int,
    cfg: ToyConfig | None = None,
    *,
    n_snapshots: int = 6,
    n_fixed: int = 512,
    extent: float = 3.0,
    resolution: int = 60,
) -> ToyHistory:
    """Train a toy GAN on the ring for ``steps`` rounds of :func:`toy_step`.

    Every round sees a fresh real batch and fresh noise. ``n_snapshots``
    snapshots, the first before any training and the last at the end, record
    G's points for ``n_fixed`` fixed noise vectors and D's surface over
    ``[-extent, extent]^2``. Runs on the CPU, on one thread; the same ``cfg``
    gives the same run.
    """
    cfg = cfg or ToyConfig()
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    g, d = build_toy_models(cfg)
    opt_g = torch.optim.Adam(g.parameters(), lr=cfg.lr_g, betas=(cfg.beta1, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=cfg.lr_d, betas=(cfg.beta1, 0.999))
    rng = torch.Generator().manual_seed(cfg.seed)
    fixed_z = sample_z(n_fixed, cfg.z_dim, generator=rng)  # (n_fixed, z_dim)
    history = ToyHistory(cfg, g, d, extent)
    when = set(snapshot_schedule(steps, n_snapshots))

    for step in range(steps + 1):
        if step in when:
            with torch.no_grad():
                fake = g(fixed_z)  # (n_fixed, 2)
            surface = decision_surface(d, extent, resolution)[2]  # (R, R)
            history.snapshots.append(ToySnapshot(step, fake, surface))
        if step == steps:
            break
        real = sample_ring(  # (B, 2)
            cfg.batch_size, cfg.n_modes, cfg.radius, cfg.std, generator=rng
        )
        z = sample_z(cfg.batch_size, cfg.z_dim, generator=rng)  # (B, z_dim)
        record = toy_step(g, d, opt_g, opt_d, real, z, cfg)
        history.step.append(step + 1)
        for name, value in record.items():
            getattr(history, name).append(value)
    return history


@torch.no_grad()
def toy_samples(generator: ToyGenerator, n: int, *, seed: int = 1234) -> Tensor:
    """``n`` points from ``generator`` for noise seeded by ``seed``.

    Shape:
        - Output: ``(n, 2)``.
    """
    rng = torch.Generator().manual_seed(seed)  # the same points on any device
    return generator(
        sample_z(n, generator.z_dim, generator=rng).to(device_of(generator))
    )


# ---------------------------------------------------------------------------
# Looking at the game


@torch.no_grad()
def decision_surface(
    discriminator: nn.Module, extent: float = 3.0, resolution: int = 60
) -> tuple[Tensor, Tensor, Tensor]:
    """``sigmoid(D)`` on a square grid over ``[-extent, extent]^2``.

    Returns ``(xx, yy, prob)``, ready for ``ax.contourf(xx, yy, prob)``.

    Shape:
        - Outputs: three ``(resolution, resolution)`` tensors; ``prob`` in [0, 1].
    """
    if extent <= 0:
        raise ValueError(f"extent must be positive, got {extent}")
    if resolution < 2:
        raise ValueError(f"resolution must be at least 2, got {resolution}")
    axis = torch.linspace(
        -extent, extent, resolution, device=device_of(discriminator)
    )  # (R,)
    yy, xx = torch.meshgrid(axis, axis, indexing="ij")  # (R, R) each
    points = torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1)  # (R*R, 2)
    prob = torch.sigmoid(discriminator(points)).reshape(resolution, resolution)
    return xx, yy, prob


@dataclass(frozen=True)
class Coverage:
    """How well a set of points covers the ring's modes (see :func:`mode_coverage`).

    ``counts[k]`` is the number of high-quality points nearest mode ``k``;
    ``covered[k]`` says whether that is enough for the mode to count.
    """

    counts: Tensor  # (K,) int64
    covered: Tensor  # (K,) bool
    high_quality: float  # share of all points within k std of a centre

    @property
    def modes(self) -> int:
        """How many modes are covered."""
        return int(self.covered.sum())


def mode_coverage(
    samples: Tensor,
    centers: Tensor,
    std: float,
    *,
    k: float = 3.0,
    min_share: float = 0.01,
) -> Coverage:
    """Which modes ``samples`` cover, and how many of them are good.

    A point is *high quality* when it lies within ``k * std`` of its nearest
    centre. A mode is *covered* when at least ``min_share`` of all the points
    are high-quality points of that mode (a perfect generator puts
    ``1 / K`` of its points on each). High quality within 3 standard
    deviations is the measure Srivastava et al. (2017, VEEGAN) used on this
    ring; the ``min_share`` threshold keeps a few stray points from counting
    as a covered mode.

    Shape:
        - samples: ``(N, 2)``, N >= 1; centers: ``(K, 2)``.
    """
    _check_points(samples, "samples")
    _check_points(centers, "centers")
    if samples.shape[0] == 0 or centers.shape[0] == 0:
        raise ValueError("samples and centers must hold at least one point each")
    if std <= 0 or k <= 0:
        raise ValueError(f"std and k must be positive, got {std}, {k}")
    if not 0 < min_share <= 1:
        raise ValueError(f"min_share must be in (0, 1], got {min_share}")
    if not bool(torch.isfinite(samples).all()):
        raise ValueError("samples must be finite")
    centers = centers.to(samples.device)
    dist = torch.cdist(samples.detach().float(), centers.float())  # (N, K)
    nearest_dist, nearest = dist.min(dim=1)  # (N,), (N,)
    good = nearest_dist <= k * std  # (N,)
    counts = torch.bincount(nearest[good], minlength=centers.shape[0])  # (K,)
    covered = counts >= min_share * samples.shape[0]
    return Coverage(counts, covered, float(good.float().mean()))


def plot_snapshot(
    snapshot: ToySnapshot,
    real: Tensor | None = None,
    *,
    extent: float = 3.0,
    ax: Axes | None = None,
) -> Axes:
    """Draw one snapshot: D's probability "real" as filled contours (blue 0,
    white 1/2, red 1), the real points in black and G's points in green.
    Returns the Axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(3, 3))
    res = snapshot.surface.shape[0]
    axis = torch.linspace(-extent, extent, res)
    ax.contourf(
        axis,
        axis,
        snapshot.surface,
        levels=torch.linspace(0, 1, 11).tolist(),
        cmap="RdBu_r",
        alpha=0.7,
    )
    if real is not None:
        ax.scatter(real[:, 0], real[:, 1], s=2, c="black", alpha=0.4, lw=0)
    ax.scatter(snapshot.fake[:, 0], snapshot.fake[:, 1], s=3, c="#1a9850", lw=0)
    ax.set_xlim(-extent, extent)
    ax.set_ylim(-extent, extent)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"step {snapshot.step}")
    return ax


def animate_toy(
    history: ToyHistory, real: Tensor | None = None, interval: int = 400
) -> FuncAnimation:
    """A matplotlib animation of ``history.snapshots`` (see :func:`plot_snapshot`).

    Show it in a notebook with ``IPython.display.HTML(anim.to_jshtml())``.
    """
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation

    if not history.snapshots:
        raise ValueError("no snapshots to animate: train with n_snapshots >= 1")
    fig, ax = plt.subplots(figsize=(3.5, 3.5))

    def update(i: int):
        ax.clear()
        plot_snapshot(history.snapshots[i], real, extent=history.extent, ax=ax)
        return ()

    anim = FuncAnimation(
        fig, update, frames=len(history.snapshots), interval=interval, blit=False
    )
    plt.close(fig)
    return anim


# ---------------------------------------------------------------------------
# The theory, on densities sampled on a grid


def optimal_discriminator(p_data: Tensor, p_g: Tensor) -> Tensor:
    """The discriminator that maximises ``V(D, G)`` for a fixed generator:
    ``D*(x) = p_data(x) / (p_data(x) + p_g(x))``.

    Where both densities are 0 nothing is ever seen and any value is optimal;
    we return 1/2 there.

    Shape:
        - p_data, p_g: the same shape, non-negative. Output: that shape, in [0, 1].
    """
    if p_data.shape != p_g.shape:
        raise ValueError(
            f"p_data and p_g must have the same shape, got {tuple(p_data.shape)} "
            f"and {tuple(p_g.shape)}"
        )
    if bool((p_data < 0).any()) or bool((p_g < 0).any()):
        raise ValueError("densities must be non-negative")
    # Counts (a histogram) work too: computed in at least float32.
    dtype = torch.promote_types(
        torch.promote_types(p_data.dtype, p_g.dtype), torch.float32
    )
    p_data, p_g = p_data.to(dtype), p_g.to(dtype)
    total = p_data + p_g
    return torch.where(
        total > 0, p_data / total.clamp_min(torch.finfo(total.dtype).tiny), 0.5
    )


def value_function(d: Tensor, p_data: Tensor, p_g: Tensor, dx: float) -> Tensor:
    """``V(D, G) = E_data[log D(x)] + E_g[log(1 - D(x))]`` as a Riemann sum.

    ``d``, ``p_data`` and ``p_g`` are sampled on the same evenly spaced grid of
    step ``dx``. Where a density is 0 its term counts 0, even if ``D`` is 0 or 1.
    ``D`` is kept one float resolution away from 0 and 1: a ratio such as
    :func:`optimal_discriminator` rounds to exactly 1 where ``p_g`` is merely
    tiny next to ``p_data``, and the term there, really negligible, would
    otherwise come out as ``-inf``.

    Shape:
        - d, p_data, p_g: the same shape. Output: a scalar.
    """
    if not d.shape == p_data.shape == p_g.shape:
        raise ValueError(
            "d, p_data and p_g must have the same shape, got "
            f"{tuple(d.shape)}, {tuple(p_data.shape)}, {tuple(p_g.shape)}"
        )
    if dx <= 0:
        raise ValueError(f"dx must be positive, got {dx}")
    if bool((d < 0).any()) or bool((d > 1).any()):
        raise ValueError("d must hold probabilities in [0, 1]")
    eps = torch.finfo(d.dtype).eps if d.is_floating_point() else 0.0
    d = d.clamp(eps, 1 - eps)
    return (torch.xlogy(p_data, d) + torch.xlogy(p_g, 1 - d)).sum() * dx
