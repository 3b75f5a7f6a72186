"""The warm-up: a forged party ticket and the door that judges it, as a 1-D GAN.

Chapter 1, ``book/01_warm_up.ipynb``; tested in ``tests/lessons/test_warmup.py``.

A ticket is one number (its *shade*). Real tickets come from a fixed normal
distribution. The forger (the generator) owns two parameters, a mean and a
spread, and draws its tickets as ``mean + std * z`` from noise ``z ~ N(0, 1)``.
The door (the discriminator) is a tiny MLP that returns a logit; its verdict is
``D(x) = sigmoid(logit)``, the probability that ticket ``x`` is real. The
feedback the forger gets is the gradient of the generator loss with respect to
its two parameters: stepping against it makes the door's verdict on the forged
tickets go up.

Every tensor of tickets has shape ``(N,)``: one number per ticket.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

from ..losses import discriminator_loss, generator_loss
from ..runtime import one_thread
from ..step import discriminator_update, generator_updates

if TYPE_CHECKING:  # matplotlib loads only when something is drawn
    from matplotlib.animation import FuncAnimation
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "REAL_TICKETS",
    "Door",
    "DoorReport",
    "Forger",
    "Snapshot",
    "TicketDistribution",
    "WarmupHistory",
    "animate_warmup",
    "fit_door",
    "play_round",
    "plot_tickets",
    "ticket_game_config",
    "train_warmup",
    "try_the_door",
]


ADAM_BETAS = (0.5, 0.999)  # Adam's betas for door and forger, as the article's
REPORT_SEED = 0  # seeds the forged tickets try_the_door sends by default


def _check_tickets(x: Tensor, name: str = "tickets") -> None:
    if not isinstance(x, Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.dim() != 1:
        raise ValueError(
            f"{name} must have shape (N,), one number per ticket; got {tuple(x.shape)}"
        )
    if not x.is_floating_point():
        raise ValueError(f"{name} must be a float tensor, got {x.dtype}")


def _check_spread(mean: float, std: float) -> None:
    if not math.isfinite(mean):
        raise ValueError(f"mean must be a finite number, got {mean}")
    if not (math.isfinite(std) and std > 0):
        raise ValueError(f"std must be a finite number > 0, got {std}")


def _check_count(n: int, name: str = "n") -> None:
    if n < 1:
        raise ValueError(f"{name} must be at least 1, got {n}")


def _noise(n: int, generator: torch.Generator | None) -> Tensor:
    """The forger's noise: ``n`` draws of ``z ~ N(0, 1)``. Shape: output ``(n,)``."""
    _check_count(n)
    return torch.randn(n, generator=generator)


