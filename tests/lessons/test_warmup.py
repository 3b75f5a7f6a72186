"""The warm-up's 1-D GAN: tickets, forger, door, feedback and training."""

import gc
import math

import matplotlib
import pytest
import torch

from gankit.lessons.warmup import (
    REAL_TICKETS,
    Door,
    DoorReport,
    Forger,
    TicketDistribution,
    WarmupHistory,
    animate_warmup,
    fit_door,
    play_round,
    plot_tickets,
    ticket_game_config,
    train_warmup,
    try_the_door,
)
from gankit.losses import generator_loss

matplotlib.use("Agg")


def test_real_tickets_have_the_stated_mean_and_spread():
    x = REAL_TICKETS.sample(20_000, torch.Generator().manual_seed(0))
    assert x.shape == (20_000,)
    assert x.mean().item() == pytest.approx(REAL_TICKETS.mean, abs=0.02)
    assert x.std().item() == pytest.approx(REAL_TICKETS.std, abs=0.02)


def test_real_density_integrates_to_one():
    grid = torch.linspace(-2, 8, 2001)
    area = torch.trapezoid(REAL_TICKETS.density(grid), grid).item()
    assert area == pytest.approx(1.0, abs=1e-4)


def test_forger_is_an_affine_map_of_noise():
    forger = Forger(mean=2.0, std=0.5)
    x = forger(torch.tensor([0.0, 1.0, -2.0]))
    torch.testing.assert_close(x, torch.tensor([2.0, 2.5, 1.0]))
    assert forger.std.item() == pytest.approx(0.5)
    assert {n for n, _ in forger.named_parameters()} == {"mean", "log_std"}


