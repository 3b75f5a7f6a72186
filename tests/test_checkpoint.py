import json
import os
import pickle
import subprocess
import sys
import textwrap
from dataclasses import replace

import pytest
import torch

from gankit import (
    CheckpointError,
    Trainer,
    __version__,
    load_checkpoint,
    load_generator,
    synthetic_dataset,
)
from gankit.checkpoint import (
    CheckpointMismatchError,
    file_sha256,
    save_checkpoint,
    save_weights,
)


@pytest.fixture(scope="module")
def shapes():
    return synthetic_dataset(32, channels=1)


def test_round_trip_holds_everything_a_run_needs(tmp_path, shapes, tiny_cfg):
    cfg = replace(tiny_cfg, ema_decay=0.9)
    trainer = Trainer(cfg, shapes, device="cpu", progress=False, out_dir=tmp_path)
    trainer.fit(2)
    state = load_checkpoint(tmp_path / "checkpoint.pt")
    assert state["step"] == 2 and state["gankit_version"] == __version__
    assert state["config"]["ema_decay"] == 0.9
    assert {
        "generator",
        "discriminator",
        "opt_g",
        "opt_d",
        "ema",
        "rng",
        "history",
    } <= state.keys()
    for k, v in trainer.generator.state_dict().items():
        assert torch.equal(state["generator"][k], v)
    assert state["history"]["d_loss"] == trainer.history.d_loss


def test_payload_round_trip(tmp_path):
    path = save_checkpoint({"step": 7, "w": torch.arange(3)}, tmp_path / "a" / "c.pt")
    back = load_checkpoint(path)
    assert back["step"] == 7 and torch.equal(back["w"], torch.arange(3))
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


