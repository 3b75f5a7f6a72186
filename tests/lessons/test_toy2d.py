"""The 2-D toy (``gankit.lessons.toy2d``): the ring, its players, game and theory."""

import math
from dataclasses import replace

import pytest
import torch
from torch import nn

from gankit.lessons.toy2d import (
    ToyConfig,
    ToyDiscriminator,
    ToyGenerator,
    decision_surface,
    mode_coverage,
    optimal_discriminator,
    ring_centers,
    sample_ring,
    snapshot_schedule,
    toy_samples,
    toy_step,
    train_toy,
    value_function,
)


def seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# --- the ring ---------------------------------------------------------------


def test_ring_centers_lie_evenly_on_the_circle():
    centers = ring_centers(8, radius=2.0)
    assert centers.shape == (8, 2)
    torch.testing.assert_close(centers.norm(dim=1), torch.full((8,), 2.0))
    torch.testing.assert_close(centers[0], torch.tensor([2.0, 0.0]))
    angles = torch.atan2(centers[:, 1], centers[:, 0]).remainder(2 * math.pi)
    torch.testing.assert_close(angles.diff(), torch.full((7,), math.pi / 4))


def test_sample_ring_puts_equal_shares_near_each_centre():
    points = sample_ring(8000, 8, radius=2.0, std=0.1, generator=seeded())
    assert points.shape == (8000, 2)
    dist, nearest = torch.cdist(points, ring_centers(8, 2.0)).min(dim=1)
    assert float(dist.max()) < 6 * 0.1
    shares = torch.bincount(nearest, minlength=8).float() / 8000
    assert float((shares - 1 / 8).abs().max()) < 0.02


def test_sample_ring_is_reproducible_with_a_seeded_generator():
    a = sample_ring(100, generator=seeded(3))
    b = sample_ring(100, generator=seeded(3))
    c = sample_ring(100, generator=seeded(4))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


@pytest.mark.parametrize(
    "call",
    [
        lambda: ring_centers(0),
        lambda: ring_centers(8, radius=-1.0),
        lambda: sample_ring(-1),
        lambda: sample_ring(10, std=0.0),
    ],
)
def test_ring_rejects_bad_arguments(call):
    with pytest.raises(ValueError):
        call()


# --- the players --------------------------------------------------------------


def test_players_have_the_documented_shapes():
    g, d = ToyGenerator(z_dim=3, hidden=16), ToyDiscriminator(hidden=16)
    points = g(torch.rand(5, 3) * 2 - 1)
    assert points.shape == (5, 2)
    assert d(points).shape == (5,)


def test_players_reject_wrong_shapes():
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        ToyGenerator(z_dim=3)(torch.zeros(4, 2))
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        ToyDiscriminator()(torch.zeros(4, 3))
    with pytest.raises(ValueError):
        ToyGenerator(hidden=0)


@pytest.mark.parametrize(
    "change",
    [
        dict(g_loss="wasserstein"),
        dict(batch_size=0),
        dict(lr_g=0.0),
        dict(g_steps_per_d_step=0),
    ],
)
def test_config_rejects_bad_settings(change):
    with pytest.raises(ValueError):
        replace(ToyConfig(), **change)


# --- training -------------------------------------------------------------------


def test_snapshot_schedule_spans_the_run():
    assert snapshot_schedule(100, 5) == [0, 25, 50, 75, 100]
    assert snapshot_schedule(100, 1) == [100]
    assert snapshot_schedule(100, 0) == []
    with pytest.raises(ValueError):
        snapshot_schedule(-1, 3)


def test_train_toy_records_every_step_and_its_snapshots():
    cfg = ToyConfig(hidden=16, batch_size=32)
    history = train_toy(10, cfg, n_snapshots=3, n_fixed=50, resolution=7)
    assert history.step == list(range(1, 11))
    assert len(history.d_loss) == len(history.g_loss) == len(history.d_fake) == 10
    assert [s.step for s in history.snapshots] == [0, 5, 10]
    snap = history.snapshots[-1]
    assert snap.fake.shape == (50, 2)
    assert snap.surface.shape == (7, 7)
    assert 0.0 <= float(snap.surface.min()) <= float(snap.surface.max()) <= 1.0


def test_train_toy_is_deterministic_given_the_seed(accelerator_seeds_untouched):
    cfg = ToyConfig(hidden=16, batch_size=32)
    before = torch.get_rng_state()
    a = train_toy(15, cfg, n_snapshots=1)
    assert torch.equal(torch.get_rng_state(), before)  # its own generators only
    b = train_toy(15, cfg, n_snapshots=1)
    c = train_toy(15, replace(cfg, seed=1), n_snapshots=1)
    assert a.d_loss == b.d_loss
    assert torch.equal(a.snapshots[0].fake, b.snapshots[0].fake)
    assert a.d_loss != c.d_loss


