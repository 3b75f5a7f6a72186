"""``scripts/record_run.py``: a short run of each method leaves a record
that ``gankit.lessons.record.load_record`` reads back."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from gankit.lessons.record import METHODS, load_record

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def record_run():
    spec = importlib.util.spec_from_file_location(
        "record_run", ROOT / "scripts" / "record_run.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("method", list(METHODS))
def test_a_short_run_of_each_method_is_recorded(record_run, mnist, tmp_path, method):
    argv = ["--name", "short", "--out", str(tmp_path), "--steps", "4"]
    argv += ["--g-steps", "1", "--method", method, "--batch-size", "16"]
    argv += ["--log-every", "2", "--sample-every", "2", "--eval-every", "2"]
    argv += ["--eval-n", "100"]
    assert record_run.main(argv) == 0
    record = load_record("short", tmp_path)
    assert record.complete and record.steps == 4 and record.method == method
    assert record.config.spectral_norm == (method == "spectral_norm")
    assert record.config.batch_size == 16
    assert record.config.g_steps_per_d_step == 1
    assert sorted(record.fd) == [2, 4]
    assert [s for s, _ in record.history.samples] == [2, 4]
    assert record.history.step == [2, 4]
    meta = json.loads((tmp_path / "short.json").read_text())
    assert f"--method {method}" in meta["command"]
    if method == "feature_matching":
        # g_loss is the squared distance of 4,096 mean features (hundreds this
        # early), not the generator's cross-entropy (a few units)
        assert min(record.history.g_loss) > 50
    else:
        assert max(record.history.g_loss) < 50
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == ["short.json", "short.safetensors"], "a temporary file was left"


def test_the_learning_rates_given_are_the_ones_recorded(record_run, mnist, tmp_path):
    argv = ["--name", "ttur", "--out", str(tmp_path), "--steps", "2"]
    argv += ["--method", "spectral_norm", "--lr-d", "4e-4", "--lr-g", "1e-4"]
    argv += ["--batch-size", "16", "--eval-every", "2", "--eval-n", "100"]
    assert record_run.main(argv) == 0
    config = load_record("ttur", tmp_path).config
    assert (config.lr_d, config.lr_g) == (4e-4, 1e-4)
    assert config.spectral_norm