def test_door_returns_one_logit_per_ticket_and_a_probability_verdict():
    door = Door()
    x = torch.linspace(-3, 3, 7)
    assert door(x).shape == (7,)
    verdict = door.verdict(x)
    assert verdict.shape == (7,)
    assert ((verdict > 0) & (verdict < 1)).all()
    torch.testing.assert_close(verdict, torch.sigmoid(door(x)).detach())


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Door()(torch.zeros(4, 1)), r"shape \(N,\), one number per ticket"),
        (lambda: Door()(torch.zeros(4, dtype=torch.long)), "float tensor"),
        (lambda: Forger(std=0.0), "std must be a finite number > 0"),
        (lambda: Forger(mean=math.nan), "mean must be a finite number"),
        (lambda: TicketDistribution(3.0, -1.0), "std must be a finite number > 0"),
        (lambda: Door(hidden=0), "hidden must be at least 1"),
        (lambda: REAL_TICKETS.sample(0), "n must be at least 1"),
        (lambda: train_warmup(0), "steps must be at least 1"),
        (lambda: fit_door(Forger(), steps=0), "steps must be at least 1"),
    ],
)
def test_bad_input_raises_a_clear_value_error(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_a_trained_door_tells_a_poor_forgery_from_real_tickets():
    forger = Forger(mean=0.0, std=0.5)
    door = fit_door(forger, steps=100, batch_size=128)
    assert door.verdict(torch.tensor([REAL_TICKETS.mean])).item() > 0.9
    assert try_the_door(forger, door, n=512).p_real < 0.1


def test_fitting_a_door_leaves_the_forger_as_it_was():
    forger = Forger(mean=1.0, std=0.7)
    fit_door(forger, steps=5)
    assert forger.mean.item() == 1.0
    assert forger.std.item() == pytest.approx(0.7)
    assert forger.mean.grad is None and forger.log_std.grad is None


@pytest.mark.parametrize(
    ("mean", "std", "mean_step", "std_step"),
    [
        (0.0, 0.5, +1, None),  # left of the real tickets: move right
        (6.0, 0.5, -1, None),  # right of them: move left
        (3.0, 2.0, None, -1),  # centred but too spread out: narrow
        (3.0, 0.15, None, +1),  # centred but too tight: widen
    ],
)
def test_feedback_points_the_forger_towards_the_real_tickets(
    mean, std, mean_step, std_step
):
    forger = Forger(mean, std)
    report = try_the_door(forger, fit_door(forger), n=1024)
    # The forger moves against the gradient.
    if mean_step is not None:
        assert math.copysign(1, -report.grad_mean) == mean_step
        assert abs(report.grad_mean) > 0.5
    if std_step is not None:
        assert math.copysign(1, -report.grad_std) == std_step
        assert abs(report.grad_std) > 0.05


def test_feedback_is_the_derivative_of_the_generator_loss():
    forger, door = Forger(1.0, 0.8), Door()
    report = try_the_door(forger, door, n=256)
    z = torch.randn(256, generator=torch.Generator().manual_seed(0))

    def loss(mean: float, std: float) -> float:
        with torch.no_grad():
            return generator_loss(door(mean + std * z)).item()

    h = 1e-3
    d_mean = (loss(1.0 + h, 0.8) - loss(1.0 - h, 0.8)) / (2 * h)
    d_std = (loss(1.0, 0.8 + h) - loss(1.0, 0.8 - h)) / (2 * h)
    assert report.g_loss == pytest.approx(loss(1.0, 0.8), rel=1e-5)
    assert report.grad_mean == pytest.approx(d_mean, rel=1e-2, abs=1e-4)
    assert report.grad_std == pytest.approx(d_std, rel=1e-2, abs=1e-4)
    assert forger.mean.grad is None and forger.log_std.grad is None


def test_advice_puts_the_gradient_into_words():
    report = DoorReport(p_real=0.2, g_loss=1.6, grad_mean=-1.0, grad_std=0.5)
    assert report.advice() == "move the mean right (1.00), narrow the spread (0.50)"
    tiny = DoorReport(p_real=0.5, g_loss=0.7, grad_mean=0.3, grad_std=-0.01)
    assert tiny.advice() == "move the mean left (0.30), keep the spread (0.01)"


def test_history_records_every_step_and_evenly_spaced_snapshots():
    history = train_warmup(20, seed=0, frames=5)
    assert history.step == list(range(21))
    assert all(len(v) == 21 for v in (history.mean, history.std, history.d_fake))
    assert [s.step for s in history.snapshots] == [0, 5, 10, 15, 20]
    assert history.snapshots[-1].verdict.shape == history.grid.shape
    assert history.mean[-1] == pytest.approx(history.forger.mean.item())


def test_training_is_deterministic_with_a_seed_and_leaves_global_rng_alone(
    accelerator_seeds_untouched,
):
    torch.default_generator.manual_seed(123)
    expected = torch.rand(3)
    torch.default_generator.manual_seed(123)
    a = train_warmup(30, seed=4)
    assert torch.equal(torch.rand(3), expected)
    b = train_warmup(30, seed=4)
    c = train_warmup(30, seed=5)
    assert a.mean == b.mean and a.std == b.std and a.d_loss == b.d_loss
    assert a.mean != c.mean


def test_training_brings_the_forgery_onto_the_real_tickets():
    history = train_warmup(300, seed=0)
    assert history.mean[-1] == pytest.approx(REAL_TICKETS.mean, abs=0.1)
    assert history.std[-1] == pytest.approx(REAL_TICKETS.std, abs=0.1)
    assert min(history.d_fake[:50]) < 0.2  # the door first catches the forgery
    late = history.d_fake[-50:]
    assert sum(late) / len(late) == pytest.approx(0.5, abs=0.05)  # then it shrugs


@pytest.mark.filterwarnings("ignore:Animation was deleted")
def test_plot_and_animation_draw_the_snapshots():
    import matplotlib.pyplot as plt

    history = train_warmup(8, seed=0, frames=4)
    ax, ax_door = plot_tickets(REAL_TICKETS, 0.0, 1.0, history.door)
    assert len(ax.get_lines()) == 1 and len(ax_door.get_lines()) == 2
    plt.close(ax.figure)
    anim = animate_warmup(history)
    assert len(list(anim.new_frame_seq())) == 4
    del anim  # matplotlib warns when an animation dies unshown: let it, here
    gc.collect()
    with pytest.raises(ValueError, match="no snapshots"):
        animate_warmup(WarmupHistory(REAL_TICKETS, history.grid))


def test_a_round_of_the_game_reports_and_draws_the_forgery():
    import matplotlib.pyplot as plt

    report, fig = play_round(0.0, 1.0, door_steps=50)
    forger = Forger(0.0, 1.0)
    expected = try_the_door(forger, fit_door(forger, steps=50))
    assert report == expected
    assert len(fig.axes) == 2  # densities and the door's verdict
    plt.close(fig)


def test_train_warmup_puts_the_thread_count_back():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        train_warmup(2)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_the_games_page_twin_gets_play_rounds_own_settings():
    mean = {"value": 0.0, "min": -2.0, "max": 6.0, "step": 0.1}
    std = {"value": 1.0, "min": 0.1, "max": 2.5, "step": 0.05}
    cfg = ticket_game_config(mean, std, grid=torch.linspace(-3.0, 8.0, 221))
    assert cfg["mean"] == mean and cfg["std"] == std
    assert cfg["real"] == {"mean": REAL_TICKETS.mean, "std": REAL_TICKETS.std}
    assert cfg["door"] == {
        "steps": 200,
        "batch_size": 256,
        "lr": 0.05,
        "hidden": 16,
        "seed": 0,
        "betas": [0.5, 0.999],
    }
    assert cfg["report"] == {"n": 4096, "seed": 0, "tolerance": 0.02}
    assert cfg["grid"] == {"lo": -3.0, "hi": 8.0, "n": 221}
    with pytest.raises(ValueError, match="evenly spaced"):
        ticket_game_config(mean, std, grid=torch.tensor([0.0, 1.0, 3.0]))