def _normal_density(x: Tensor, mean: float, std: float) -> Tensor:
    return torch.exp(-0.5 * ((x - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))


@dataclass(frozen=True)
class TicketDistribution:
    """The real tickets: shades drawn from ``N(mean, std**2)``."""

    mean: float = 3.0  # the shade real tickets are printed with
    std: float = 0.5  # how much it varies from one real ticket to the next

    def __post_init__(self) -> None:
        _check_spread(self.mean, self.std)

    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """``n`` real tickets. Shape: output ``(n,)``."""
        _check_count(n)
        return self.mean + self.std * torch.randn(n, generator=generator)

    def density(self, x: Tensor) -> Tensor:
        """The probability density of real tickets at ``x``. Shape: ``(G,) -> (G,)``."""
        _check_tickets(x, "x")
        return _normal_density(x, self.mean, self.std)


REAL_TICKETS = TicketDistribution()  # the party's tickets, used by the chapter


class Forger(nn.Module):
    """The generator: turns noise into tickets with two learnable parameters.

    The spread is stored as its logarithm so that gradient steps can never
    make it negative; :attr:`std` reads it back.

    Args:
        mean: the forged tickets' mean shade to start from.
        std: their spread (standard deviation), > 0.

    Shape:
        - Input: noise ``z`` of shape ``(N,)``, drawn from ``N(0, 1)``.
        - Output: forged tickets ``(N,)``.
    """

    def __init__(self, mean: float = 0.0, std: float = 1.0) -> None:
        super().__init__()
        _check_spread(float(mean), float(std))
        self.mean = nn.Parameter(torch.tensor(float(mean)))
        self.log_std = nn.Parameter(torch.tensor(math.log(std)))

    @property
    def std(self) -> Tensor:
        """The spread of the forged tickets, a 0-dim tensor (differentiable)."""
        return self.log_std.exp()

    def forward(self, z: Tensor) -> Tensor:
        _check_tickets(z, "z")
        return self.mean + self.std * z  # (N,)

    def sample(
        self,
        n: int,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """``n`` forged tickets from fresh noise. Shape: output ``(n,)``."""
        return self(_noise(n, generator))

    def density(self, x: Tensor) -> Tensor:
        """The density of forged tickets at ``x``. Shape: ``(G,) -> (G,)``."""
        _check_tickets(x, "x")
        with torch.no_grad():
            return _normal_density(x, self.mean.item(), self.std.item())


class Door(nn.Module):
    """The discriminator: a tiny MLP that says how real a ticket looks.

    It returns logits; ``torch.sigmoid`` of a logit is the verdict ``D(x)``,
    the probability that the ticket is real. One hidden layer lets it learn a
    bump around the real shades, so it can notice a wrong spread as well as a
    wrong mean.

    Args:
        hidden: width of the hidden layer.

    Shape:
        - Input: tickets ``(N,)``.
        - Output: logits ``(N,)``.
    """

    def __init__(self, hidden: int = 16) -> None:
        super().__init__()
        if hidden < 1:
            raise ValueError(f"hidden must be at least 1, got {hidden}")
        self.net = nn.Sequential(
            nn.Linear(1, hidden),
            nn.Tanh(),
            nn.Linear(hidden, 1),
        )

    def forward(self, x: Tensor) -> Tensor:
        _check_tickets(x)
        h = self.net(x.unsqueeze(1))  # (N, 1) -> (N, 1)
        return h.squeeze(1)  # (N,)

    def verdict(self, x: Tensor) -> Tensor:
        """``D(x)``: the probability that each ticket is real, no gradients.

        Shape: ``(N,) -> (N,)``, values in (0, 1).
        """
        with torch.no_grad():
            return torch.sigmoid(self(x))


def _new_door(hidden: int, seed: int) -> Door:
    # Initialise from the seed without touching the global random state.
    with torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(seed)  # the CPU's alone, as forked
        return Door(hidden)


@one_thread()
def fit_door(
    forger: Forger,
    real: TicketDistribution = REAL_TICKETS,
    steps: int = 200,
    *,
    batch_size: int = 256,
    lr: float = 0.05,
    hidden: int = 16,
    seed: int = 0,
) -> Door:
    """A fresh door trained for ``steps`` steps to tell real tickets from this
    forger's, while the forger stays as it is (the guards study your forgery)."""
    _check_count(steps, "steps")
    _check_count(batch_size, "batch_size")
    door = _new_door(hidden, seed)
    opt = torch.optim.Adam(door.parameters(), lr=lr, betas=ADAM_BETAS)
    noise = torch.Generator().manual_seed(seed + 1)
    for _ in range(steps):
        z = _noise(batch_size, noise)
        # The forger stays as it is: the half-step detaches its tickets.
        discriminator_update(forger, door, opt, real.sample(batch_size, noise), z, 0.0)
    return door


@dataclass(frozen=True)
class DoorReport:
    """What the friend brings back from the door.

    ``grad_mean`` and ``grad_std`` are the gradient of the generator loss with
    respect to the forger's mean and spread; the forger improves by stepping
    against them, so ``-grad_mean > 0`` means "move the mean right".
    """

    p_real: float  # mean D(x) over the forged tickets: how real they look
    g_loss: float  # the generator loss (-log D(x) averaged, by default)
    grad_mean: float  # d g_loss / d mean
    grad_std: float  # d g_loss / d std

    def advice(self, tolerance: float = 0.02) -> str:
        """The gradient in words, e.g. ``"move the mean right (1.23), narrow the
        spread (0.45)"``; a gradient smaller than ``tolerance`` is "keep"."""

        def say(grad: float, up: str, down: str, what: str) -> str:
            if abs(grad) < tolerance:
                return f"keep the {what} ({abs(grad):.2f})"
            return f"{up if grad < 0 else down} ({abs(grad):.2f})"

        mean = say(self.grad_mean, "move the mean right", "move the mean left", "mean")
        std = say(self.grad_std, "widen the spread", "narrow the spread", "spread")
        return f"{mean}, {std}"


@one_thread()
def try_the_door(
    forger: Forger,
    door: Door,
    n: int = 4096,
    *,
    generator: torch.Generator | None = None,
    kind: str = "non_saturating",
) -> DoorReport:
    """Send ``n`` forgeries to the door: its verdict and the forger's feedback.

    The feedback is the gradient of :func:`gankit.losses.generator_loss` with
    respect to the forger's mean and spread. Neither model's ``.grad`` is
    touched. The default ``generator`` is seeded with 0, so the same forger and
    door always get the same report.
    """
    _check_count(n)
    if generator is None:
        generator = torch.Generator().manual_seed(REPORT_SEED)
    forged = forger.sample(n, generator)  # (n,)
    logits = door(forged)  # (n,)
    loss = generator_loss(logits, kind=kind)
    params = [forger.mean, forger.log_std]
    grad_mean, grad_log_std = torch.autograd.grad(loss, params)
    std = forger.std.item()
    return DoorReport(
        p_real=torch.sigmoid(logits).mean().item(),
        g_loss=loss.item(),
        grad_mean=grad_mean.item(),
        # d/d std = d/d log_std * d log_std / d std = d/d log_std / std
        grad_std=grad_log_std.item() / std,
    )


@dataclass(frozen=True)
class Snapshot:
    """The game at one step, for pictures: the forger and the door's verdicts."""

    step: int
    mean: float  # forged mean
    std: float  # forged spread
    verdict: Tensor  # D(x) on WarmupHistory.grid, shape (G,)


@dataclass
class WarmupHistory:
    """What :func:`train_warmup` records.

    The lists hold one entry per step, starting with step 0 before any
    update. ``mean`` and ``std`` are the forger's after the step; the losses
    are those the step minimised; ``d_real`` and ``d_fake`` are the door's mean
    verdicts on the step's real and forged batches, after the door's update
    and before the forger's.
    """

    real: TicketDistribution
    grid: Tensor  # (G,) shades where snapshots evaluate the door
    step: list[int] = field(default_factory=list)
    mean: list[float] = field(default_factory=list)
    std: list[float] = field(default_factory=list)
    d_loss: list[float] = field(default_factory=list)
    g_loss: list[float] = field(default_factory=list)
    d_real: list[float] = field(default_factory=list)
    d_fake: list[float] = field(default_factory=list)
    snapshots: list[Snapshot] = field(default_factory=list)
    forger: Forger | None = None  # the forger after the last step
    door: Door | None = None  # the door after the last step


def _snapshot_steps(steps: int, frames: int) -> set[int]:
    frames = max(2, min(frames, steps + 1))
    return {round(i * steps / (frames - 1)) for i in range(frames)}


@one_thread()
def train_warmup(
    steps: int,
    seed: int = 0,
    *,
    real: TicketDistribution = REAL_TICKETS,
    start: tuple[float, float] = (0.0, 1.0),
    batch_size: int = 256,
    lr_forger: float = 0.02,
    lr_door: float = 0.05,
    hidden: int = 16,
    frames: int = 20,
    grid: Tensor | None = None,
) -> WarmupHistory:
    """Play ``steps`` rounds of the game: the door learns, then the forger.

    Each step is the DCGAN's, on tickets: the door updates once on a real and a
    forged batch (:func:`gankit.step.discriminator_update`, no label smoothing,
    so that the door's best answer at the end is exactly 1/2), then the forger
    once on a fresh forged batch (:func:`gankit.step.generator_updates`, with
    :func:`gankit.losses.generator_loss`), as your friend brings a new ticket to
    the door each round. Both use Adam with ``beta1 = 0.5``, as the article's
    DCGAN does; the door learns faster than the forger, which keeps the forger
    from overshooting.

    Args:
        steps: rounds of the game.
        seed: seeds the door's weights and all the noise; the same seed gives
            the same history.
        real: the real tickets.
        start: the forger's initial ``(mean, std)``.
        frames: how many evenly spaced snapshots to keep (including step 0 and
            the last step), for :func:`animate_warmup`.
        grid: shades at which the snapshots evaluate the door, shape ``(G,)``;
            by default 201 points spanning both distributions.
    """
    _check_count(steps, "steps")
    _check_count(batch_size, "batch_size")
    forger = Forger(*start)
    door = _new_door(hidden, seed)
    opt_door = torch.optim.Adam(door.parameters(), lr_door, betas=ADAM_BETAS)
    opt_forger = torch.optim.Adam(forger.parameters(), lr_forger, betas=ADAM_BETAS)
    noise = torch.Generator().manual_seed(seed + 1)
    if grid is None:
        lo = min(start[0] - 4 * start[1], real.mean - 4 * real.std)
        hi = max(start[0] + 4 * start[1], real.mean + 4 * real.std)
        grid = torch.linspace(lo, hi, 201)
    _check_tickets(grid, "grid")
    history = WarmupHistory(real=real, grid=grid)
    keep = _snapshot_steps(steps, frames)

    def record(
        step: int,
        d_loss: float,
        g_loss: float,
        d_real: float,
        d_fake: float,
    ) -> None:
        history.step.append(step)
        history.mean.append(forger.mean.item())
        history.std.append(forger.std.item())
        history.d_loss.append(d_loss)
        history.g_loss.append(g_loss)
        history.d_real.append(d_real)
        history.d_fake.append(d_fake)
        if step in keep:
            verdict = door.verdict(grid)
            shot = Snapshot(step, history.mean[-1], history.std[-1], verdict)
            history.snapshots.append(shot)

    def fool_the_door(x: Tensor) -> Tensor:  # the forger's loss on tickets x
        return generator_loss(door(x))

    with torch.no_grad():
        real_x, forged = (
            real.sample(batch_size, noise),
            forger.sample(batch_size, noise),
        )
        real_logits, fake_logits = door(real_x), door(forged)
        loss_real, loss_fake = discriminator_loss(real_logits, fake_logits, 0.0)
        g0 = generator_loss(fake_logits).item()
    record(
        0,
        (loss_real + loss_fake).item(),
        g0,
        torch.sigmoid(real_logits).mean().item(),
        torch.sigmoid(fake_logits).mean().item(),
    )
    for step in range(1, steps + 1):
        # The door looks at a real and a forged batch (the DCGAN's first half).
        real_x = real.sample(batch_size, noise)
        d = discriminator_update(
            forger, door, opt_door, real_x, _noise(batch_size, noise), 0.0
        )
        # The forger sends a fresh batch and follows the door's gradient (the
        # second half, with the door frozen).
        z = _noise(batch_size, noise)
        forged = forger(z)
        g_loss = generator_updates(
            forger, door, opt_forger, forged, z, 1, fool_the_door
        )
        with torch.no_grad():  # the door's verdicts, after its update
            d_real = torch.sigmoid(door(real_x)).mean().item()
            d_fake = torch.sigmoid(door(forged)).mean().item()
        d_loss = (d.loss_real + d.loss_fake).item()
        record(step, d_loss, g_loss.item(), d_real, d_fake)
    history.forger, history.door = forger, door
    return history


def plot_tickets(
    real: TicketDistribution,
    mean: float,
    std: float,
    door: Door | Tensor | None = None,
    *,
    feedback: DoorReport | None = None,
    grid: Tensor | None = None,
    ax: Axes | None = None,
) -> tuple[Axes, Axes | None]:
    """Real and forged densities on ``ax``; with ``door``, also ``D(x)`` on a
    second y-axis (``door`` is a :class:`Door` or its verdicts on ``grid``);
    with ``feedback``, an arrow from the forged mean along ``-grad_mean``.

    Returns ``(ax, ax_door)``; ``ax_door`` is None without a door.
    """
    import matplotlib.pyplot as plt

    _check_spread(float(mean), float(std))
    if grid is None:
        lo = min(mean - 3 * std, real.mean - 3 * real.std)
        hi = max(mean + 3 * std, real.mean + 3 * real.std)
        grid = torch.linspace(lo, hi, 201)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3))
    forged = _normal_density(grid, mean, std)
    ax.fill_between(grid, real.density(grid), alpha=0.3, color="C0", label="real")
    ax.plot(grid, forged, color="C1", label="forged")
    ax.set_xlabel("ticket shade x")
    ax.set_ylabel("density")
    peak = max(real.density(grid).max().item(), forged.max().item())
    ax.set_ylim(0, 1.25 * peak)
    if feedback is not None:
        # Half a unit of shade per unit of gradient, capped to stay on the plot;
        # drawn just above the forged bump, starting at its mean.
        shift = max(-2.0, min(2.0, -0.5 * feedback.grad_mean))
        height = 1.1 * forged.max().item()
        ax.annotate(
            "",
            xy=(mean + shift, height),
            xytext=(mean, height),
            arrowprops={"arrowstyle": "->", "color": "C3", "lw": 2},
        )
        ax.plot([], [], color="C3", lw=2, label="feedback on the mean")
    ax_door = None
    if door is not None:
        verdict = door.verdict(grid) if isinstance(door, Door) else door
        ax_door = ax.twinx()
        ax_door.plot(grid, verdict, color="C2", ls="--", label="door D(x)")
        ax_door.axhline(0.5, color="grey", lw=0.6, ls=":")
        ax_door.set_ylim(0, 1)
        ax_door.set_ylabel("D(x): P(real)")
    handles, labels = ax.get_legend_handles_labels()
    if ax_door is not None:
        more = ax_door.get_legend_handles_labels()
        handles, labels = handles + more[0], labels + more[1]
    # Below the plot, where it hides none of the curves.
    ax.legend(
        handles,
        labels,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.3),
        ncol=len(labels),
        fontsize="small",
        frameon=False,
    )
    return ax, ax_door


