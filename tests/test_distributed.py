"""Training on several processes: two CPU processes under torchrun, with gloo.

Each test launches ``python -m torch.distributed.run`` on this very file, whose
``__main__`` part below is what every rank runs.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
import torch
import torch.distributed as dist

from gankit import GANConfig, Trainer, load_checkpoint, sample_z, train_step
from gankit.trainer import CHECKPOINT_NAME

WORLD = 2
STEPS = 4


def torchrun(mode: str, out: Path) -> tuple[list[str], dict[str, str]]:
    """The command and environment that run this file's ``mode`` on two CPU
    processes."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    cmd += ["--nproc-per-node", str(WORLD), __file__, mode, str(out)]
    return cmd, {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}


def launch(mode: str, out: Path, timeout: float) -> subprocess.CompletedProcess:
    """Run this file's ``mode`` on two CPU processes; give up after ``timeout`` s."""
    cmd, env = torchrun(mode, out)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture(scope="module")
def two_rank_run(tmp_path_factory, mnist):
    """Two ranks train STEPS steps through the CLI (``-m gankit train``)."""
    out = tmp_path_factory.mktemp("ddp")
    run = launch("train", out, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    ranks = [torch.load(out / f"rank{r}.pt", weights_only=True) for r in range(WORLD)]
    return out, ranks, run


def test_the_ranks_stay_identical_after_every_step(two_rank_run):
    _, ranks, _ = two_rank_run
    for r in ranks:  # (generator, discriminator) after each step
        assert r["same"] == [(True, True)] * STEPS
        # chapter 6's feature-matching step runs on the wrapped models too
        assert r["fm_same"] == [(True, True)] * 2


def test_each_rank_takes_its_share_of_the_one_process_batches_and_noise(
    two_rank_run, mnist
):
    out, ranks, _ = two_rank_run
    cfg = GANConfig(**load_checkpoint(out / CHECKPOINT_NAME)["config"])
    alone = Trainer(cfg, mnist, device="cpu", progress=False)
    noise = torch.Generator().manual_seed(cfg.seed + 1)
    for step in range(STEPS):
        alone.step = step
        batch = alone.next_batch()
        z = sample_z(cfg.batch_size, cfg.z_dim, generator=noise)
        for r, rec in enumerate(ranks):
            assert torch.equal(rec["real"][step], batch[r::WORLD])
            assert torch.equal(rec["z"][step], z[r::WORLD])
        assert not torch.equal(ranks[0]["z"][step], ranks[1]["z"][step])


def test_rank_0_alone_writes_one_checkpoint_and_the_grids(two_rank_run):
    out, ranks, run = two_rank_run
    assert [r["saves"] for r in ranks] == [1, 0]  # saved once, at the end
    assert ranks[1]["grids"] == 0 and ranks[0]["grids"] > 0
    assert sorted(p.name for p in out.glob("*.pt")) == [
        CHECKPOINT_NAME,
        "rank0.pt",
        "rank1.pt",
    ]
    assert (out / "samples" / "latest.png").exists() and (out / "final.png").exists()
    assert run.stdout.count(f"step {STEPS}: d_loss") == 1  # one report, by rank 0


def test_logged_figures_are_averaged_over_ranks_and_steps(two_rank_run):
    out, ranks, _ = two_rank_run
    history = load_checkpoint(out / CHECKPOINT_NAME)["history"]
    cfg = load_checkpoint(out / CHECKPOINT_NAME)["config"]
    every = cfg["log_every"]
    per_step = torch.stack([torch.stack(r["d_loss"]) for r in ranks])  # (rank, step)
    expected = per_step.view(WORLD, STEPS // every, every).mean(dim=(0, 2))
    assert history["step"] == list(range(every, STEPS + 1, every))
    assert history["d_loss"] == pytest.approx(expected.tolist(), rel=1e-5)


def test_one_process_resumes_from_the_two_rank_checkpoint(two_rank_run, mnist):
    out, ranks, _ = two_rank_run
    saved = load_checkpoint(out / CHECKPOINT_NAME)
    assert not any(k.startswith("module.") for k in saved["generator"])
    resumed = Trainer.from_checkpoint(
        out / CHECKPOINT_NAME, mnist, device="cpu", progress=False
    )
    assert resumed.step == STEPS
    for k, v in resumed.generator.named_parameters():  # rank 1's weights too
        assert torch.equal(v, ranks[1]["g_params"][k]), k
    history = resumed.fit(STEPS + 2)
    assert resumed.step == STEPS + 2 and history.step[-1] == STEPS + 2


def test_sync_bn_is_refused_on_cpus_with_a_clear_error(two_rank_run):
    _, ranks, _ = two_rank_run
    assert all("SyncBatchNorm" in r["sync_bn_error"] for r in ranks)


def test_a_rank_that_raises_ends_the_job_with_its_error(tmp_path, mnist):
    # Rank 0 is left waiting for rank 1's gradients: the launcher must stop it
    # (a hang would exceed the timeout and fail the test).
    run = launch("raise", tmp_path, timeout=300)
    assert run.returncode != 0
    assert "rank 1 fails on purpose" in run.stdout + run.stderr


def test_a_rank_that_hangs_ends_the_job_at_the_timeout(tmp_path, mnist):
    # Rank 1 stops answering inside a step; rank 0 waits in the gradient
    # average, gives up after the process group's timeout and fails the job.
    run = launch("hang", tmp_path, timeout=300)
    assert run.returncode != 0
    assert "timed out" in (run.stdout + run.stderr).lower()


def test_sigterm_stops_every_rank_after_one_step_and_rank_0_saves_it(tmp_path, mnist):
    # What a scheduler does to a torchrun job: SIGTERM to the launcher, which
    # passes it on to every rank. A rank that missed the agreement would hang
    # in the next gradient average, past the timeout below.
    cmd, env = torchrun("stop", tmp_path)
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    deadline = time.monotonic() + 300
    while not (tmp_path / "samples" / "latest.png").exists():
        assert proc.poll() is None, proc.communicate()[0][-3000:]
        assert time.monotonic() < deadline, "the two ranks never started training"
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    log = proc.communicate(timeout=180)[0]
    codes = [int((tmp_path / f"rank{r}.code").read_text()) for r in range(WORLD)]
    assert codes == [128 + signal.SIGTERM] * WORLD, log[-3000:]
    said = re.search(r"stopped by SIGTERM; saved step (\d+)", log)
    assert said, log[-3000:]
    state = load_checkpoint(tmp_path / CHECKPOINT_NAME)
    assert state["step"] == int(said.group(1)) >= 1


# -- what each rank runs ------------------------------------------------------
def _same_everywhere(model: torch.nn.Module) -> bool:
    flat = torch.nn.utils.parameters_to_vector(model.parameters()).detach()
    gathered = [torch.empty_like(flat) for _ in range(dist.get_world_size())]
    dist.all_gather(gathered, flat)
    return all(torch.equal(gathered[0], g) for g in gathered)


def _worker(mode: str, out: Path) -> None:
    import gankit.cli
    import gankit.trainer
    from gankit import distributed, load_dataset
    from gankit.lessons.improved import feature_matching_step

    torch.set_num_threads(1)
    timeout = timedelta(seconds=20) if mode == "hang" else distributed.DEFAULT_TIMEOUT
    ranks = distributed.setup(torch.device("cpu"), timeout=timeout)
    data = load_dataset("mnist", download=False)
    cfg = replace(GANConfig(), batch_size=8, log_every=2, sample_every=2)

    if mode == "stop":  # train until a signal stops the job
        code = gankit.cli.main(
            "train --dataset mnist --steps 100000 --batch-size 8 --log-every 1 "
            f"--sample-every 1 --device cpu --offline --quiet --out {out}".split()
        )
        (out / f"rank{ranks.rank}.code").write_text(str(code))
        return

    if mode in ("raise", "hang"):

        def failing_step(*args):
            if ranks.rank == 1 and trainer.step == 2:
                if mode == "raise":
                    raise RuntimeError("rank 1 fails on purpose")
                time.sleep(600)
            return train_step(*args)

        trainer = Trainer(cfg, data, device="cpu", progress=False, step_fn=failing_step)
        trainer.fit(STEPS)
        return

    record: dict = {k: [] for k in ("same", "real", "z", "d_loss", "fm_same")}

    def checked(step_fn, key):
        """``step_fn``, noting after each call whether the ranks' weights agree."""

        def step(generator, discriminator, opt_g, opt_d, real, z, cfg):
            metrics = step_fn(generator, discriminator, opt_g, opt_d, real, z, cfg)
            same = (_same_everywhere(generator), _same_everywhere(discriminator))
            record[key].append(same)
            if key == "same":  # the CLI's run: what this rank saw and learnt
                record["real"].append(real)
                record["z"].append(z)
                record["d_loss"].append(metrics["d_loss"])
                weights = generator.module.named_parameters()
                record["g_params"] = {k: v.detach().clone() for k, v in weights}
            return metrics

        return step

    try:
        Trainer(cfg, data, device="cpu", sync_bn=True)
    except ValueError as exc:
        record["sync_bn_error"] = str(exc)

    fm = checked(feature_matching_step, "fm_same")
    Trainer(cfg, data, device="cpu", progress=False, step_fn=fm).fit(2)

    counts = {"saves": 0, "grids": 0}

    def counting(fn, key):
        def call(*args, **kwargs):
            counts[key] += 1
            return fn(*args, **kwargs)

        return call

    gankit.trainer.save_checkpoint = counting(gankit.trainer.save_checkpoint, "saves")
    gankit.cli.save_grid = counting(gankit.cli.save_grid, "grids")
    # The CLI builds its own Trainer, whose default step is the module's
    # train_step: watch it there.
    gankit.trainer.train_step = checked(train_step, "same")
    try:
        code = gankit.cli.main(
            f"train --dataset mnist --steps {STEPS} --batch-size 8 --log-every 2 "
            f"--sample-every 2 --device cpu --offline --quiet --out {out}".split()
        )
    finally:
        gankit.trainer.train_step = train_step
    assert code == 0
    record.update(counts)
    torch.save(record, out / f"rank{ranks.rank}.pt")


if __name__ == "__main__":
    _worker(sys.argv[1], Path(sys.argv[2]))
