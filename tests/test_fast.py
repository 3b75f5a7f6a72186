"""How the trainer runs each step (``gankit.fast``): what a CPU can check of
the StepRunner and of the CUDA-graph path; the GPU run is benchmarked."""

import math
import warnings

import pytest
import torch

from gankit import GANConfig, Trainer, synthetic_dataset
from gankit.fast import GraphedStep, StepRunner, _state_tensors
from gankit.step import METRICS, build_models, train_step


def test_the_graph_path_is_off_on_a_cpu_even_when_asked_for():
    trainer = Trainer(
        GANConfig(batch_size=8),
        synthetic_dataset(16),
        device="cpu",
        progress=False,
        fast=True,
    )
    assert trainer.fast is False
    assert trainer.opt_g.param_groups[0]["capturable"] is False


def test_graphed_step_refuses_a_cpu_model():
    cfg = GANConfig(batch_size=4)
    g, d = build_models(cfg)
    opts = [torch.optim.Adam(m.parameters()) for m in (g, d)]
    with pytest.raises(ValueError, match="CUDA device"):
        GraphedStep(g, d, *opts, cfg)


def test_state_tensors_cover_weights_buffers_and_optimizer_state():
    cfg = GANConfig(batch_size=4)
    g, d = build_models(cfg)
    opt = torch.optim.Adam(d.parameters())
    d(torch.zeros(4, 1, 32, 32)).sum().backward()
    opt.step()
    ids = {id(t) for t in _state_tensors((g, d), (opt,))}
    assert id(g.project.weight) in ids
    assert id(d.features[1][1].running_mean) in ids  # a batch-norm buffer
    assert all(id(s["exp_avg"]) in ids for s in opt.state.values())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_graph_and_eager_paths_learn_the_same_on_a_gpu():
    data = synthetic_dataset(512)
    cfg = GANConfig(batch_size=64, log_every=5)
    eager = Trainer(cfg, data, device="cuda", progress=False, fast=False).fit(20)
    graph = Trainer(cfg, data, device="cuda", progress=False, fast=True).fit(20)
    assert graph.d_loss == pytest.approx(eager.d_loss, rel=1e-3, abs=1e-4)
    assert graph.g_loss == pytest.approx(eager.g_loss, rel=1e-3, abs=1e-4)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize(
    "options",
    [
        {"channels_last": True},
        {"precision": "bf16"},
        {"precision": "bf16", "channels_last": True},
    ],
)
def test_the_graph_captures_the_other_layouts_and_precisions(options):
    data = synthetic_dataset(512, channels=3)
    cfg = GANConfig(batch_size=64, log_every=5, channels=3)
    plain = Trainer(cfg, data, device="cuda", progress=False).fit(20)
    trainer = Trainer(cfg, data, device="cuda", progress=False, **options)
    with warnings.catch_warnings():
        # A failed capture warns and trains eagerly: make that warning fail.
        warnings.filterwarnings("error", message="CUDA graph capture failed")
        history = trainer.fit(20)
    assert trainer.runner.graphed
    assert all(math.isfinite(v) for v in history.d_loss + history.g_loss)
    # the first log (steps 1 to 5) starts from the same weights
    assert history.d_loss[0] == pytest.approx(plain.d_loss[0], rel=5e-2)


def runner_parts(cfg):
    g, d = build_models(cfg)
    opts = (torch.optim.Adam(g.parameters()), torch.optim.Adam(d.parameters()))
    return (g, d), opts


def test_the_runner_refuses_a_precision_other_than_fp32_or_bf16():
    cfg = GANConfig(batch_size=4)
    with pytest.raises(ValueError, match="precision must be 'fp32' or 'bf16'"):
        StepRunner(train_step, *runner_parts(cfg), cfg, precision="fp16")


def test_the_runner_without_a_graph_runs_the_step_and_returns_its_figures():
    cfg = GANConfig(batch_size=4)
    models, opts = runner_parts(cfg)
    calls, figures = [], {"d_loss": torch.tensor(0.5)}

    def step(*args):
        calls.append(args)
        return figures

    runner = StepRunner(step, models, opts, cfg, graph=False)
    real, z = torch.zeros(4, 1, 32, 32), torch.zeros(4, cfg.z_dim)
    assert runner(real, z) is figures
    ((*trained, got_real, got_z, got_cfg),) = calls
    assert trained == [*models, *opts]
    assert torch.equal(got_real, real) and got_z is z and got_cfg is cfg


def test_a_graph_that_cannot_be_captured_falls_back_to_the_eager_step():
    cfg = GANConfig(batch_size=4)
    runner = StepRunner(train_step, *runner_parts(cfg), cfg, graph=True)
    with pytest.warns(RuntimeWarning, match="CUDA graph capture failed"):
        figures = runner(torch.zeros(4, 1, 32, 32), torch.zeros(4, cfg.z_dim))
    assert runner.graphed is False and set(figures) == set(METRICS)