def play_round(
    mean: float,
    std: float,
    real: TicketDistribution = REAL_TICKETS,
    *,
    door_steps: int = 200,
    seed: int = 0,
    grid: Tensor | None = None,
) -> tuple[DoorReport, Figure]:
    """One round of the chapter's game for a forger with this ``mean`` and ``std``.

    Trains a door against the forgery (:func:`fit_door`), sends the forged
    tickets to it (:func:`try_the_door`) and draws the result
    (:func:`plot_tickets`). Returns ``(report, figure)``; the figure is left
    open for the caller to show and close.
    """
    forger = Forger(mean, std)
    door = fit_door(forger, real, door_steps, seed=seed)
    report = try_the_door(forger, door)
    ax, _ = plot_tickets(real, mean, std, door, feedback=report, grid=grid)
    return report, ax.figure


def animate_warmup(
    history: WarmupHistory, interval: int = 150, dpi: int = 72
) -> FuncAnimation:
    """A matplotlib animation of the snapshots: the forged density sliding onto
    the real one, and the door's ``D(x)`` flattening towards 1/2 where the
    tickets are.

    Show it with ``IPython.display.HTML(anim.to_jshtml())``; every frame is
    embedded as a PNG of ``dpi`` dots per inch, so ``dpi`` and the number of
    snapshots set the page's size.
    """
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation

    shots = history.snapshots
    if not shots:
        raise ValueError("history has no snapshots: train with frames >= 2")
    grid = history.grid
    peak = max(
        [history.real.density(grid).max().item()]
        + [1 / (s.std * math.sqrt(2 * math.pi)) for s in shots]
    )
    fig, ax = plt.subplots(figsize=(5, 2.8), dpi=dpi)
    _, ax_door = plot_tickets(
        history.real, shots[0].mean, shots[0].std, shots[0].verdict, grid=grid, ax=ax
    )
    ax.set_ylim(0, 1.1 * min(peak, 4.0))
    forged_line = ax.get_lines()[0]
    door_line = ax_door.get_lines()[0]
    title = ax.set_title("")

    def update(i: int):
        s = shots[i]
        forged_line.set_ydata(_normal_density(grid, s.mean, s.std))
        door_line.set_ydata(s.verdict)
        title.set_text(f"step {s.step}: forged mean {s.mean:.2f}, std {s.std:.2f}")
        return forged_line, door_line, title

    update(0)
    fig.tight_layout()
    anim = FuncAnimation(fig, update, frames=len(shots), interval=interval)
    plt.close(fig)
    return anim


