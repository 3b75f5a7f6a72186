import math

import pytest
import torch
import torch.nn.functional as F

from gankit import discriminator_loss, generator_loss
from gankit.losses import discriminator_accuracy


def test_discriminator_loss_uses_one_sided_smoothing():
    real = torch.tensor([2.0, -1.0, 0.5])
    fake = torch.tensor([-3.0, 0.2])
    loss_real, loss_fake = discriminator_loss(real, fake, smoothing=0.1)
    expected_real = -(0.9 * F.logsigmoid(real) + 0.1 * F.logsigmoid(-real)).mean()
    expected_fake = -F.logsigmoid(-fake).mean()  # fake targets stay exactly 0
    assert loss_real.item() == pytest.approx(expected_real.item(), rel=1e-6)
    assert loss_fake.item() == pytest.approx(expected_fake.item(), rel=1e-6)


def test_an_undecided_discriminator_loses_two_log_two():
    zeros = torch.zeros(8)
    loss_real, loss_fake = discriminator_loss(zeros, zeros, smoothing=0.0)
    assert (loss_real + loss_fake).item() == pytest.approx(2 * math.log(2))


def test_non_saturating_loss_is_minus_log_d():
    fake = torch.tensor([0.3, -2.0])
    expected = -torch.log(torch.sigmoid(fake)).mean()
    assert generator_loss(fake).item() == pytest.approx(expected.item(), rel=1e-6)


def test_saturating_loss_is_log_one_minus_d():
    fake = torch.tensor([0.3, -2.0])
    expected = torch.log(1 - torch.sigmoid(fake)).mean()
    got = generator_loss(fake, kind="saturating")
    assert got.item() == pytest.approx(expected.item(), rel=1e-6)


def test_saturating_gradient_vanishes_when_d_rejects_fakes_non_saturating_does_not():
    logit = torch.tensor([-10.0], requires_grad=True)  # D(G(z)) ~ 4.5e-5
    (g_sat,) = torch.autograd.grad(generator_loss(logit, "saturating"), logit)
    (g_ns,) = torch.autograd.grad(generator_loss(logit, "non_saturating"), logit)
    assert abs(g_sat.item()) < 1e-4
    assert abs(g_ns.item()) > 0.99


def test_losses_stay_finite_for_extreme_logits():
    big = torch.tensor([1e4, -1e4])
    assert torch.isfinite(torch.stack(discriminator_loss(big, big))).all()
    assert torch.isfinite(generator_loss(big)) and torch.isfinite(
        generator_loss(big, "saturating")
    )


def test_accuracy_counts_real_above_zero_and_fake_at_or_below():
    acc = discriminator_accuracy(torch.tensor([1.0, -1.0]), torch.tensor([-1.0, -2.0]))
    assert acc.item() == pytest.approx(0.75)
    # a logit of exactly 0 counts as "fake": wrong for a real image, right for a fake
    at_zero = discriminator_accuracy(torch.tensor([0.0]), torch.tensor([0.0]))
    assert at_zero.item() == pytest.approx(0.5)
    real_only = discriminator_accuracy(torch.tensor([0.0]), torch.tensor([-1.0]))
    assert real_only.item() == pytest.approx(0.5)


@pytest.mark.parametrize("bad", [torch.zeros(4, 1), torch.zeros(()), torch.zeros(0)])
def test_logits_of_the_wrong_shape_are_refused(bad):
    with pytest.raises(ValueError, match=r"shape \(N,\)"):
        generator_loss(bad)
    with pytest.raises(ValueError, match=r"shape \(N,\)"):
        discriminator_loss(bad, torch.zeros(4))


def test_unknown_loss_kind_and_smoothing_are_refused():
    with pytest.raises(ValueError, match="'non_saturating' or 'saturating'"):
        generator_loss(torch.zeros(2), kind="wasserstein")
    with pytest.raises(ValueError, match="smoothing"):
        discriminator_loss(torch.zeros(2), torch.zeros(2), smoothing=1.0)


@pytest.mark.parametrize("kind", ["non_saturating", "saturating"])
def test_generator_losses_stay_float32_under_bfloat16_autocast(kind):
    logits = torch.randn(8)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = generator_loss(logits.bfloat16(), kind)
    assert loss.dtype == torch.float32
    assert loss.item() == pytest.approx(
        generator_loss(logits.bfloat16().float(), kind).item()
    )


@pytest.mark.parametrize("kind", ["non_saturating", "saturating"])
def test_generator_losses_keep_float64_and_its_exact_gradients(kind):
    x = torch.randn(5, dtype=torch.float64, requires_grad=True)
    assert generator_loss(x, kind).dtype == torch.float64
    assert torch.autograd.gradcheck(lambda t: generator_loss(t, kind), (x,))
