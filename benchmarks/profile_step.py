"""Where a training step's time goes: the operators of one step, profiled.

    python benchmarks/profile_step.py --device cuda --batch 128
    python benchmarks/profile_step.py --device cpu --batch 16 --steps 2
    python benchmarks/profile_step.py --precision bf16 --channels-last

Trains the article's MNIST model (one generator step per discriminator step,
as ``throughput.py`` does) eagerly, ``Trainer(fast=False)``, under
``torch.profiler`` for ``--steps`` steps after a warm-up, and prints the
operators that take the most device time, and the device time of one step
summed over all of them. It also times one step without the profiler: eager,
and on a GPU the default path (the whole step replayed as one CUDA graph).
When the graph's step takes about as long as its kernels add up to, the
kernels bound it and fewer launches cannot help; when it takes much longer,
something else does. ``--channels-last`` and ``--precision bf16`` profile the
Trainer's options of those names (both trainers get them). A benchmark, not a
test.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace

import torch
from torch.profiler import ProfilerActivity, profile

import gankit
from gankit import GANConfig, Trainer, load_dataset, synthetic_dataset


def seconds_per_step(trainer: Trainer, steps: int) -> float:
    """Wall seconds per step over ``steps`` steps, the device drained on both
    ends."""
    if trainer.device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    trainer.fit(trainer.step + steps)
    if trainer.device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", default="auto", help="cuda, cpu or auto")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--steps", type=int, default=20, help="profiled steps")
    p.add_argument("--warmup", type=int, default=10, help="untimed steps first")
    p.add_argument("--rows", type=int, default=20, help="operators listed")
    p.add_argument(
        "--dataset", default="mnist", help="mnist (from $GANKIT_DATA) or synthetic"
    )
    p.add_argument(
        "--channels-last", action="store_true", help="Trainer(channels_last=True)"
    )
    p.add_argument(
        "--precision",
        choices=["fp32", "bf16"],
        default="fp32",
        help="Trainer(precision=...)",
    )
    args = p.parse_args(argv)
    if args.steps < 1 or args.warmup < 1 or args.batch < 1:
        p.error("--steps, --warmup and --batch must be at least 1")

    device = gankit.runtime.resolve_device(args.device)
    gpu = device.type == "cuda"
    if args.dataset == "synthetic":
        data = synthetic_dataset(4096)
    else:
        data = load_dataset(args.dataset, download=False)
    # No log inside the timed steps: a log reads the losses back to the host.
    total = 3 * (args.warmup + args.steps) + 10
    cfg = replace(
        GANConfig.for_dataset("mnist"),
        batch_size=args.batch,
        g_steps_per_d_step=1,
        log_every=total,
        sample_every=total,
    )
    name = torch.cuda.get_device_name() if gpu else "cpu"
    options = {"channels_last": args.channels_last, "precision": args.precision}
    print(
        f"device: {name}  torch {torch.__version__}  batch {args.batch}  "
        f"precision {args.precision}  channels_last {args.channels_last}"
    )

    eager = Trainer(cfg, data, device=device, progress=False, fast=False, **options)
    eager.fit(args.warmup)
    eager_s = seconds_per_step(eager, args.steps)
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if gpu else [])
    with profile(activities=activities) as prof:
        eager.fit(eager.step + args.steps)
        if gpu:
            torch.cuda.synchronize()
    table = prof.key_averages()
    key = "self_device_time_total" if gpu else "self_cpu_time_total"
    print(table.table(sort_by=key, row_limit=args.rows))
    # Operators list the device time of the kernels they launch, the kernels
    # are listed again on their own, and annotations such as the optimizer's
    # step span kernels too: sum the kernels alone (on a CPU, the operators'
    # self time).
    if gpu:
        busy = [
            e.self_device_time_total
            for e in table
            if e.device_type.name == "CUDA" and not e.is_user_annotation
        ]
    else:
        busy = [e.self_cpu_time_total for e in table]
    busy_us = sum(busy) / args.steps
    kind = "kernel" if gpu else "operator (self CPU)"
    print(f"{kind} time per step, summed: {busy_us / 1e3:.2f} ms")
    print(
        f"eager step, unprofiled: {eager_s * 1e3:.2f} ms "
        f"({args.batch / eager_s:,.0f} images/s)"
    )
    if gpu:
        graphed = Trainer(cfg, data, device=device, progress=False, **options)
        graphed.fit(args.warmup)
        graph_s = seconds_per_step(graphed, args.steps)
        print(
            f"CUDA-graph step (the default): {graph_s * 1e3:.2f} ms "
            f"({args.batch / graph_s:,.0f} images/s); its kernels, summed from the "
            f"eager profile: {busy_us / 1e3 / (graph_s * 1e3):.0%} of it"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
