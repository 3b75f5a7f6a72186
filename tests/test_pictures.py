"""Grids, comparisons, training curves and animations (``gankit.pictures``)."""

from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from gankit.callbacks import History  # noqa: E402
from gankit.data import to_uint8  # noqa: E402
from gankit.pictures import (  # noqa: E402
    animate_samples,
    image_grid,
    plot_history,
    save_grid,
    show_grid,
    side_by_side,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def images(n: int = 4, channels: int = 1) -> torch.Tensor:
    """Float images in [-1, 1]: image i is the constant -1 + 2 i / (n - 1)."""
    levels = torch.linspace(-1, 1, n)
    return levels.view(n, 1, 1, 1).expand(n, channels, 32, 32).clone()


def test_a_grid_tiles_the_batch_maps_the_range_to_unit_and_pads_in_white():
    grid = image_grid(images(4), nrow=2, padding=2)
    # 2 x 2 tiles of 32 with 2-pixel padding around each: 2 + 2 * (32 + 2)
    assert grid.shape == (3, 70, 70)
    assert grid.min() >= 0 and grid.max() <= 1
    assert grid[:, 0, :].eq(1).all()  # the padding
    # tile (row, column) = (0, 0) holds image 0 (-1 -> 0); (1, 1) image 3 (1 -> 1)
    assert grid[:, 2:34, 2:34].eq(0).all()
    assert grid[:, 36:68, 36:68].eq(1).all()
    assert grid[:, 2:34, 36:68] == pytest.approx(1 / 3, abs=1e-6)


def test_uint8_pixels_and_floats_give_the_same_grid():
    x = images(9, channels=3)
    assert torch.allclose(image_grid(to_uint8(x)), image_grid(x), atol=1 / 255)


def test_the_default_layout_is_square():
    assert image_grid(images(16)).shape == image_grid(images(16), nrow=4).shape


def test_a_batch_that_is_not_four_dimensional_is_refused():
    with pytest.raises(ValueError, match=r"shape \(N, C, H, W\).*got \(32, 32\)"):
        image_grid(torch.zeros(32, 32))


@pytest.mark.parametrize(
    ("batch", "words"),
    [
        (torch.zeros(0, 1, 32, 32), "N >= 1"),
        (torch.rand(4, 32, 32, 3), r"channels first.*got \(4, 32, 32, 3\)"),
        (torch.zeros(4, 2, 32, 32), "C = 1 or 3"),
        (torch.rand(4, 1, 8, 8) * 255, r"must lie in \[-1, 1\]"),
        (torch.full((4, 1, 8, 8), float("nan")), "NaN"),
        (torch.zeros(4, 1, 8, 8, dtype=torch.int64), "uint8 pixels or floats"),
        (torch.zeros(4, 1, 8, 8).numpy(), "must be a torch.Tensor"),
    ],
    ids=["empty", "hwc", "2-channels", "0..255", "nan", "int64", "numpy"],
)
def test_batches_that_cannot_be_drawn_are_refused_by_name(tmp_path, batch, words):
    for draw in (image_grid, show_grid, lambda x: save_grid(x, tmp_path / "g.png")):
        with pytest.raises(ValueError, match=words):
            draw(batch)
    plt.close("all")
    assert list(tmp_path.iterdir()) == []


def test_nrow_below_one_is_refused():
    for nrow in (0, -1):
        with pytest.raises(ValueError, match="nrow must be at least 1"):
            image_grid(images(4), nrow=nrow)


def test_save_grid_to_a_folder_is_refused_and_writes_nothing(tmp_path):
    (tmp_path / "run").mkdir()
    with pytest.raises(ValueError, match="is a folder"):
        save_grid(images(4), tmp_path / "run")
    assert [p.name for p in tmp_path.iterdir()] == ["run"]
    assert list((tmp_path / "run").iterdir()) == []


def test_save_grid_writes_the_grid_as_a_png_and_leaves_no_partial_file(tmp_path):
    path = save_grid(images(4), tmp_path / "sub" / "grid.png", nrow=2)
    with Image.open(path) as im:
        assert im.format == "PNG" and im.size == (70, 70)
        assert im.getpixel((10, 10)) == (0, 0, 0)
    assert [p.name for p in path.parent.iterdir()] == ["grid.png"]


def test_show_grid_draws_the_grid_with_its_title():
    ax = show_grid(images(4), nrow=2, title="four")
    shown = ax.get_images()[0].get_array()
    expected = image_grid(images(4), nrow=2).permute(1, 2, 0).numpy()
    assert shown.shape == expected.shape and (shown == expected).all()
    assert ax.get_title() == "four"


def test_side_by_side_puts_real_left_and_generated_right():
    fig = side_by_side(images(4), -images(4), nrow=2, titles=("a", "b"))
    left, right = fig.axes
    assert (left.get_title(), right.get_title()) == ("a", "b")
    assert left.get_images()[0].get_array()[10, 10, 0] == 0  # image 0 is -1
    assert right.get_images()[0].get_array()[10, 10, 0] == 1  # negated: +1


def test_plot_history_draws_both_losses_and_both_probabilities():
    h = History()
    for step in (10, 20, 30):
        h.append(
            {
                "step": step,
                "d_loss": step / 10,
                "g_loss": step / 5,
                "d_loss_real": 0.0,
                "d_loss_fake": 0.0,
                "d_real": 0.6,
                "d_fake": 0.4,
                "d_accuracy": 0.5,
            }
        )
    losses, probs = plot_history(h).axes
    d, g = (line.get_ydata().tolist() for line in losses.get_lines())
    assert (d, g) == ([1.0, 2.0, 3.0], [2.0, 4.0, 6.0])
    labels = [line.get_label() for line in probs.get_lines()[:2]]
    assert labels == ["mean D(real)", "mean D(G(z))"]
    assert probs.get_ylim() == (0, 1)


def test_an_animation_has_one_frame_per_grid_and_needs_at_least_one():
    samples = [(s, to_uint8(images(4))) for s in (100, 200, 300)]
    anim = animate_samples(samples, nrow=2)
    # every frame is embedded in the page, so it plays in static HTML
    assert len(re.findall(r"frames\[\d+\] = ", anim.to_jshtml())) == 3
    with pytest.raises(ValueError, match="no samples to animate"):
        animate_samples([])
