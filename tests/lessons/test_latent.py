import math

import pytest
import torch

from gankit import Generator, sample_z
from gankit.lessons.latent import (
    explorer_config,
    explorer_strip,
    generate,
    interpolate,
    interpolation_grid,
    latent_path,
    lerp,
    mix_seeds,
    png_bytes,
    seeded_z,
    slerp,
)


def pair(z_dim=100, seed=0):
    z = sample_z(2, z_dim, generator=torch.Generator().manual_seed(seed))
    return z[0], z[1]


@pytest.fixture(scope="module")
def generator():
    torch.manual_seed(0)
    return Generator(z_dim=16, channels=1, image_size=32)


@pytest.mark.parametrize("fn", [lerp, slerp])
def test_interpolations_start_at_z0_and_end_at_z1(fn):
    z0, z1 = pair()
    path = fn(z0, z1, torch.tensor([0.0, 1.0]))
    torch.testing.assert_close(path[0], z0)
    torch.testing.assert_close(path[1], z1)


def test_lerp_midpoint_is_the_average():
    z0, z1 = pair()
    torch.testing.assert_close(lerp(z0, z1, 0.5)[0], (z0 + z1) / 2)


def test_slerp_keeps_the_norm_of_equal_norm_vectors():
    z0, z1 = pair()
    z1 = z1 / z1.norm() * z0.norm()
    norms = slerp(z0, z1, torch.linspace(0, 1, 9)).norm(dim=1)
    torch.testing.assert_close(norms, torch.full((9,), float(z0.norm())))


def test_lerp_midpoints_are_shorter_than_slerp_midpoints_in_high_dimension():
    z0, z1 = pair(z_dim=100)
    assert lerp(z0, z1, 0.5).norm() < 0.8 * slerp(z0, z1, 0.5).norm()


def test_slerp_between_orthogonal_unit_vectors_follows_the_quarter_circle():
    e0, e1 = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    mid = slerp(e0, e1, 0.5)[0]
    torch.testing.assert_close(mid, torch.tensor([0.5**0.5, 0.5**0.5]))


def test_slerp_of_parallel_vectors_is_the_segment():
    z = torch.tensor([0.2, -0.4, 0.6])
    torch.testing.assert_close(slerp(z, 2 * z, 0.5), lerp(z, 2 * z, 0.5))


def test_slerp_can_leave_the_cube_and_latent_path_clamps_it_back():
    z0, z1 = torch.tensor([1.0, 1.0]), torch.tensor([1.0, -1.0])
    assert slerp(z0, z1, 0.5)[0, 0] == pytest.approx(2**0.5)
    path = latent_path(z0, z1, steps=3, mode="slerp")
    assert path.abs().max() <= 1.0
    assert path[1, 0] == 1.0


def test_lerp_between_points_of_the_cube_stays_in_the_cube():
    z0, z1 = pair()
    path = lerp(z0, z1, torch.linspace(0, 1, 11))
    assert path.abs().max() <= 1.0
    torch.testing.assert_close(latent_path(z0, z1, 11, "lerp"), path)


@pytest.mark.parametrize("mode", ["lerp", "slerp"])
def test_interpolate_gives_steps_images_in_range(generator, mode):
    z0, z1 = pair(z_dim=16)
    images = interpolate(generator, z0, z1, steps=5, mode=mode)
    assert images.shape == (5, 1, 32, 32)
    assert images.min() >= -1 and images.max() <= 1


def test_interpolate_ends_are_the_images_of_z0_and_z1(generator):
    z0, z1 = pair(z_dim=16)
    images = interpolate(generator, z0, z1, steps=4)
    ends = generate(generator, torch.stack([z0, z1]))
    torch.testing.assert_close(images[[0, -1]], ends)


def test_generate_restores_training_mode(generator):
    generator.train()
    generate(generator, sample_z(2, 16))
    assert generator.training


def test_interpolation_grid_has_one_row_per_pair(generator):
    starts, ends = sample_z(3, 16), sample_z(3, 16)
    assert interpolation_grid(generator, starts, ends, steps=4).shape == (
        12,
        1,
        32,
        32,
    )


def test_seeded_z_is_reproducible_and_in_the_cube():
    torch.testing.assert_close(seeded_z(7), seeded_z(7))
    assert not torch.equal(seeded_z(7), seeded_z(8))
    assert seeded_z(7).shape == (100,) and seeded_z(7).abs().max() <= 1


def test_mix_seeds_goes_from_one_seed_to_the_other():
    torch.testing.assert_close(mix_seeds(1, 2, 0.0)[0], seeded_z(1))
    torch.testing.assert_close(mix_seeds(1, 2, 1.0)[0], seeded_z(2))
    assert mix_seeds(1, 2, 0.5).shape == (1, 100)
    assert mix_seeds(1, 2, 0.5).abs().max() <= 1