def ticket_game_config(
    mean: dict[str, float],
    std: dict[str, float],
    real: TicketDistribution = REAL_TICKETS,
    grid: Tensor | None = None,
    door_steps: int = 200,
) -> dict:
    """The settings of :func:`play_round` for the game's in-page twin.

    ``book/_static/inpage/ticket-game.js`` plays the same round in the
    reader's browser: the same door, trained as :func:`fit_door` trains it
    (its defaults, read from its signature here so the two cannot drift),
    sent the tickets :func:`try_the_door` sends. ``mean`` and ``std`` are the
    sliders' ``value, min, max, step``; ``grid`` the evenly spaced shades of
    the picture (``torch.linspace``).
    """
    _check_count(door_steps, "door_steps")
    if grid is None:
        grid = torch.linspace(-3.0, 8.0, 221)
    _check_tickets(grid, "grid")
    even = torch.linspace(grid[0].item(), grid[-1].item(), len(grid))
    if len(grid) < 2 or not torch.allclose(grid, even, atol=1e-6):
        raise ValueError("grid must be evenly spaced, as torch.linspace makes it")
    fit = inspect.signature(fit_door).parameters
    sent = inspect.signature(try_the_door).parameters
    advice = inspect.signature(DoorReport.advice).parameters
    return {
        "real": {"mean": real.mean, "std": real.std},
        "mean": dict(mean),
        "std": dict(std),
        "door": {
            "steps": door_steps,
            **{k: fit[k].default for k in ("batch_size", "lr", "hidden", "seed")},
            "betas": list(ADAM_BETAS),
        },
        "report": {
            "n": sent["n"].default,
            "seed": REPORT_SEED,
            "tolerance": advice["tolerance"].default,
        },
        "grid": {"lo": grid[0].item(), "hi": grid[-1].item(), "n": len(grid)},
    }
