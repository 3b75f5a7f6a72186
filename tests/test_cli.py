"""``python -m gankit train | sample``: what a run writes, how it resumes, how it fails.

``evaluate`` is tested with the training callback in ``tests/test_monitor.py``,
and the CLI under ``torchrun`` in ``tests/test_distributed.py``.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from PIL import Image

from gankit import load_checkpoint
from gankit.cli import main
from gankit.interrupt import TrainingInterrupted
from gankit.trainer import CHECKPOINT_NAME, Trainer

QUIET = ["--device", "cpu", "--offline", "--quiet"]


def train(out: Path, *flags: str) -> int:
    return main(["train", *flags, *QUIET, "--out", str(out)])


@pytest.fixture
def run(tmp_path, mnist) -> Path:
    """Two steps of a small MNIST run whose settings all differ from the defaults."""
    out = tmp_path / "run"
    flags = "--steps 2 --batch-size 8 --g-steps 1 --ema 0.9 --seed 3"
    cadence = "--log-every 1 --sample-every 1 --checkpoint-every 1"
    assert train(out, *flags.split(), *cadence.split()) == 0
    return out


def test_a_run_writes_its_checkpoint_and_grids(run):
    state = load_checkpoint(run / CHECKPOINT_NAME)
    assert state["step"] == 2 and state["ema"] is not None
    for name in ("samples/step_000001.png", "samples/latest.png", "final.png"):
        with Image.open(run / name) as im:
            assert im.width > 32 and im.height > 32


def test_a_resumed_run_keeps_the_checkpoints_settings(run, capsys):
    assert train(run, "--steps", "3") == 0
    assert "resuming from" in capsys.readouterr().err
    state = load_checkpoint(run / CHECKPOINT_NAME)
    assert state["step"] == 3
    cfg = state["config"]
    assert (cfg["batch_size"], cfg["g_steps_per_d_step"], cfg["ema_decay"]) == (
        8,
        1,
        0.9,
    )
    assert (cfg["checkpoint_every"], cfg["log_every"], cfg["seed"]) == (1, 1, 3)
    assert cfg["max_steps"] == 3


def test_flags_given_on_resume_override_the_checkpoint(run):
    assert train(run, "--steps", "3", "--log-every", "5", "--ema", "0.5") == 0
    cfg = load_checkpoint(run / CHECKPOINT_NAME)["config"]
    assert (cfg["log_every"], cfg["ema_decay"], cfg["batch_size"]) == (5, 0.5, 8)


def test_resuming_with_another_seed_is_refused_and_changes_nothing(run, capsys):
    before = (run / CHECKPOINT_NAME).read_bytes()
    assert train(run, "--steps", "3", "--seed", "7") == 2
    assert "seed cannot change when a run resumes" in capsys.readouterr().err
    assert (run / CHECKPOINT_NAME).read_bytes() == before


@pytest.mark.parametrize(
    ("interrupt", "said"),
    [
        (
            TrainingInterrupted("saved step 3 to RUN", signum=signal.SIGINT, step=3),
            "interrupted; saved step 3 to RUN",
        ),
        (KeyboardInterrupt(), "the last periodic checkpoint, if any, is what remains"),
    ],
    ids=["saved", "second-ctrl-c"],
)
def test_ctrl_c_reports_what_was_saved(run, monkeypatch, capsys, interrupt, said):
    def pressed(self, *args, **kwargs):
        raise interrupt

    monkeypatch.setattr(Trainer, "fit", pressed)
    assert train(run, "--steps", "5") == 130
    assert said in capsys.readouterr().err


def test_a_run_resumes_in_the_channels_last_layout(run, monkeypatch):
    # The layout is how the step computes, not what it learns: a checkpoint
    # written in one layout resumes in the other.
    trained = []
    fit = Trainer.fit

    def watched_fit(self, *args, **kwargs):
        trained.append(self)
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(Trainer, "fit", watched_fit)
    assert train(run, "--steps", "3", "--channels-last") == 0
    (trainer,) = trained  # the flag reached the trainer that resumed
    assert trainer.memory_format == torch.channels_last
    conv = trainer.generator.up[0][0].weight
    assert conv.is_contiguous(memory_format=torch.channels_last)
    state = load_checkpoint(run / CHECKPOINT_NAME)
    assert state["step"] == 3
    weights = [v for v in state["generator"].values() if v.dim() == 4]
    assert weights and all(torch.isfinite(w).all() for w in weights)


def test_resuming_on_another_dataset_is_refused_and_changes_nothing(run, capsys):
    before = (run / CHECKPOINT_NAME).read_bytes()
    assert train(run, "--steps", "3", "--dataset", "fashion-mnist") == 2
    err = capsys.readouterr().err
    assert "'mnist'" in err and "'fashion-mnist'" in err and "Traceback" not in err
    assert (run / CHECKPOINT_NAME).read_bytes() == before


def test_missing_data_is_a_clear_error_not_a_traceback(tmp_path, capsys):
    empty = tmp_path / "no-data"
    empty.mkdir()
    code = train(tmp_path / "out", "--steps", "1", "--data-root", str(empty))
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "mnist" in err.lower()
    assert not (tmp_path / "out" / CHECKPOINT_NAME).exists()


def test_sample_draws_a_grid_from_a_checkpoint(run, tmp_path, capsys):
    grid = tmp_path / "grid.png"
    args = ["sample", "--checkpoint", str(run / CHECKPOINT_NAME), "--n", "4"]
    assert main([*args, "--out", str(grid)]) == 0
    assert "wrote 4 samples" in capsys.readouterr().out
    with Image.open(grid) as im:  # 2 x 2 images of 32 px, 2 px of padding
        assert im.size == (2 * 32 + 3 * 2, 2 * 32 + 3 * 2)
    # the raw generator draws a different grid from the EMA one
    raw = tmp_path / "raw.png"
    assert main([*args, "--out", str(raw), "--no-ema"]) == 0
    assert grid.read_bytes() != raw.read_bytes()


def test_sample_from_a_file_that_is_not_a_checkpoint(tmp_path, capsys):
    bogus = tmp_path / "bogus.pt"
    torch.save({"weights": torch.zeros(3)}, bogus)
    code = main(
        ["sample", "--checkpoint", str(bogus), "--out", str(tmp_path / "g.png")]
    )
    assert code == 2
    assert capsys.readouterr().err.startswith("error:")
    assert not (tmp_path / "g.png").exists()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["train", "--device", "bogus", "--steps", "1"], "device must be 'auto'"),
        (["train", "--steps", "1", "--out", "FILE"], "is a file; give a folder"),
        (["train", "--steps", "1", "--out", "FILE/run"], "cannot be a folder"),
        (["sample", "--checkpoint", "CKPT", "--n", "0"], "--n must be at least 1"),
    ],
)
def test_bad_arguments_are_clear_errors_not_tracebacks(
    run, tmp_path, capsys, args, words
):
    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    args = [
        {
            "FILE": str(afile),
            "FILE/run": str(afile / "run"),
            "CKPT": str(run / CHECKPOINT_NAME),
        }.get(a, a)
        for a in args
    ]
    if args[0] == "train" and "--out" not in args:
        args += ["--out", str(tmp_path / "fresh")]
    assert main([*args, "--offline"] if args[0] == "train" else args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and words in err
    assert afile.read_text() == "not a folder"


# -- runs that meet a scheduler: signals, a shared folder, hard kills ---------
LONG = [*QUIET, "--steps", "100000", "--batch-size", "8", "--g-steps", "1"]
LONG += ["--log-every", "1", "--sample-every", "1", "--checkpoint-every", "1000"]


def start_training(out: Path, *flags: str) -> subprocess.Popen:
    """``python -m gankit train`` in a process of its own, started until its
    first grid is written (so it is training, not loading)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gankit", "train", *LONG, *flags, "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    wait_for(out / "samples" / "latest.png", proc)
    return proc


