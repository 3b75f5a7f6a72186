import pytest
import torch

from gankit import Discriminator

ARTICLE_D_PARAMS_1CH = 1_030_913  # the article's discriminator for one channel


def shapes_through(d: Discriminator, x: torch.Tensor) -> list[tuple[int, ...]]:
    shapes = []
    hooks = [
        m.register_forward_hook(lambda _m, _i, out: shapes.append(tuple(out.shape)))
        for m in (*d.features, d.classifier)
    ]
    d(x)
    for h in hooks:
        h.remove()
    return shapes


@pytest.mark.parametrize("channels", [1, 3])
def test_layer_shapes_at_32(channels):
    d = Discriminator(channels=channels)
    shapes = shapes_through(d, torch.zeros(2, channels, 32, 32))
    assert shapes == [(2, 64, 16, 16), (2, 128, 8, 8), (2, 256, 4, 4), (2, 1)]


@pytest.mark.parametrize("channels", [1, 3])
def test_layer_shapes_at_64_add_one_block(channels):
    d = Discriminator(channels=channels, image_size=64)
    shapes = shapes_through(d, torch.zeros(2, channels, 64, 64))
    assert shapes == [
        (2, 64, 32, 32),
        (2, 128, 16, 16),
        (2, 256, 8, 8),
        (2, 512, 4, 4),
        (2, 1),
    ]


def test_parameter_count_equals_the_articles():
    d = Discriminator(channels=1)
    assert sum(p.numel() for p in d.parameters()) == ARTICLE_D_PARAMS_1CH


def test_first_block_has_no_batch_norm_and_the_others_do():
    d = Discriminator(channels=1)
    has_bn = [
        any(isinstance(m, torch.nn.BatchNorm2d) for m in block) for block in d.features
    ]
    assert has_bn == [False, True, True]


def test_returns_one_unbounded_logit_per_image():
    torch.manual_seed(0)
    d = Discriminator(channels=3)
    with torch.no_grad():
        d.classifier.bias.fill_(5.0)  # a logit above 1: no sigmoid inside
        out = d(torch.rand(4, 3, 32, 32) * 2 - 1)
    assert out.shape == (4,)
    assert (out > 1).all()


def test_spectral_norm_bounds_the_largest_singular_value():
    torch.manual_seed(0)
    # Weights ten times the usual scale: unnormalised, this layer's largest
    # singular value would be about 10, so 1.0 can only come from the norm.
    d = Discriminator(channels=1, spectral_norm=True, init_std=0.2)
    raw = d.features[1][0].parametrizations.weight.original.detach().flatten(1)
    assert torch.linalg.matrix_norm(raw, ord=2).item() > 5
    for _ in range(20):  # power iterations converge over forward passes
        d(torch.rand(8, 1, 32, 32) * 2 - 1)
    d.eval()
    conv = d.features[1][0]
    sigma = torch.linalg.matrix_norm(conv.weight.detach().flatten(1), ord=2)
    assert sigma.item() == pytest.approx(1.0, abs=0.05)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in d.modules())


@pytest.mark.parametrize(
    ("x", "words"),
    [
        (torch.zeros(2, 3, 32, 32), "1 channel"),
        (torch.zeros(2, 1, 28, 28), "must be 32x32"),
        (torch.zeros(1, 32, 32), r"shape \(N, 1, 32, 32\)"),
        (torch.zeros(2, 1, 32, 32, dtype=torch.uint8), "float tensor"),
    ],
)
def test_bad_images_raise_value_error(x, words):
    with pytest.raises(ValueError, match=words):
        Discriminator(channels=1)(x)


def test_forward_checks_the_shape_but_reads_no_values():
    # Unscaled 0..255 pixels: forward runs them (scanning every image would
    # cost each training step); gankit.checks.check_images refuses them.
    with torch.no_grad():
        logits = Discriminator(channels=1)(torch.full((2, 1, 32, 32), 255.0))
    assert logits.shape == (2,)


def test_unsupported_size_names_the_supported_ones():
    with pytest.raises(ValueError, match=r"\(32, 64\)"):
        Discriminator(image_size=128)