def test_a_short_training_spreads_the_generator_over_the_modes():
    history = train_toy(100, ToyConfig(), n_snapshots=2, n_fixed=1000)
    centers, std = ring_centers(), ToyConfig().std
    before = mode_coverage(history.snapshots[0].fake, centers, std)
    after = mode_coverage(history.snapshots[-1].fake, centers, std)
    assert before.modes == 0  # an untrained G puts everything near its bias
    assert after.modes >= 4
    assert after.high_quality > before.high_quality


def test_toy_samples_are_reproducible():
    g = ToyGenerator(hidden=8)
    assert torch.equal(toy_samples(g, 20, seed=1), toy_samples(g, 20, seed=1))
    assert toy_samples(g, 20).shape == (20, 2)


# --- looking at the game --------------------------------------------------------


class _LeftRight(nn.Module):
    """A discriminator that says 'real' to the right of the y axis."""

    def forward(self, x):
        return 10 * x[:, 0]


def test_decision_surface_is_indexed_rows_by_y_and_columns_by_x():
    xx, yy, prob = decision_surface(_LeftRight(), extent=2.0, resolution=5)
    assert xx.shape == yy.shape == prob.shape == (5, 5)
    torch.testing.assert_close(xx[0], torch.linspace(-2, 2, 5))
    torch.testing.assert_close(yy[:, 0], torch.linspace(-2, 2, 5))
    assert bool((prob[:, -1] > 0.99).all()) and bool((prob[:, 0] < 0.01).all())
    torch.testing.assert_close(prob[:, 2], torch.full((5,), 0.5))


def test_coverage_of_real_data_is_complete():
    centers = ring_centers()
    cov = mode_coverage(sample_ring(4000, std=0.1, generator=seeded()), centers, 0.1)
    assert cov.modes == 8
    assert cov.high_quality > 0.98  # 3 sigma in 2-D holds 98.9 %


def test_coverage_detects_a_collapsed_sample_set():
    centers = ring_centers()
    on_two = centers[[1, 5]].repeat(500, 1) + 0.01 * torch.randn(1000, 2)
    cov = mode_coverage(on_two, centers, 0.1)
    assert cov.modes == 2
    assert (
        cov.covered.tolist() == [False, True, False, False, False, True] + [False] * 2
    )
    assert cov.high_quality == pytest.approx(1.0)

    at_origin = torch.zeros(1000, 2)
    cov = mode_coverage(at_origin, centers, 0.1)
    assert cov.modes == 0 and cov.high_quality == 0.0


def test_coverage_ignores_modes_below_the_minimum_share():
    centers = ring_centers()
    points = torch.cat([centers[[0]].repeat(995, 1), centers[[3]].repeat(5, 1)])
    assert mode_coverage(points, centers, 0.1, min_share=0.01).modes == 1
    assert mode_coverage(points, centers, 0.1, min_share=0.005).modes == 2


@pytest.mark.parametrize(
    "samples, std",
    [
        (torch.zeros(10, 3), 0.1),
        (torch.zeros(0, 2), 0.1),
        (torch.zeros(10, 2), 0.0),
        (torch.full((10, 2), float("nan")), 0.1),
    ],
)
def test_coverage_rejects_bad_input(samples, std):
    with pytest.raises(ValueError):
        mode_coverage(samples, ring_centers(), std)


# --- the theory on a grid ---------------------------------------------------------