def wait_for(path: Path, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            pytest.fail(f"training ended early: {proc.communicate()[1][-2000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"{path} did not appear within {timeout} s")
        time.sleep(0.1)


def test_sigterm_saves_the_step_it_reports_and_the_run_resumes_from_it(tmp_path, mnist):
    out = tmp_path / "run"
    proc = start_training(out)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, err[-2000:]
    said = re.search(r"stopped by SIGTERM; saved step (\d+) to (\S+)", err)
    assert said, err[-2000:]
    step = int(said.group(1))
    assert Path(said.group(2)) == out / CHECKPOINT_NAME
    assert load_checkpoint(out / CHECKPOINT_NAME)["step"] == step >= 1
    assert train(out, "--steps", str(step + 1)) == 0
    assert load_checkpoint(out / CHECKPOINT_NAME)["step"] == step + 1


def test_a_second_trainer_on_the_same_folder_is_refused_at_start(
    tmp_path, mnist, capsys
):
    out = tmp_path / "run"
    first = start_training(out)
    try:
        assert train(out, "--steps", "2") == 2
        err = capsys.readouterr().err
        assert f"{out} is in use by another trainer (process {first.pid})" in err
        assert first.poll() is None  # the first one trains on, undisturbed
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=120)
    assert first.returncode == 128 + signal.SIGTERM


def test_after_a_hard_kill_the_lock_is_free_and_the_leftovers_are_cleaned(
    tmp_path, mnist
):
    out = tmp_path / "run"
    proc = start_training(out, "--checkpoint-every", "1")
    wait_for(out / CHECKPOINT_NAME, proc)
    os.kill(proc.pid, signal.SIGKILL)  # no handler runs: the power went out
    proc.communicate(timeout=60)
    # what a writer killed mid-write leaves (checkpoints and grids are renamed
    # into place only when whole)
    leftovers = [
        out / ".checkpoint.pt.0badc0de.partial",
        out / "samples/.a.png.5e1f00aa.partial",
    ]
    for p in leftovers:
        p.write_bytes(b"half a file")
    step = load_checkpoint(out / CHECKPOINT_NAME)["step"]
    assert train(out, "--steps", str(step + 1), "--checkpoint-every", "1000") == 0
    assert load_checkpoint(out / CHECKPOINT_NAME)["step"] == step + 1
    assert not any(p.exists() for p in leftovers)
