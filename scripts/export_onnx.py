"""Export the shipped MNIST generator to ONNX, for chapter 6's page.

    python scripts/export_onnx.py            # writes book/_static/models/

The book's latent explorer runs the generator in the reader's browser with
onnxruntime-web (vendored by ``scripts/vendor_js.sh``). This script writes:

- ``mnist_generator.onnx.js``: the ONNX model, in base64, in a classic script
  that sets ``window.GANKIT_MODELS.mnist_generator``. A page opened from disk
  (``file://``) may not ``fetch()`` a file, but it may run a script.
- ``mnist_generator.json``: the model's SHA-256 and size (the page refuses a
  model whose bytes do not match), the SHA-256 of the weights it came from
  (``tests/test_onnx_export.py`` checks the export is current), the largest
  difference from PyTorch measured here with onnxruntime, and the versions.

The generator is ``gankit.pretrained("mnist")`` (the EMA weights) in eval mode:
batch norm uses its running statistics, as in ``gankit.lessons.latent.generate``.
Its weights are float16 in the package, so the ONNX file stores them as
float16 too (half the bytes, no rounding) and casts them to float32 on
loading: the browser computes in float32, like PyTorch on the CPU.

Needs ``onnx``, ``onnxscript`` and ``onnxruntime`` (``pip install -e '.[export]'``).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
from datetime import date
from pathlib import Path

import numpy as np
import torch

import gankit
from gankit.shipped import pretrained_paths

ROOT = Path(__file__).resolve().parents[1]
NAME = "mnist_generator"
OPSET = 18
CHECK_SEEDS = 64  # latent vectors compared between PyTorch and onnxruntime


def export_model(generator: torch.nn.Module):
    """The generator as an ONNX ``ModelProto`` with a dynamic batch:
    input ``z`` ``(N, z_dim)``, output ``images`` ``(N, C, S, S)``."""
    z = torch.zeros(2, generator.z_dim)
    program = torch.onnx.export(
        generator.eval(),
        (z,),
        dynamo=True,
        dynamic_shapes={"z": {0: "batch"}},
        input_names=["z"],
        output_names=["images"],
        opset_version=OPSET,
        optimize=False,  # keeps batch norm apart, so float16 stays exact
    )
    return program.model_proto


def store_float16(model) -> None:
    """Store every float32 initializer as float16 plus a ``Cast`` back to float32.

    Raises ``ValueError`` if a weight is not exactly a float16 number: then
    halving it would round, and the page would not match PyTorch.
    """
    from onnx import TensorProto, helper, numpy_helper

    initializers, casts = [], []
    for init in model.graph.initializer:
        if init.data_type != TensorProto.FLOAT:
            initializers.append(init)
            continue
        weights = numpy_helper.to_array(init)
        half = weights.astype(np.float16)
        if not np.array_equal(half.astype(np.float32), weights):
            raise ValueError(f"{init.name} is not exactly float16; export float32")
        stored = numpy_helper.from_array(half, f"{init.name}.float16")
        initializers.append(stored)
        casts.append(
            helper.make_node("Cast", [stored.name], [init.name], to=TensorProto.FLOAT)
        )
    del model.graph.initializer[:]
    model.graph.initializer.extend(initializers)
    nodes = list(model.graph.node)
    del model.graph.node[:]
    model.graph.node.extend(casts + nodes)


def largest_difference(generator: torch.nn.Module, onnx_bytes: bytes) -> float:
    """Max |PyTorch - onnxruntime| over the images of ``CHECK_SEEDS`` latents."""
    import onnxruntime

    session = onnxruntime.InferenceSession(onnx_bytes)
    z = gankit.sample_z(
        CHECK_SEEDS, generator.z_dim, generator=torch.Generator().manual_seed(0)
    )
    with torch.no_grad():
        expected = generator.eval()(z).numpy()
    got = session.run(None, {"z": z.numpy()})[0]
    return float(np.abs(got - expected).max())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default=str(ROOT / "book" / "_static" / "models"))
    args = p.parse_args(argv)
    import onnx

    generator = gankit.pretrained("mnist")
    model = export_model(generator)
    store_float16(model)
    onnx.checker.check_model(model)
    data = model.SerializeToString()
    diff = largest_difference(generator, data)
    if diff > 1e-4:
        print(f"onnxruntime differs from PyTorch by {diff:.3g}", file=sys.stderr)
        return 1
    weights = pretrained_paths("mnist")[0]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    script = (
        f"// gankit's shipped MNIST generator as ONNX (opset {OPSET}), in base64;\n"
        f"// written by scripts/export_onnx.py, checked against {NAME}.json\n"
        "window.GANKIT_MODELS = window.GANKIT_MODELS || {};\n"
        f'window.GANKIT_MODELS.{NAME} = "{base64.b64encode(data).decode()}";\n'
    )
    (out / f"{NAME}.onnx.js").write_text(script)
    manifest = {
        "model": f"{NAME}.onnx.js",
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
        "source": f"gankit/weights/{weights.name}",
        "source_sha256": hashlib.sha256(weights.read_bytes()).hexdigest(),
        "input": {"name": "z", "shape": ["N", generator.z_dim]},
        "output": {
            "name": "images",
            "shape": [
                "N",
                generator.channels,
                generator.image_size,
                generator.image_size,
            ],
        },
        "weights_dtype": "float16",
        "max_abs_diff_vs_torch": diff,
        "opset": OPSET,
        "torch": torch.__version__,
        "onnx": onnx.__version__,
        "date": date.today().isoformat(),
    }
    (out / f"{NAME}.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(
        f"wrote {out / NAME}.onnx.js ({len(data):,} bytes of ONNX); max diff {diff:.2g}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
