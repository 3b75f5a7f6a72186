"""Pictures: image grids, side-by-side comparisons, training curves, animations.

Used by every chapter; tested in ``tests/test_pictures.py``. Grids come from
``torchvision.utils.make_grid``; figures and animations from matplotlib
(``FuncAnimation`` rendered to HTML plays in the static book).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from .atomic import temporary_beside
from .checks import check_range
from .data import to_signed_unit

if TYPE_CHECKING:  # matplotlib loads only when something is drawn
    from matplotlib.animation import FuncAnimation
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .callbacks import History


def _as_float(images: Tensor) -> Tensor:
    """A batch to draw, checked: ``(N, C, H, W)`` with N >= 1 and C = 1 or 3,
    uint8 pixels or floats in [-1, 1]; returned as float32 on the CPU."""
    if not isinstance(images, Tensor):
        raise ValueError(
            f"images must be a torch.Tensor (N, C, H, W), got {type(images).__name__}"
        )
    if images.dim() != 4 or len(images) == 0 or images.shape[1] not in (1, 3):
        raise ValueError(
            "images must have shape (N, C, H, W), channels first, with N >= 1 and "
            f"C = 1 or 3; got {tuple(images.shape)}"
        )
    images = images.detach().cpu()
    if images.dtype == torch.uint8:
        return to_signed_unit(images)
    if not images.is_floating_point():
        raise ValueError(
            f"images must be uint8 pixels or floats in [-1, 1], got {images.dtype}"
        )
    check_range(images, -1.0, 1.0, name="images")
    return images.float()


def image_grid(images: Tensor, nrow: int | None = None, padding: int = 2) -> Tensor:
    """Tile a batch into one image.

    Accepts float images in [-1, 1] or uint8 pixels. ``nrow`` defaults to a
    square layout.

    Shape:
        - images: ``(N, C, H, W)``. Output: ``(3, H', W')`` in [0, 1].
    """
    # Imported here: all of torchvision loads with it, a second or two that
    # `import gankit` (and every run of the CLI) need not wait for.
    from torchvision.utils import make_grid

    images = _as_float(images)
    if nrow is None:
        nrow = max(1, round(len(images) ** 0.5))
    elif nrow < 1:
        raise ValueError(f"nrow must be at least 1, got {nrow}")
    grid = make_grid(
        images,
        nrow=nrow,
        padding=padding,
        normalize=True,
        value_range=(-1, 1),
        pad_value=1.0,
    )
    return grid


def save_grid(
    images: Tensor, path: str | os.PathLike[str], nrow: int | None = None
) -> Path:
    """Write :func:`image_grid` of ``images`` as a PNG, atomically."""
    from torchvision.utils import save_image

    grid = image_grid(images, nrow)  # checks the images before touching a file
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a folder; give the PNG file's path")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_beside(path)
    try:
        save_image(grid, tmp, format="png")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def show_grid(
    images: Tensor,
    nrow: int | None = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Draw :func:`image_grid` of ``images`` on ``ax`` (a new figure if None)."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4))
    grid = image_grid(images, nrow)
    ax.imshow(grid.permute(1, 2, 0).numpy(), interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def side_by_side(
    real: Tensor,
    fake: Tensor,
    nrow: int | None = None,
    titles: Sequence[str] = ("real", "generated"),
) -> Figure:
    """Real images on the left, generated ones on the right, as the article shows."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(8, 4.2))
    show_grid(real, nrow, titles[0], axes[0])
    show_grid(fake, nrow, titles[1], axes[1])
    fig.tight_layout()
    return fig


def plot_history(
    history: History, ax_losses: Axes | None = None, ax_probs: Axes | None = None
) -> Figure:
    """Both losses (left) and the mean D(real), D(fake) (right) over the steps."""
    import matplotlib.pyplot as plt

    if ax_losses is None or ax_probs is None:
        fig, (ax_losses, ax_probs) = plt.subplots(1, 2, figsize=(10, 3.5))
    else:
        fig = ax_losses.figure
    ax_losses.plot(history.step, history.d_loss, label="discriminator")
    ax_losses.plot(history.step, history.g_loss, label="generator")
    ax_losses.set_xlabel("step")
    ax_losses.set_ylabel("loss")
    ax_losses.legend()
    ax_probs.plot(history.step, history.d_real, label="mean D(real)")
    ax_probs.plot(history.step, history.d_fake, label="mean D(G(z))")
    ax_probs.axhline(0.5, color="grey", lw=0.8, ls="--")
    ax_probs.set_ylim(0, 1)
    ax_probs.set_xlabel("step")
    ax_probs.set_ylabel("probability 'real'")
    ax_probs.legend()
    fig.tight_layout()
    return fig


def animate_samples(
    samples: Sequence[tuple[int, Tensor]], nrow: int | None = None, interval: int = 300
) -> FuncAnimation:
    """A matplotlib animation of the fixed-z grids over training.

    ``samples`` is ``History.samples``. Show it in a notebook with
    ``IPython.display.HTML(anim.to_jshtml())``, which plays in static HTML.
    """
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation

    if not samples:
        raise ValueError("no samples to animate: train for at least sample_every steps")
    frames = [image_grid(imgs, nrow).permute(1, 2, 0).numpy() for _, imgs in samples]
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.set_axis_off()
    shown = ax.imshow(frames[0], interpolation="nearest")
    title = ax.set_title(f"step {samples[0][0]}")

    def update(i: int):
        shown.set_data(frames[i])
        title.set_text(f"step {samples[i][0]}")
        return shown, title

    anim = FuncAnimation(fig, update, frames=len(frames), interval=interval, blit=False)
    plt.close(fig)
    return anim
