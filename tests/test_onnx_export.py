"""The shipped generator as ONNX, as chapter 6's page runs it
(``scripts/export_onnx.py`` writes it; the browser test drives the page)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

import pytest
import torch

import gankit
from gankit.shipped import pretrained_paths

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "book" / "_static" / "models"
MANIFEST = json.loads((MODELS / "mnist_generator.json").read_text())


def onnx_bytes() -> bytes:
    script = (MODELS / MANIFEST["model"]).read_text()
    found = re.search(r'GANKIT_MODELS\.mnist_generator = "([A-Za-z0-9+/=]+)";', script)
    assert found, "the model script does not set GANKIT_MODELS.mnist_generator"
    return base64.b64decode(found.group(1))


def test_the_model_matches_its_recorded_checksum_and_size():
    data = onnx_bytes()
    assert len(data) == MANIFEST["bytes"]
    assert hashlib.sha256(data).hexdigest() == MANIFEST["sha256"]


def test_the_export_comes_from_the_weights_gankit_ships_today():
    weights = pretrained_paths("mnist")[0]
    assert MANIFEST["source"] == f"gankit/weights/{weights.name}"
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    assert digest == MANIFEST["source_sha256"], (
        "the shipped weights changed: run scripts/export_onnx.py"
    )


def test_onnxruntime_draws_what_pytorch_draws():
    onnxruntime = pytest.importorskip("onnxruntime")
    session = onnxruntime.InferenceSession(onnx_bytes())
    generator = gankit.pretrained("mnist").eval()
    z = gankit.sample_z(16, 100, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        expected = generator(z)
    (got,) = session.run(None, {"z": z.numpy()})
    assert got.shape == (16, 1, 32, 32)
    assert torch.allclose(torch.from_numpy(got), expected, atol=1e-4)
    # A batch of one, as the page draws: the batch axis is dynamic.
    (one,) = session.run(None, {"z": z[:1].numpy()})
    assert torch.allclose(torch.from_numpy(one), expected[:1], atol=1e-4)