def test_a_writer_killed_mid_save_leaves_the_old_checkpoint_whole(tmp_path):
    path = tmp_path / "c.pt"
    save_checkpoint({"step": 1, "w": torch.ones(10)}, path)
    script = textwrap.dedent(f"""
        import os, signal, torch
        from gankit.checkpoint import save_checkpoint
        real_save = torch.save
        def dying_save(obj, f, *a, **k):
            f.write(b"PK\\x03\\x04 half a checkpoint")
            f.flush()
            os.kill(os.getpid(), signal.SIGKILL)  # the power goes out mid-write
        torch.save = dying_save
        save_checkpoint({{"step": 2, "w": torch.zeros(10)}}, {str(path)!r})
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert proc.returncode == -9
    back = load_checkpoint(path)
    assert back["step"] == 1 and torch.equal(back["w"], torch.ones(10))


class RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_files_are_readable_as_the_umask_allows(tmp_path):
    old = os.umask(0o022)
    try:
        ckpt = save_checkpoint({"step": 1}, tmp_path / "checkpoint.pt")
        weights, manifest = save_weights(
            {"w": torch.ones(2)},
            tmp_path / "w.safetensors",
            tmp_path / "w.json",
            {"name": "w"},
            format="test",
        )
    finally:
        os.umask(old)
    for path in (ckpt, weights, manifest):
        assert path.stat().st_mode & 0o777 == 0o644, path  # not mkstemp's 0o600


def test_an_export_that_fails_midway_leaves_the_previous_pair(tmp_path):
    weights, manifest = tmp_path / "w.safetensors", tmp_path / "w.json"
    save_weights({"w": torch.ones(2)}, weights, manifest, {"v": 1}, format="test")
    before = weights.read_bytes(), manifest.read_text()
    assert json.loads(before[1])["sha256"] == file_sha256(weights)
    with pytest.raises(TypeError):  # the manifest fails after the new weights
        save_weights(
            {"w": torch.zeros(3)}, weights, manifest, {"v": object()}, format="test"
        )
    assert (weights.read_bytes(), manifest.read_text()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.json", "w.safetensors"]


def test_a_malicious_pickle_is_refused_without_running(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save(
        {
            "format": "gankit-checkpoint",
            "format_version": 1,
            "payload": RunsCode(marker),
        },
        path,
    )
    with pytest.raises(CheckpointError, match="refused") as refusal:
        load_checkpoint(path)
    assert not marker.exists()
    # it names what was refused, and does not pass on torch's advice to load
    # the file unsafely
    assert "system" in str(refusal.value)  # the os.system it would have run
    assert "weights_only" not in str(refusal.value)
    # the same bytes as a plain pickle file are refused too
    plain = tmp_path / "evil.pkl"
    plain.write_bytes(pickle.dumps(RunsCode(marker)))
    with pytest.raises(CheckpointError):
        load_checkpoint(plain)
    assert not marker.exists()


def test_truncated_and_foreign_files_are_refused(tmp_path):
    good = save_checkpoint({"step": 1, "w": torch.ones(1000)}, tmp_path / "c.pt")
    cut = tmp_path / "cut.pt"
    cut.write_bytes(good.read_bytes()[:200])
    with pytest.raises(CheckpointError, match="truncated or corrupted"):
        load_checkpoint(cut)
    foreign = tmp_path / "foreign.pt"
    torch.save({"state_dict": {}}, foreign)
    with pytest.raises(CheckpointError, match="not a gankit checkpoint"):
        load_checkpoint(foreign)
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "missing.pt")


@pytest.mark.parametrize(
    "content",
    [
        b"step 100: d_loss 1.2\n",  # torch's unpickler: IndexError
        b"hello\n",  # KeyError
        b'{"step": 1}\n',
        b"\x89PNG\r\n\x1a\n" + bytes(64),
        b"",
    ],
    ids=["log", "text", "json", "png", "empty"],
)
def test_files_torch_did_not_write_are_not_checkpoints(tmp_path, content):
    path = tmp_path / "notes.txt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match="not a gankit checkpoint"):
        load_checkpoint(path)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"image_size": 64}, "image_size: checkpoint has 32, model has 64"),
        (
            {"spectral_norm": True},
            "spectral_norm: checkpoint has False, model has True",
        ),
    ],
)
def test_every_architecture_field_is_checked_on_resume(
    tmp_path, shapes, tiny_cfg, change, words
):
    Trainer(tiny_cfg, shapes, device="cpu", progress=False, out_dir=tmp_path).fit(1)
    data = (
        synthetic_dataset(32, channels=1, image_size=64)
        if "image_size" in change
        else shapes
    )
    with pytest.raises(CheckpointMismatchError, match=words):
        Trainer.from_checkpoint(
            tmp_path / "checkpoint.pt", data, changes=change, progress=False
        )


def test_another_format_version_is_refused(tmp_path):
    path = tmp_path / "future.pt"
    torch.save({"format": "gankit-checkpoint", "format_version": 2}, path)
    with pytest.raises(CheckpointError, match="format version 2"):
        load_checkpoint(path)


def test_another_architecture_is_refused_naming_the_mismatch(
    tmp_path, shapes, tiny_cfg
):
    Trainer(tiny_cfg, shapes, device="cpu", progress=False, out_dir=tmp_path).fit(1)
    colour = synthetic_dataset(32, channels=3)
    with pytest.raises(
        CheckpointMismatchError, match="channels: checkpoint has 1, model has 3"
    ):
        Trainer.from_checkpoint(
            tmp_path / "checkpoint.pt",
            colour,
            device="cpu",
            config=replace(tiny_cfg, channels=3),
            progress=False,
        )
    other = Trainer(replace(tiny_cfg, z_dim=64), shapes, device="cpu", progress=False)
    with pytest.raises(CheckpointMismatchError, match="z_dim"):
        other.load_state_dict(load_checkpoint(tmp_path / "checkpoint.pt"))


def test_load_generator_prefers_the_ema_copy(tmp_path, shapes, tiny_cfg):
    trainer = Trainer(
        replace(tiny_cfg, ema_decay=0.5),
        shapes,
        device="cpu",
        progress=False,
        out_dir=tmp_path,
    )
    trainer.fit(3)
    g = load_generator(tmp_path / "checkpoint.pt")
    raw = load_generator(tmp_path / "checkpoint.pt", use_ema=False)
    assert not g.training
    z = trainer.fixed_z[:4]
    with torch.no_grad():
        assert torch.allclose(g(z), trainer.sample(z=z, use_ema=True), atol=1e-6)
        assert torch.allclose(raw(z), trainer.sample(z=z, use_ema=False), atol=1e-6)
