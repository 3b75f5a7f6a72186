"""Layer tables: what each layer of a model outputs, and what it costs.

Chapter 3, ``book/03_generator.ipynb`` (and used again for the discriminator
in chapter 4, ``book/04_discriminator.ipynb``); tested in
``tests/lessons/test_summary.py``.

The table is measured, not described: the model runs once on an example batch
and a forward hook on every leaf module records the shape it returned. So the
table always agrees with the code, whatever the model's arguments.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from ..modes import evaluating


class LayerRow(NamedTuple):
    """One leaf module as it ran: where it sits, what it is, what it gave."""

    name: str  # dotted path in the model, e.g. "up.0.0"
    kind: str  # class name, e.g. "ConvTranspose2d"
    output_shape: tuple[int, ...]  # batch dimension included
    params: int  # this layer's own parameters (buffers not counted)


def _is_leaf(name: str, module: nn.Module) -> bool:
    """A module with no sub-layers. A parametrized layer (e.g. spectral norm)
    counts as one leaf: its ``parametrizations`` child is part of the layer. The
    model itself (``name == ""``) is a leaf only when it is a single layer."""
    if "parametrizations" in name.split("."):
        return False
    return all(child == "parametrizations" for child, _ in module.named_children())


def layer_table(model: nn.Module, example: Tensor) -> list[LayerRow]:
    """Run ``model`` once on ``example`` and list its leaf layers in run order.

    The model runs in eval mode under ``torch.no_grad`` (so BatchNorm's running
    statistics do not move); its training flag is restored afterwards. A leaf
    that runs twice appears twice.
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(example, Tensor):
        raise ValueError(
            f"example must be a torch.Tensor batch, got {type(example).__name__}"
        )
    if example.dim() == 0 or example.shape[0] == 0:
        raise ValueError(
            "example must be a batch with at least one item, "
            f"got shape {tuple(example.shape)}"
        )
    rows: list[LayerRow] = []
    hooks = []

    def record(name: str):
        def hook(module: nn.Module, inputs: object, output: object) -> None:
            if not isinstance(output, Tensor):
                raise ValueError(
                    f"layer {name!r} returned {type(output).__name__}, "
                    "layer_table expects every leaf to return one tensor"
                )
            # Recursive only reaches a parametrized weight's original tensor.
            params = sum(p.numel() for p in module.parameters())
            rows.append(
                LayerRow(name, type(module).__name__, tuple(output.shape), params)
            )

        return hook

    for name, module in model.named_modules():
        if _is_leaf(name, module):
            hooks.append(module.register_forward_hook(record(name)))
    try:
        with evaluating(model), torch.no_grad():
            model(example)
    finally:
        for h in hooks:
            h.remove()
    return rows


def _shape_text(shape: tuple[int, ...]) -> str:
    dims = ["N", *(str(d) for d in shape[1:])]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def format_layer_table(rows: list[LayerRow]) -> str:
    """A fixed-width text table of ``rows`` with a total line.

    Deterministic (same rows, same text), so a notebook can print it and have
    nbval compare it. The batch dimension prints as ``N``.
    """
    if not rows:
        raise ValueError("format_layer_table needs at least one row, got none")
    header = ("layer", "type", "output shape", "parameters")
    body = [
        (
            r.name or "(model)",  # a model that is one layer
            r.kind,
            _shape_text(r.output_shape),
            f"{r.params:,}",
        )
        for r in rows
    ]
    total = ("total", "", "", f"{sum(r.params for r in rows):,}")
    widths = [max(len(line[i]) for line in [header, *body, total]) for i in range(4)]

    def fmt(line: tuple[str, str, str, str]) -> str:
        cells = [line[i].ljust(widths[i]) for i in range(3)]
        return "  ".join([*cells, line[3].rjust(widths[3])]).rstrip()

    rule = "-" * (sum(widths) + 2 * 3)
    return "\n".join([fmt(header), rule, *map(fmt, body), rule, fmt(total)])
