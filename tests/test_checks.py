import pytest
import torch

from gankit.checks import (
    NonFiniteError,
    check_image_shape,
    check_images,
    check_latent,
    check_latent_shape,
    check_range,
)


def test_valid_batches_pass():
    check_images(torch.zeros(2, 3, 32, 32), 3, 32)
    check_latent(torch.zeros(5, 100), 100)


@pytest.mark.parametrize(
    ("x", "words"),
    [
        (torch.zeros(3, 32, 32), r"shape \(N, 1, 32, 32\), got \(3, 32, 32\)"),
        (torch.zeros(2, 3, 32, 32), "1 channel"),
        (torch.zeros(2, 1, 28, 28), "must be 32x32"),
        (torch.zeros(2, 1, 32, 32, dtype=torch.uint8), "float tensor"),
        (torch.full((2, 1, 32, 32), 255.0), r"\[-1, 1\].*forget to scale"),
        (torch.full((2, 1, 32, 32), float("nan")), "finite"),
    ],
)
def test_bad_images_say_what_was_expected_and_what_came(x, words):
    with pytest.raises(ValueError, match=words):
        check_images(x, 1, 32)


@pytest.mark.parametrize(
    ("z", "words"),
    [
        (torch.zeros(4, 10), r"\(N, 100\), got \(4, 10\)"),
        (torch.zeros(4, 100, dtype=torch.long), "float tensor"),
        (torch.full((4, 100), 3.0), "lie in"),
        (torch.full((4, 100), 2.0), r"must lie in \[-1, 1\]"),
        (torch.full((4, 100), float("nan")), "must be finite"),
    ],
)
def test_bad_latents_are_refused(z, words):
    with pytest.raises(ValueError, match=words):
        check_latent(z, 100)


def test_the_shape_checks_read_no_values():
    # What the models' forward passes run, every step: NaN and out-of-range
    # values pass; the value checks above are for input at the edges.
    check_image_shape(torch.full((2, 1, 32, 32), float("nan")), 1, 32)
    check_image_shape(torch.full((2, 1, 32, 32), 255.0), 1, 32)
    check_latent_shape(torch.full((4, 100), 2.0), 100)
    check_latent_shape(torch.full((4, 100), float("nan")), 100)


def test_the_shape_check_takes_uint8_images_only_when_asked():
    pixels = torch.zeros(2, 1, 32, 32, dtype=torch.uint8)
    check_image_shape(pixels, 1, 32, allow_uint8=True)
    with pytest.raises(ValueError, match="float tensor"):
        check_image_shape(pixels, 1, 32)
    with pytest.raises(ValueError, match=r"shape \(N, 1, 32, 32\)"):
        check_image_shape(pixels[0], 1, 32, allow_uint8=True)


def test_range_check_allows_half_precision_rounding_only():
    check_range(torch.tensor([1.0004, -1.0004]), -1, 1)
    for beyond in (1.01, -1.01):  # either bound
        with pytest.raises(ValueError, match=r"must lie in \[-1, 1\]"):
            check_range(torch.tensor([beyond]), -1, 1)


def test_non_finite_values_raise_their_own_kind_of_value_error():
    with pytest.raises(NonFiniteError, match="must be finite"):
        check_range(torch.tensor([float("nan")]), -1, 1)
    with pytest.raises(ValueError) as out_of_range:
        check_range(torch.tensor([2.0]), -1, 1)
    assert not isinstance(out_of_range.value, NonFiniteError)