def normal_pdf(x: torch.Tensor, mean: float, std: float) -> torch.Tensor:
    return torch.exp(-0.5 * ((x - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))


X = torch.linspace(-6, 6, 2001, dtype=torch.float64)
DX = float(X[1] - X[0])
P_DATA = 0.5 * normal_pdf(X, -2, 0.5) + 0.5 * normal_pdf(X, 2, 0.5)
P_G = normal_pdf(X, 0, 1.5)


def test_optimal_discriminator_is_one_half_when_the_densities_match():
    d_star = optimal_discriminator(P_DATA, P_DATA.clone())
    torch.testing.assert_close(d_star, torch.full_like(X, 0.5))
    value = value_function(d_star, P_DATA, P_DATA, DX)
    assert float(value) == pytest.approx(-math.log(4), abs=1e-6)


def test_optimal_discriminator_is_the_density_ratio_and_maximises_v():
    d_star = optimal_discriminator(P_DATA, P_G)
    assert float(d_star[1000]) == pytest.approx(
        float(P_DATA[1000] / (P_DATA[1000] + P_G[1000]))
    )
    best = value_function(d_star, P_DATA, P_G, DX)
    assert float(best) > -math.log(4)  # the generator is not the data
    for other in (torch.full_like(X, 0.5), d_star.clamp(0.1, 0.9), d_star**1.2):
        assert float(value_function(other, P_DATA, P_G, DX)) < float(best)


def test_optimal_discriminator_where_nothing_is_seen_is_one_half():
    zero = torch.zeros(3)
    torch.testing.assert_close(optimal_discriminator(zero, zero), torch.full((3,), 0.5))


def test_value_function_ignores_log_zero_where_a_density_vanishes():
    p, q = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    value = float(value_function(torch.tensor([1.0, 0.0]), p, q, 1.0))
    assert value == pytest.approx(0.0, abs=1e-6)


def test_value_function_stays_finite_where_the_optimal_d_rounds_to_one():
    p = torch.tensor([1.0, 0.5], dtype=torch.float64)
    q = torch.tensor([1e-20, 0.5], dtype=torch.float64)
    d_star = optimal_discriminator(p, q)
    assert float(d_star[0]) == 1.0  # 1 / (1 + 1e-20) rounds to 1
    value = float(value_function(d_star, p, q, 1.0))
    assert value == pytest.approx(2 * 0.5 * math.log(0.5), abs=1e-12)


@pytest.mark.parametrize(
    "call",
    [
        lambda: optimal_discriminator(torch.ones(3), torch.ones(4)),
        lambda: optimal_discriminator(-torch.ones(3), torch.ones(3)),
        lambda: value_function(
            torch.full((3,), 1.5), torch.ones(3), torch.ones(3), 0.1
        ),
        lambda: value_function(torch.ones(3), torch.ones(3), torch.ones(3), 0.0),
        lambda: value_function(torch.ones(2), torch.ones(3), torch.ones(3), 0.1),
    ],
)
def test_theory_helpers_reject_bad_input(call):
    with pytest.raises(ValueError):
        call()


def test_a_toy_step_leaves_the_layers_the_caller_froze_frozen():
    cfg = ToyConfig(hidden=16, batch_size=8)
    g, d = ToyGenerator(z_dim=cfg.z_dim, hidden=16), ToyDiscriminator(hidden=16)
    first = next(m for m in d.modules() if isinstance(m, nn.Linear))
    first.requires_grad_(False)
    opt_g = torch.optim.Adam(g.parameters(), 1e-3)
    opt_d = torch.optim.Adam(d.parameters(), 1e-3)
    toy_step(g, d, opt_g, opt_d, torch.randn(8, 2), torch.randn(8, cfg.z_dim), cfg)
    assert not any(p.requires_grad for p in first.parameters())
    assert any(p.requires_grad for p in d.parameters())


def test_the_pictures_helpers_follow_the_models_device():
    # "meta" tensors stand in for a GPU's: any tensor made on the CPU instead
    # would fail to meet them.
    d = ToyDiscriminator(hidden=8).to("meta")
    xx, yy, prob = decision_surface(d, 3.0, 4)
    assert prob.device.type == "meta" and prob.shape == (4, 4)
    g = ToyGenerator(z_dim=3, hidden=8).to("meta")
    assert toy_samples(g, 5).device.type == "meta"


def test_the_optimal_discriminator_takes_counts():
    counts_data, counts_g = torch.tensor([3, 0, 1]), torch.tensor([1, 0, 1])
    d = optimal_discriminator(counts_data, counts_g)
    torch.testing.assert_close(d, torch.tensor([0.75, 0.5, 0.5]))


@pytest.mark.parametrize("g_steps", [1, 3])
def test_a_toy_step_makes_the_generator_steps_its_config_asks_for(g_steps):
    cfg = ToyConfig(hidden=16, batch_size=8, g_steps_per_d_step=g_steps)
    g, d = ToyGenerator(z_dim=cfg.z_dim, hidden=16), ToyDiscriminator(hidden=16)
    opt_g = torch.optim.Adam(g.parameters(), 1e-3)
    opt_d = torch.optim.Adam(d.parameters(), 1e-3)
    toy_step(g, d, opt_g, opt_d, torch.randn(8, 2), torch.randn(8, cfg.z_dim), cfg)
    steps_g = {int(s["step"]) for s in opt_g.state.values()}
    steps_d = {int(s["step"]) for s in opt_d.state.values()}
    assert (steps_g, steps_d) == ({g_steps}, {1})