def test_explorer_strip_shows_seed_a_the_mix_and_seed_b(generator):
    strip = explorer_strip(generator, 1, 2, 0.25)
    assert strip.shape == (3, 1, 32, 32)
    ends = generate(generator, torch.stack([seeded_z(1, 16), seeded_z(2, 16)]))
    torch.testing.assert_close(strip[[0, 2]], ends)
    torch.testing.assert_close(
        strip[1:2], generate(generator, mix_seeds(1, 2, 0.25, z_dim=16))
    )


def test_png_bytes_is_an_enlarged_png():
    from io import BytesIO

    from PIL import Image

    data = png_bytes(torch.zeros(2, 1, 32, 32), nrow=2, scale=3)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    # Two 32px images side by side, with make_grid's 2px padding around each.
    assert Image.open(BytesIO(data)).size == (3 * (2 * 32 + 3 * 2), 3 * (32 + 4))


def test_opposite_latent_vectors_are_refused_whatever_their_rounding():
    # In float32 the cosine of z and -z often rounds to -0.99999976, whose
    # arccos misses pi; every such pair must still be refused, never answered
    # with the zero vector.
    zs = sample_z(300, 100, generator=torch.Generator().manual_seed(0))
    for z in zs:
        with pytest.raises(ValueError, match="opposite directions"):
            slerp(z, -z, 0.5)


def test_the_angle_is_right_across_its_range():
    z0 = torch.tensor([1.0, 0.0, 0.0])
    for angle in (1e-3, 0.5, 1.5, 3.0):
        z1 = torch.tensor([math.cos(angle), math.sin(angle), 0.0])
        mid = slerp(z0, z1, 0.5)[0]
        expected = torch.tensor([math.cos(angle / 2), math.sin(angle / 2), 0.0])
        torch.testing.assert_close(mid, expected, atol=1e-5, rtol=0)


HALF = torch.full((3,), 0.5)  # a valid end point: only the named fault is wrong


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: lerp(torch.zeros(3), torch.zeros(4), 0.5), "same length"),
        (lambda: lerp(torch.zeros(1, 3), torch.zeros(1, 3), 0.5), r"\(z_dim,\)"),
        (lambda: lerp(torch.zeros(3), torch.ones(3), 1.5), r"t must lie in \[0, 1\]"),
        (lambda: slerp(torch.zeros(3), torch.ones(3), 0.5), "non-zero vectors"),
        (lambda: slerp(torch.ones(3), -torch.ones(3), 0.5), "opposite directions"),
        (lambda: latent_path(HALF, torch.ones(3), 1), "steps must be at least 2"),
        (lambda: latent_path(HALF, torch.ones(3), 4, mode="cubic"), "mode must be"),
        (lambda: latent_path(HALF, 2 * torch.ones(3), 4), r"z1 must lie in \[-1, 1\]"),
        (
            lambda: latent_path(torch.full((3,), float("nan")), HALF, 4, "lerp"),
            r"z0 must lie in \[-1, 1\]",
        ),
        (lambda: mix_seeds(0, 1, 0.5, mode="cubic"), "mode must be"),
        (lambda: png_bytes(torch.zeros(1, 1, 8, 8), scale=0), "scale must be"),
        (
            lambda: interpolation_grid(None, torch.zeros(0, 3), torch.zeros(0, 3)),
            "R >= 1",
        ),
    ],
)
def test_bad_input_raises_value_error(call, words):
    with pytest.raises(ValueError, match=words):
        call()


def test_interpolation_grid_rejects_mismatched_pairs(generator):
    with pytest.raises(ValueError, match="starts and ends"):
        interpolation_grid(generator, sample_z(3, 16), sample_z(2, 16))


def test_the_explorers_page_twin_gets_the_strips_settings_and_the_checksums():
    generator = Generator(z_dim=100)
    spec = {"value": 3, "min": 0, "max": 999, "step": 1}
    mix = {"value": 0.5, "min": 0.0, "max": 1.0, "step": 0.05}
    model = {
        "model": "mnist_generator.onnx.js",
        "sha256": "ab" * 32,
        "bytes": 10,
        "input": {"name": "z"},
        "output": {"name": "images"},
    }
    runtime = {"wasm_sha256": "cd" * 32, "wasm_bytes": 20}
    assets = {"model": model, "runtime": runtime}
    cfg = explorer_config(spec, spec, mix, "lerp", generator, assets)
    assert (cfg["seed_a"], cfg["mix"], cfg["mode"]) == (spec, mix, "lerp")
    assert (cfg["z_dim"], cfg["image_size"]) == (100, 32)
    assert cfg["model"]["name"] == "mnist_generator"
    assert cfg["model"]["sha256"] == "ab" * 32
    assert cfg["runtime"]["wasm_sha256"] == "cd" * 32
    assert cfg["download_bytes"] == 40  # base64: 4 bytes for every 3
    # Outside the book there is nothing to check against: the page says so.
    assert (
        explorer_config(spec, spec, mix, "slerp", generator, None)["model"]["sha256"]
        == ""
    )
    with pytest.raises(ValueError, match="mode must be one of"):
        explorer_config(spec, spec, mix, "arc", generator, assets)
