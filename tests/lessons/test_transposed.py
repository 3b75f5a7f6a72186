import pytest
import torch
import torch.nn.functional as F

from gankit.generator import up_block
from gankit.lessons.transposed import (
    conv_as_matrix,
    transposed_conv_as_conv,
    transposed_conv_by_scatter,
    zero_insert,
)

BY_HAND = [transposed_conv_by_scatter, transposed_conv_as_conv]


@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("k", [1, 2, 3, 5])
@pytest.mark.parametrize("by_hand", BY_HAND)
def test_matches_torch_conv_transpose2d_for_random_batches(by_hand, k, stride):
    gen = torch.Generator().manual_seed(100 * k + stride)
    x = torch.randn(2, 3, 4, 5, generator=gen, dtype=torch.float64)
    w = torch.randn(3, 2, k, k, generator=gen, dtype=torch.float64)
    expected = F.conv_transpose2d(x, w, stride=stride)
    torch.testing.assert_close(by_hand(x, w, stride), expected)


@pytest.mark.parametrize("by_hand", BY_HAND)
@pytest.mark.parametrize(
    "k, stride, padding, output_padding", [(3, 2, 1, 1), (5, 2, 2, 1), (4, 3, 3, 2)]
)
def test_matches_torch_with_padding_and_output_padding(
    by_hand, k, stride, padding, output_padding
):
    gen = torch.Generator().manual_seed(k)
    x = torch.randn(1, 2, 3, 3, generator=gen, dtype=torch.float64)
    w = torch.randn(2, 4, k, k, generator=gen, dtype=torch.float64)
    expected = F.conv_transpose2d(
        x, w, stride=stride, padding=padding, output_padding=output_padding
    )
    got = by_hand(x, w, stride, padding, output_padding)
    torch.testing.assert_close(got, expected)


@pytest.mark.parametrize("by_hand", BY_HAND)
def test_reproduces_the_generators_same_padded_layer_which_doubles_the_side(by_hand):
    torch.manual_seed(0)
    layer = up_block(4, 3)[0]
    x = torch.randn(2, 4, 4, 4)
    with torch.no_grad():
        expected = layer(x) - layer.bias[None, :, None, None]
        got = by_hand(x, layer.weight, 2, padding=2, output_padding=1)
    assert got.shape == (2, 3, 8, 8)
    torch.testing.assert_close(got, expected)


def test_each_input_pixel_paints_a_scaled_kernel_stride_pixels_apart():
    x = torch.tensor([[0.0, 2.0], [0.0, 0.0]])
    w = torch.ones(3, 3)
    out = transposed_conv_by_scatter(x, w, 2)
    expected = torch.zeros(5, 5)
    expected[0:3, 2:5] = 2.0
    assert torch.equal(out, expected)


def test_small_integer_example_is_exact_and_agrees_three_ways():
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    w = torch.arange(1.0, 10.0).view(3, 3)
    scatter = transposed_conv_by_scatter(x, w, 2)
    as_conv = transposed_conv_as_conv(x, w, 2)
    torch_out = F.conv_transpose2d(x[None, None], w[None, None], stride=2)[0, 0]
    assert scatter.shape == (5, 5)
    assert torch.equal(scatter, as_conv) and torch.equal(scatter, torch_out)
    # Where kernels overlap they add: the centre gets 9*1 + 7*2 + 3*3 + 1*4.
    assert scatter[2, 2] == 36


@pytest.mark.parametrize(
    "shape, stride, expected",
    [
        ((2, 2), 2, (3, 3)),
        ((4, 4), 2, (7, 7)),
        ((3, 5), 3, (7, 13)),
        ((2, 3, 4, 4), 1, (2, 3, 4, 4)),
        ((1, 1), 4, (1, 1)),
    ],
)
def test_zero_insert_shapes(shape, stride, expected):
    assert zero_insert(torch.ones(shape), stride).shape == expected


def test_zero_insert_keeps_pixels_on_the_stride_grid_and_zeros_elsewhere():
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    out = zero_insert(x, 2)
    assert torch.equal(out[::2, ::2], x)
    assert out.sum() == x.sum()
    assert torch.equal(out[1], torch.zeros(3)) and torch.equal(
        out[:, 1], torch.zeros(3)
    )


@pytest.mark.parametrize(
    "size, k, stride", [(5, 3, 2), (6, 2, 2), (7, 3, 1), (7, 3, 3)]
)
def test_conv_matrix_is_the_convolution_and_its_transpose_the_transposed_one(
    size, k, stride
):
    gen = torch.Generator().manual_seed(size * k)
    w = torch.randn(k, k, generator=gen, dtype=torch.float64)
    x = torch.randn(size, size, generator=gen, dtype=torch.float64)
    c = conv_as_matrix(w, size, stride)
    y = F.conv2d(x[None, None], w[None, None], stride=stride)[0, 0]
    torch.testing.assert_close(c @ x.flatten(), y.flatten())
    back = F.conv_transpose2d(
        y[None, None], w[None, None], stride=stride, output_padding=(size - k) % stride
    )[0, 0]
    torch.testing.assert_close((c.T @ y.flatten()).view(size, size), back)


@pytest.mark.parametrize("by_hand", BY_HAND)
@pytest.mark.parametrize(
    "x, w, stride, padding, output_padding, words",
    [
        (torch.ones(2, 2), torch.ones(3, 3), 0, 0, 0, "stride must be"),
        (torch.ones(2, 2), torch.ones(3, 3), 1.5, 0, 0, "stride must be"),
        (torch.ones(2, 2), torch.ones(3, 3), 2, 3, 0, r"padding must be in \[0, 2\]"),
        (torch.ones(2, 2), torch.ones(3, 3), 2, 1, 2, "output_padding must be"),
        (torch.ones(1, 2, 2, 2), torch.ones(3, 1, 3, 3), 2, 0, 0, "channel"),
        (torch.ones(1, 1, 2, 2), torch.ones(3, 3), 2, 0, 0, "expected x"),
        (torch.ones(1, 1, 2, 2), torch.ones(1, 1, 3, 2), 2, 0, 0, "square kernel"),
    ],
    ids=[
        "stride-0",
        "stride-1.5",
        "padding",
        "output_padding",
        "channels",
        "4d-with-2d",
        "not-square",
    ],
)
def test_bad_input_raises_value_error(
    by_hand, x, w, stride, padding, output_padding, words
):
    with pytest.raises(ValueError, match=words):
        by_hand(x, w, stride, padding, output_padding)


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: zero_insert(torch.ones(2, 2), 0), "stride must be"),
        (lambda: zero_insert(torch.ones(3), 2), r"\(\.\.\., H, W\)"),
        (lambda: zero_insert(torch.ones(0, 2), 2), "at least one pixel"),
        (lambda: conv_as_matrix(torch.ones(3, 2), 5, 2), "square"),
        (lambda: conv_as_matrix(torch.ones(3, 3), 2, 1), "size"),
        (lambda: conv_as_matrix(torch.ones(3, 3), 5, 0), "stride must be"),
    ],
)
def test_bad_arguments_to_the_helpers_raise_value_error(call, words):
    with pytest.raises(ValueError, match=words):
        call()
