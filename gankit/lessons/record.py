"""Recorded training runs: what a long run showed, for pages that train briefly.

Chapters 5 and 6 (``book/05_losses_and_training.ipynb``,
``book/06_going_further.ipynb``); tested in ``tests/lessons/test_record.py``.

A chapter run in the ``smoke`` or ``cpu`` profile trains for a few dozen
steps: enough to see the machinery work, too few for digits. The record of a
real, longer run fills the gap. ``scripts/record_run.py`` trains the article's
DCGAN with :class:`gankit.Trainer` and writes, in ``records/`` beside this
module, the logged figures, the Frechet distance every few hundred steps and
the fixed-z grid every hundred, for the article's DCGAN or one of chapter 6's
variants (:data:`METHODS`); :func:`load_record` reads them back as a
:class:`gankit.History`, so the kit's own pictures
(:func:`gankit.plot_history`, :func:`gankit.animate_samples`) draw them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from safetensors.torch import load_file

from ..callbacks import History
from ..config import GANConfig

RECORDS = Path(__file__).with_name("records")
FORMAT = "gankit-run-record"
# how a recorded run trained: the article's DCGAN, a spectrally normalised
# discriminator, or a generator trained by feature matching (chapter 6)
METHODS = {
    "dcgan": "DCGAN",
    "spectral_norm": "spectral norm",
    "feature_matching": "feature matching",
}


@dataclass(frozen=True)
class RunRecord:
    """One recorded run: its figures and how it was made."""

    name: str
    complete: bool  # False: the run stopped before its last step
    method: str  # a key of METHODS
    steps: int  # discriminator steps trained
    config: GANConfig
    device: str  # where it trained
    torch: str
    date: str
    command: str  # how to train it again
    train_seconds: float  # wall time of training alone (evaluations excluded)
    history: History  # the logged figures and the fixed-z grids (uint8)
    fd: dict[int, dict[str, float]]  # step -> evaluate()'s fd, fd_floor, ...
    eval_n: int  # generated images per evaluation

    def label(self) -> str:
        """One line saying what the record is, for a figure's caption."""
        cfg, article = self.config, GANConfig()
        g = cfg.g_steps_per_d_step
        method = "" if self.method == "dcgan" else f" ({METHODS[self.method]})"
        rates = ""
        if (cfg.lr_d, cfg.lr_g) != (article.lr_d, article.lr_g):
            rates = f", learning rates D {cfg.lr_d:g}, G {cfg.lr_g:g}"
        return (
            f"recorded run{method}: {self.steps:,} steps at batch "
            f"{cfg.batch_size}, {g} G step{'s' if g > 1 else ''} per D step"
            f"{rates}, on {self.device} "
            f"({self.date}, {self.train_seconds / 60:.0f} min of training)"
        )


def available_records(folder: str | os.PathLike[str] | None = None) -> list[str]:
    """The names of the records in ``folder`` (default: the shipped ones)."""
    root = Path(folder) if folder is not None else RECORDS
    return sorted(p.stem for p in root.glob("*.json"))


def load_record(
    name: str = "mnist_cpu", folder: str | os.PathLike[str] | None = None
) -> RunRecord:
    """Read the record ``name`` (``<name>.json`` and ``<name>.safetensors``).

    Records written before ``method`` was recorded ran the plain DCGAN.

    Raises:
        FileNotFoundError: no such record; the message lists those there are.
        ValueError: the file is not a run record, or names an unknown method.
    """
    root = Path(folder) if folder is not None else RECORDS
    meta_path, grids_path = root / f"{name}.json", root / f"{name}.safetensors"
    if not meta_path.is_file() or not grids_path.is_file():
        raise FileNotFoundError(
            f"no run record {name!r} in {root}; there are {available_records(root)}"
            " (scripts/record_run.py writes them)"
        )
    meta: dict[str, Any] = json.loads(meta_path.read_text())
    if meta.get("format") != FORMAT:
        raise ValueError(f"{meta_path} is not a {FORMAT} file")
    method = meta.get("method", "dcgan")
    if method not in METHODS:
        raise ValueError(
            f"{meta_path} names the method {method!r}; expected one of {list(METHODS)}"
        )
    grids = load_file(str(grids_path))
    samples = [(s, grids[f"step_{s:06d}"]) for s in meta["sample_steps"]]
    names = {f.name for f in fields(History)} - {"samples"}
    history = History(**{k: list(v) for k, v in meta["history"].items() if k in names})
    history.samples.extend(samples)
    return RunRecord(
        name=meta["name"],
        complete=meta["complete"],
        method=method,
        steps=meta["steps"],
        config=GANConfig(**meta["config"]),
        device=meta["device"],
        torch=meta["torch"],
        date=meta["date"],
        command=meta["command"],
        train_seconds=meta["train_seconds"],
        history=history,
        fd={int(step): figures for step, figures in meta["fd"].items()},
        eval_n=meta["eval_n"],
    )
