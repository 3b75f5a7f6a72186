"""Recorded training runs (``gankit.lessons.record``)."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest
import torch
from safetensors.torch import save_file

from gankit import GANConfig
from gankit.lessons.record import METHODS, available_records, load_record


def write_record(folder, name="tiny", **changes):
    cfg = GANConfig.for_dataset("mnist", max_steps=200, batch_size=64)
    meta = {
        "format": "gankit-run-record",
        "name": name,
        "complete": True,
        "steps": 200,
        "config": asdict(cfg),
        "device": "a test CPU",
        "torch": torch.__version__,
        "date": "2026-12-04",
        "command": "python scripts/record_run.py --steps 200",
        "train_seconds": 600.0,
        "eval_n": 500,
        "history": {"step": [100, 200], "d_loss": [1.2, 1.1], "g_loss": [2.0, 1.5]}
        | {k: [0.5, 0.5] for k in ("d_loss_real", "d_loss_fake", "d_real")}
        | {"d_fake": [0.3, 0.4], "d_accuracy": [0.8, 0.7]},
        "fd": {
            "100": {"fd": 40.0, "fd_floor": 1.0},
            "200": {"fd": 20.0, "fd_floor": 1.0},
        },
        "sample_steps": [100, 200],
    } | changes
    (folder / f"{name}.json").write_text(json.dumps(meta))
    grids = {
        f"step_{s:06d}": torch.full((36, 1, 32, 32), s // 2, dtype=torch.uint8)
        for s in meta["sample_steps"]
    }
    save_file(grids, str(folder / f"{name}.safetensors"))


def test_a_record_reads_back_as_a_history_the_kit_can_draw(tmp_path):
    write_record(tmp_path)
    record = load_record("tiny", tmp_path)
    assert record.steps == 200 and record.config.batch_size == 64
    assert record.history.step == [100, 200]
    assert record.history.d_fake == [0.3, 0.4]
    assert [s for s, _ in record.history.samples] == [100, 200]
    assert record.history.samples[1][1].shape == (36, 1, 32, 32)
    assert record.fd[200]["fd"] == 20.0
    label = record.label()
    assert "200 steps at batch 64" in label and "2 G steps" in label
    assert "a test CPU" in label and "10 min" in label
    assert record.method == "dcgan" and label.startswith("recorded run: ")


def test_a_record_of_a_chapter_6_method_says_which(tmp_path):
    write_record(tmp_path, method="feature_matching")
    record = load_record("tiny", tmp_path)
    assert record.method == "feature_matching"
    assert record.label().startswith("recorded run (feature matching): 200 steps")
    assert "learning rates" not in record.label()  # the article's


def test_a_record_at_other_learning_rates_says_so(tmp_path):
    cfg = GANConfig.for_dataset("mnist", max_steps=200, batch_size=64)
    changed = asdict(cfg) | {"lr_d": 4e-4, "lr_g": 1e-4, "spectral_norm": True}
    write_record(tmp_path, method="spectral_norm", config=changed)
    label = load_record("tiny", tmp_path).label()
    assert "per D step, learning rates D 0.0004, G 0.0001, on a test CPU" in label


def test_an_unknown_method_is_refused_with_the_known_ones(tmp_path):
    write_record(tmp_path, method="wasserstein")
    with pytest.raises(ValueError, match=r"'wasserstein'.*'spectral_norm'"):
        load_record("tiny", tmp_path)


def test_a_missing_record_names_the_ones_there_are(tmp_path):
    write_record(tmp_path, "tiny")
    assert available_records(tmp_path) == ["tiny"]
    with pytest.raises(FileNotFoundError, match=r"no run record 'other'.*\['tiny'\]"):
        load_record("other", tmp_path)


def test_a_file_of_another_kind_is_refused(tmp_path):
    write_record(tmp_path, "tiny", format="something-else")
    with pytest.raises(ValueError, match="not a gankit-run-record"):
        load_record("tiny", tmp_path)


@pytest.mark.parametrize("name", available_records())
def test_each_shipped_record_is_a_complete_run_with_grids_and_distances(name):
    record = load_record(name)
    assert record.complete, f"{name} stopped at step {record.steps}"
    assert record.history.step[-1] == record.steps
    steps = [s for s, _ in record.history.samples]
    assert steps == sorted(steps) and steps[-1] == record.steps
    for _, grid in record.history.samples:
        assert grid.dtype == torch.uint8 and grid.shape[1:] == (1, 32, 32)
    assert max(record.fd) == record.steps
    assert all(f["fd"] > 0 and f["fd_floor"] > 0 for f in record.fd.values())
    assert record.method in METHODS
    assert record.config.spectral_norm == (record.method == "spectral_norm")
