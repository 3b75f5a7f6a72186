import pytest
import torch

from gankit import Generator, sample_z

ARTICLE_G_PARAMS_1CH = 4_928_769  # the article's generator for one channel


def shapes_through(g: Generator, z: torch.Tensor) -> list[tuple[int, ...]]:
    shapes = []
    hooks = [
        m.register_forward_hook(lambda _m, _i, out: shapes.append(tuple(out.shape)))
        for m in (g.project, g.stem, *g.up, g.to_image)
    ]
    g(z)
    for h in hooks:
        h.remove()
    return shapes


@pytest.mark.parametrize("channels", [1, 3])
def test_layer_shapes_at_32(channels):
    g = Generator(channels=channels)
    shapes = shapes_through(g, sample_z(2))
    assert shapes == [
        (2, 8192),
        (2, 512, 4, 4),
        (2, 256, 8, 8),
        (2, 128, 16, 16),
        (2, channels, 32, 32),
    ]


@pytest.mark.parametrize("channels", [1, 3])
def test_layer_shapes_at_64_add_one_block(channels):
    g = Generator(channels=channels, image_size=64)
    shapes = shapes_through(g, sample_z(2))
    assert shapes[-1] == (2, channels, 64, 64)
    assert shapes[1:-1] == [
        (2, 512, 4, 4),
        (2, 256, 8, 8),
        (2, 128, 16, 16),
        (2, 64, 32, 32),
    ]


def test_parameter_count_equals_the_articles():
    g = Generator(channels=1)
    assert sum(p.numel() for p in g.parameters()) == ARTICLE_G_PARAMS_1CH
    # Three channels change only the last layer: 128*25 weights and 1 bias more each.
    g3 = Generator(channels=3)
    assert sum(p.numel() for p in g3.parameters()) == ARTICLE_G_PARAMS_1CH + 2 * 3201


def test_output_lies_in_tanh_range():
    torch.manual_seed(0)
    x = Generator(channels=1)(sample_z(16))
    assert x.min() >= -1 and x.max() <= 1
    assert x.std() > 0  # not a constant image


def test_sample_z_is_uniform_in_minus_one_one():
    z = sample_z(20_000, 100, generator=torch.Generator().manual_seed(0))
    assert z.shape == (20_000, 100)
    assert z.min() >= -1 and z.max() <= 1
    assert abs(z.mean().item()) < 0.01
    assert abs(z.var().item() - 1 / 3) < 0.01  # variance of U(-1, 1)


def test_sample_z_is_reproducible_with_a_generator():
    a = sample_z(4, generator=torch.Generator().manual_seed(3))
    b = sample_z(4, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)


def test_unsupported_size_names_the_supported_ones():
    with pytest.raises(
        ValueError, match=r"image_size must be one of \(32, 64\), got 28"
    ):
        Generator(image_size=28)


@pytest.mark.parametrize(
    ("z", "words"),
    [
        (torch.zeros(4, 64), r"shape \(N, 100\), got \(4, 64\)"),
        (torch.zeros(100), r"shape \(N, 100\), got \(100,\)"),
        (torch.zeros(4, 100, dtype=torch.long), "float tensor"),
        ([[0.0] * 100], "must be a torch.Tensor"),
    ],
)
def test_bad_latent_input_raises_value_error(z, words):
    with pytest.raises(ValueError, match=words):
        Generator(channels=1)(z)


def test_forward_checks_the_shape_but_reads_no_values():
    # Outside sample_z's cube, yet finite: forward runs it (scanning every z
    # would cost each training step); gankit.checks.check_latent refuses it.
    x = Generator(channels=1)(torch.full((4, 100), 2.0))
    assert x.shape == (4, 1, 32, 32)
