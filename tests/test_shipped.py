"""Tests for gankit.shipped: the shipped generator and the export that makes it."""

from __future__ import annotations

import json
import shlex
from dataclasses import replace

import pytest
import torch

from gankit import (
    CheckpointError,
    DatasetNotFoundError,
    GANConfig,
    Trainer,
    load_dataset,
    load_generator,
    sample_z,
    synthetic_dataset,
)
from gankit.shipped import (
    export_generator,
    pretrained,
    pretrained_manifest,
    pretrained_paths,
)

SHIPPED, _ = pretrained_paths("mnist")


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A checkpoint of a generator trained for two steps, with an EMA copy that
    differs from it (the EMA's first update is a copy)."""
    folder = tmp_path_factory.mktemp("run")
    cfg = replace(
        GANConfig.for_dataset("mnist"), batch_size=4, ema_decay=0.9, log_every=1
    )
    data = synthetic_dataset(32, channels=1)
    Trainer(cfg, data, device="cpu", out_dir=folder, progress=False).fit(2)
    ckpt = folder / "checkpoint.pt"
    with torch.no_grad():
        ema, raw = (load_generator(ckpt, use_ema=e)(_z()) for e in (True, False))
    assert not torch.allclose(ema, raw)
    return ckpt


def _z(n: int = 4) -> torch.Tensor:
    return sample_z(n, 100, generator=torch.Generator().manual_seed(0))


needs_shipped = pytest.mark.skipif(
    not SHIPPED.is_file(),
    reason=f"{SHIPPED.name} is not in gankit/weights: scripts/ship_generator.py "
    "exports it from a training run",
)


@needs_shipped
def test_shipped_mnist_generator_loads_offline_in_eval_mode():
    g = pretrained("mnist")
    assert not g.training
    assert all(p.dtype == torch.float32 for p in g.parameters())
    with torch.no_grad():
        images = g(_z(16))
    assert images.shape == (16, 1, 32, 32)
    assert images.min() >= -1 and images.max() <= 1
    manifest = pretrained_manifest("mnist")
    assert {"config", "steps", "seed", "command", "figures", "gankit_version"} <= set(
        manifest
    )


@needs_shipped
def test_the_shipped_command_is_one_the_cli_accepts_and_reaches_its_steps():
    """The manifest's command can be pasted into a shell: commands joined by
    ``&&``, each a ``python -m gankit train`` that the CLI parses, the last
    one training to the steps the manifest records."""
    from gankit.cli import build_parser

    manifest = pretrained_manifest("mnist")
    commands = [shlex.split(c) for c in manifest["command"].split(" && ")]
    for argv in commands:
        assert argv[:4] == ["python", "-m", "gankit", "train"], argv
        build_parser().parse_args(argv[3:])  # exits on a flag it does not know
    assert build_parser().parse_args(commands[-1][3:]).steps == manifest["steps"]


@needs_shipped
def test_shipped_mnist_generator_draws_every_digit():
    from gankit.metrics import evaluate

    try:
        load_dataset("mnist", split="test", download=False)
    except DatasetNotFoundError:
        pytest.skip("the real MNIST test split is not on this machine")
    figures = evaluate(pretrained("mnist"), "mnist", 1000, download=False)
    assert figures["classes_covered"] == 10


def test_unknown_name_raises_value_error():
    with pytest.raises(ValueError, match="no pretrained generator named 'svhn'"):
        pretrained("svhn")


def test_missing_weights_raise_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="mnist_generator.safetensors"):
        pretrained("mnist", folder=tmp_path)


@pytest.mark.parametrize("use_ema", [True, False])
def test_full_precision_export_round_trips_exactly(checkpoint, tmp_path, use_ema):
    export_generator(
        checkpoint, tmp_path / "mnist_generator", half=False, use_ema=use_ema
    )
    g = pretrained("mnist", folder=tmp_path)
    reference = load_generator(checkpoint, use_ema=use_ema)
    with torch.no_grad():
        assert torch.equal(g(_z()), reference(_z()))


def test_half_precision_export_is_small_and_close(checkpoint, tmp_path):
    weights, manifest_path = export_generator(
        checkpoint, tmp_path / "mnist_generator", {"command": "python -m gankit train"}
    )
    float32_bytes = 4 * sum(
        v.numel() for v in load_generator(checkpoint).state_dict().values()
    )
    assert weights.stat().st_size < 0.51 * float32_bytes
    g = pretrained("mnist", folder=tmp_path)
    assert all(p.dtype == torch.float32 for p in g.parameters())
    with torch.no_grad():
        diff = (g(_z()) - load_generator(checkpoint)(_z())).abs().max()
    assert 0 < diff < 0.02
    manifest = json.loads(manifest_path.read_text())
    assert manifest["steps"] == 2 and manifest["seed"] == 0 and manifest["ema"]
    assert manifest["dtype"] == "float16"
    assert manifest["command"] == "python -m gankit train"
    assert manifest["config"]["z_dim"] == 100 and "gankit_version" in manifest


