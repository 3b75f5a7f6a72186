import copy
import dataclasses

import pytest
import torch

from gankit import (
    Discriminator,
    GANConfig,
    Generator,
    Trainer,
    sample_z,
    synthetic_dataset,
)
from gankit.lessons.improved import (
    MinibatchDiscrimination,
    feature_matching_loss,
    feature_matching_step,
    largest_singular_values,
)
from gankit.losses import generator_loss
from gankit.step import METRICS, discriminator_update


def models(seed=0, spectral_norm=False):
    torch.manual_seed(seed)
    g = Generator(z_dim=8, channels=1, image_size=32)
    d = Discriminator(channels=1, image_size=32, spectral_norm=spectral_norm)
    return g, d


def optimizers(g, d):
    return torch.optim.Adam(g.parameters(), 2e-4), torch.optim.Adam(
        d.parameters(), 2e-4
    )


def test_feature_matching_loss_is_zero_for_identical_batches():
    f = torch.randn(6, 10)
    assert feature_matching_loss(f, f.clone()) == 0


def test_feature_matching_loss_compares_means_only():
    f = torch.randn(6, 10)
    assert feature_matching_loss(f, f.flip(0)) == pytest.approx(0, abs=1e-10)


def test_feature_matching_loss_is_the_squared_distance_of_the_means():
    real, fake = torch.zeros(4, 3), torch.ones(2, 3)
    assert feature_matching_loss(real, fake) == pytest.approx(3.0)
    assert feature_matching_loss(torch.randn(5, 10), torch.randn(5, 10)) > 0


def test_feature_matching_loss_gradient_reaches_the_generator():
    g, d = models()
    z = sample_z(4, 8)
    real = torch.rand(4, 1, 32, 32) * 2 - 1
    loss = feature_matching_loss(d.features_of(real), d.features_of(g(z)))
    loss.backward()
    grads = [p.grad for p in g.parameters()]
    assert all(gr is not None for gr in grads)
    assert sum(float(gr.abs().sum()) for gr in grads) > 0


def test_feature_matching_step_returns_train_steps_figures_and_updates_both():
    g, d = models()
    opt_g, opt_d = optimizers(g, d)
    g_before = [p.detach().clone() for p in g.parameters()]
    d_before = [p.detach().clone() for p in d.parameters()]
    cfg = GANConfig(z_dim=8)
    real = torch.rand(4, 1, 32, 32) * 2 - 1
    metrics = feature_matching_step(g, d, opt_g, opt_d, real, sample_z(4, 8), cfg)
    assert set(metrics) == set(METRICS)
    assert all(v.dim() == 0 and not v.requires_grad for v in metrics.values())
    assert metrics["g_loss"] > 0
    assert any(
        not torch.equal(a, b) for a, b in zip(g_before, g.parameters(), strict=True)
    )
    assert any(
        not torch.equal(a, b) for a, b in zip(d_before, d.parameters(), strict=True)
    )
    assert all(p.requires_grad for p in d.parameters())


def test_the_generators_loss_is_feature_matching_against_the_updated_d():
    """g_loss is the distance between the mean features the updated D gives the
    real batch and the generated one, recomputed here on copies of the models."""
    g, d = models()
    cfg = GANConfig(z_dim=8, g_steps_per_d_step=1)
    real, z = torch.rand(4, 1, 32, 32) * 2 - 1, sample_z(4, 8)
    g2, d2 = copy.deepcopy(g), copy.deepcopy(d)
    opt_g, opt_d = optimizers(g, d)
    _, opt_d2 = optimizers(g2, d2)
    metrics = feature_matching_step(g, d, opt_g, opt_d, real, z, cfg)
    update = discriminator_update(g2, d2, opt_d2, real, z, cfg.label_smoothing)
    with torch.no_grad():
        expected = feature_matching_loss(
            d2.features_of(real), d2.features_of(update.fake)
        )
    torch.testing.assert_close(metrics["g_loss"], expected)
    # and it is not the usual loss on the same images
    with torch.no_grad():
        bce = generator_loss(d2(update.fake), "non_saturating")
    assert not torch.allclose(metrics["g_loss"], bce, rtol=1e-2)


def test_feature_matching_step_needs_features_of():
    g, _ = models()
    d = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(1024, 1))
    opt_g, opt_d = optimizers(g, d)
    with pytest.raises(ValueError, match="features_of"):
        feature_matching_step(
            g, d, opt_g, opt_d, torch.zeros(2, 1, 32, 32), sample_z(2, 8), GANConfig()
        )


def test_trainer_runs_feature_matching_step_as_its_step_fn():
    calls = []

    def counting_step(*args):
        calls.append(1)
        return feature_matching_step(*args)

    cfg = dataclasses.replace(
        GANConfig(z_dim=8), batch_size=4, log_every=1, sample_every=100
    )
    data = synthetic_dataset(16, channels=1)
    trainer = Trainer(cfg, data, device="cpu", progress=False, step_fn=counting_step)
    history = trainer.fit(2)
    assert len(calls) == 2 and len(history) == 2
    assert all(g > 0 for g in history.g_loss)


def test_minibatch_discrimination_adds_out_features():
    layer = MinibatchDiscrimination(in_features=10, out_features=4, kernel_dims=3)
    x = torch.randn(5, 10)
    out = layer(x)
    assert out.shape == (5, 14)
    torch.testing.assert_close(out[:, :10], x)


def test_minibatch_discrimination_scores_a_collapsed_batch_n_minus_one():
    torch.manual_seed(0)
    layer = MinibatchDiscrimination(in_features=10, out_features=4, kernel_dims=3)
    same = layer(torch.randn(1, 10).expand(6, 10))[:, 10:]
    varied = layer(torch.randn(6, 10) * 10)[:, 10:]
    torch.testing.assert_close(same, torch.full((6, 4), 5.0))
    assert varied.max() < 1


def test_minibatch_discrimination_rejects_wrong_features():
    layer = MinibatchDiscrimination(in_features=10)
    with pytest.raises(ValueError, match=r"\(N, 10\)"):
        layer(torch.randn(5, 9))
    with pytest.raises(ValueError):
        MinibatchDiscrimination(in_features=0)


def test_spectral_norm_bounds_every_layer_near_one():
    _, d = models(spectral_norm=True)
    d(torch.rand(8, 1, 32, 32) * 2 - 1)  # one training-mode power iteration
    sigmas = largest_singular_values(d)
    assert len(sigmas) == 4  # three convolutions and the classifier
    # Power iteration estimates the norm from below: 1 or a little above.
    assert all(0.999 < s < 1.1 for s in sigmas.values()), sigmas


def test_without_spectral_norm_the_singular_values_follow_the_weights():
    _, d = models()
    before = largest_singular_values(d)
    with torch.no_grad():
        d.classifier.weight.mul_(3)
    after = largest_singular_values(d)
    assert after["classifier"] == pytest.approx(3 * before["classifier"], rel=1e-4)


def test_largest_singular_values_leave_the_power_iteration_and_mode_alone():
    _, d = models(spectral_norm=True)
    d.train()
    state = {k: v.clone() for k, v in d.state_dict().items()}
    largest_singular_values(d)
    assert d.training
    assert all(torch.equal(state[k], v) for k, v in d.state_dict().items())


def test_largest_singular_values_needs_layers():
    with pytest.raises(ValueError, match="no convolution"):
        largest_singular_values(torch.nn.ReLU())
