"""Record a real training run for the book to show where it cannot train long.

    python scripts/record_run.py --steps 1500 --threads 1        # on a CPU
    python scripts/record_run.py --steps 37440 --device cuda     # the article's length
    python scripts/record_run.py --name mnist_cpu_sn --g-steps 1 --method spectral_norm

Trains the article's DCGAN on MNIST with gankit's Trainer and keeps what
chapter 5 shows of a run: the fixed-z grid every ``--sample-every`` steps,
the logged losses and D(x), D(G(z)), and the Frechet distance of the
generator (``gankit.EvaluationCallback``, ``--eval-n`` images) every
``--eval-every`` steps. ``--method`` picks one of chapter 6's variants
instead: ``spectral_norm`` (a spectrally normalised discriminator) or
``feature_matching`` (the generator trained by feature matching).

Writes ``gankit/lessons/records/<name>.json`` (the curves and how they were
made: method, device, steps, command, times) and ``<name>.safetensors`` (the
grids, uint8), both small; read them with
``gankit.lessons.record.load_record``. The files are rewritten after every
evaluation, so an interrupted run still leaves a record of the steps it
reached (``"complete": false``).
"""

from __future__ import annotations

import argparse
import json
import platform
import shlex
import sys
import time
from dataclasses import asdict, replace
from datetime import date
from pathlib import Path

import torch
from safetensors.torch import save_file

from gankit import EvaluationCallback, GANConfig, Trainer, load_dataset
from gankit.atomic import temporary_beside
from gankit.callbacks import Callback
from gankit.lessons.improved import feature_matching_step
from gankit.lessons.record import METHODS, RECORDS

# what the record keeps of each evaluation (gankit.metrics.evaluate's figures)
KEPT = ("fd", "fd_floor", "fd_ratio", "classes_covered", "mean_confidence")


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    cpu = platform.processor() or platform.machine()
    info = Path("/proc/cpuinfo")
    if info.exists():
        names = [ln for ln in info.read_text().splitlines() if "model name" in ln]
        cpu = names[0].split(":", 1)[1].strip() if names else cpu
    threads = torch.get_num_threads()
    return f"{cpu} CPU, {threads} thread{'s' if threads > 1 else ''}"


class Recorder(Callback):
    """Writes the record after every evaluation and at the end."""

    def __init__(self, args: argparse.Namespace, evaluation: EvaluationCallback):
        self.args = args
        self.evaluation = evaluation
        self.started = time.perf_counter()
        self.evaluated = 0

    def on_step(self, trainer: Trainer, metrics) -> None:
        if len(self.evaluation.results) > self.evaluated:
            self.evaluated = len(self.evaluation.results)
            self.write(trainer, complete=False)

    def write(self, trainer: Trainer, complete: bool) -> None:
        history = trainer.history
        fd = {
            str(step): {k: r[k] for k in KEPT}
            for step, r in sorted(self.evaluation.results.items())
        }
        record = {
            "format": "gankit-run-record",
            "name": self.args.name,
            "complete": complete,
            "method": self.args.method,
            "steps": trainer.step,
            "config": asdict(trainer.config),
            "device": device_name(trainer.device),
            "torch": torch.__version__,
            "date": date.today().isoformat(),
            "command": self.args.command,
            "train_seconds": round(
                time.perf_counter() - self.started - self.evaluation.seconds, 1
            ),
            "eval_n": self.args.eval_n,
            "history": history.scalars(),
            "fd": fd,
            "sample_steps": [step for step, _ in history.samples],
        }
        grids = {f"step_{s:06d}": img.contiguous() for s, img in history.samples}
        out = Path(self.args.out)
        out.mkdir(parents=True, exist_ok=True)
        for path, write in (
            (out / f"{self.args.name}.safetensors", lambda p: save_file(grids, p)),
            (
                out / f"{self.args.name}.json",
                lambda p: Path(p).write_text(json.dumps(record, indent=1) + "\n"),
            ),
        ):
            tmp = temporary_beside(path)
            write(str(tmp))
            tmp.replace(path)
            path.chmod(0o644)  # shipped with the package: readable by all


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--name", default="mnist_cpu")
    p.add_argument("--out", default=str(RECORDS), help="folder (default: %(default)s)")
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--g-steps", type=int, default=None)
    p.add_argument("--lr-d", type=float, default=None, help="the article's: 2e-4")
    p.add_argument("--lr-g", type=float, default=None, help="the article's: 2e-4")
    p.add_argument("--method", choices=list(METHODS), default="dcgan")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--log-every", type=int, default=25)
    p.add_argument("--sample-every", type=int, default=100)
    p.add_argument("--eval-every", type=int, default=250)
    p.add_argument("--eval-n", type=int, default=2000)
    args = p.parse_args(argv)
    given = sys.argv[1:] if argv is None else argv
    args.command = shlex.join(["python", "scripts/record_run.py", *given])
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = GANConfig.for_dataset("mnist")
    changes = {"max_steps": args.steps, "log_every": args.log_every}
    changes["sample_every"] = args.sample_every
    if args.batch_size:
        changes["batch_size"] = args.batch_size
    if args.g_steps:
        changes["g_steps_per_d_step"] = args.g_steps
    for name in ("lr_d", "lr_g"):
        if getattr(args, name) is not None:
            changes[name] = getattr(args, name)
    if args.method == "spectral_norm":
        changes["spectral_norm"] = True
    cfg = replace(cfg, **changes)
    step_fn = feature_matching_step if args.method == "feature_matching" else None
    data = load_dataset("mnist", download=False)
    evaluation = EvaluationCallback(args.eval_every, n=args.eval_n, warn=False)
    recorder = Recorder(args, evaluation)
    trainer = Trainer(
        cfg,
        data,
        device=args.device,
        callbacks=[evaluation, recorder],
        progress=True,
        step_fn=step_fn,
    )
    trainer.fit()
    recorder.write(trainer, complete=True)
    print(f"recorded {trainer.step} steps in {Path(args.out) / args.name}.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