def test_changed_weights_are_refused(checkpoint, tmp_path):
    weights, _ = export_generator(checkpoint, tmp_path / "mnist_generator")
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="SHA-256"):
        pretrained("mnist", folder=tmp_path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda text, m: text[: len(text) // 2], "not readable JSON"),
        (lambda text, m: "[1, 2]", "not a gankit generator manifest"),
        (
            lambda text, m: json.dumps({k: v for k, v in m.items() if k != "sha256"}),
            "lacks what a generator manifest records: sha256",
        ),
        (
            lambda text, m: json.dumps({**m, "config": {**m["config"], "z_dim": 2.5}}),
            "config in mnist's manifest is not valid",
        ),
    ],
    ids=["truncated", "a-list", "no-sha256", "bad-config"],
)
def test_a_broken_manifest_is_a_checkpoint_error(checkpoint, tmp_path, change, message):
    _, manifest_path = export_generator(checkpoint, tmp_path / "mnist_generator")
    text = manifest_path.read_text()
    manifest_path.write_text(change(text, json.loads(text)))
    with pytest.raises(CheckpointError, match=message):
        pretrained("mnist", folder=tmp_path)


@pytest.mark.parametrize(
    ("extra", "message"),
    [({"steps": 5}, "must not set"), ({"figures": torch.zeros(1)}, "JSON")],
)
def test_export_rejects_bad_manifest_extras(checkpoint, tmp_path, extra, message):
    with pytest.raises(ValueError, match=message):
        export_generator(checkpoint, tmp_path / "mnist_generator", extra)


def _mnist_test_split_or_skip() -> None:
    try:
        load_dataset("mnist", split="test", download=False)
    except DatasetNotFoundError:
        pytest.skip("the real MNIST test split is not on this machine")


@needs_shipped
def test_manifest_figures_are_reproduced_on_2000_images():
    from gankit.metrics import evaluate

    _mnist_test_split_or_skip()
    recorded = pretrained_manifest("mnist")["figures_n2000"]
    measured = evaluate(pretrained("mnist"), "mnist", 2000, download=False)
    assert measured["n"] == recorded["n"] == 2000
    # The same images and subsets; only the device's rounding may differ.
    assert measured["fd"] == pytest.approx(recorded["fd"], rel=0.02, abs=1e-3)
    assert measured["fd_floor"] == pytest.approx(recorded["fd_floor"], rel=0.02)
    assert measured["mean_confidence"] == pytest.approx(
        recorded["mean_confidence"], abs=0.005
    )
    assert measured["class_shares"] == pytest.approx(
        recorded["class_shares"], abs=0.005
    )
    assert measured["classes_covered"] == recorded["classes_covered"]


def _ship_script():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[1] / "scripts" / "ship_generator.py"
    spec = importlib.util.spec_from_file_location("ship_generator", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ship_script_exports_the_candidate_with_the_lowest_distance(
    checkpoint, tmp_path, capsys
):
    _mnist_test_split_or_skip()
    out = tmp_path / "mnist_generator"
    args = ["--checkpoint", str(checkpoint), "--command", "python -m gankit train"]
    argv = [*args, "--n", "100", "--seeds", "2", "--out", str(out)]
    assert _ship_script().main(argv) == 0
    manifest = pretrained_manifest("mnist", folder=tmp_path)
    candidates = manifest["candidates"]
    assert len(candidates) == 2  # the raw and the EMA generator of one checkpoint
    best = min(candidates, key=lambda k: candidates[k]["fd"])
    assert manifest["ema"] == ("EMA" in best)
    assert manifest["command"] == "python -m gankit train"
    assert manifest["figures"]["n"] == 100 and manifest["figures_n2000"]["n"] == 2000
    spread = manifest["fd_seeds"]
    assert spread["seeds"] == [0, 1] and spread["n"] == 100
    assert spread["fd"][0] == manifest["figures"]["fd"]  # seed 0 is the headline
    assert spread["fd"][1] != spread["fd"][0]  # another seed draws other images
    assert spread["fd_std"] == pytest.approx(
        abs(spread["fd"][1] - spread["fd"][0]) / 2**0.5
    )
    assert set(manifest["goals_met"]) == {
        "classes_covered",
        "class shares",
        "mean_confidence",
        "fd_ratio",
    }
    assert not manifest["goals_met"]["fd_ratio"]  # one step of training is not enough
    assert "best:" in capsys.readouterr().out


def test_ship_script_wants_one_command_per_checkpoint(checkpoint, tmp_path):
    with pytest.raises(SystemExit):
        _ship_script().main(["--checkpoint", str(checkpoint), "--out", str(tmp_path)])
