"""Training throughput: a reference DCGAN loop against gankit's Trainer.

    python benchmarks/throughput.py --device cuda --batches 128 512
    python benchmarks/throughput.py --device cpu            # a small version

In one process, on one device, with the same model, batch size and data, it
times (a) a loop written the way the reference PyTorch DCGAN example writes
it (``gankit.lessons.reference``: eager fp32, a DataLoader over the dataset,
``.item()`` on the losses every step) and (b) gankit's Trainer with its
defaults; on a GPU also the Trainer without its CUDA graph, and with the
channels-last layout and bfloat16 autocast, each alone and together. It
prints images per second for both, their ratio, and the share of the
device's peak FLOP rate that the trainer reaches, with the FLOPs of one
training step counted by ``torch.utils.flop_counter.FlopCounterMode``; and
writes everything to JSON. With ``--repeats N`` the two loops take turns N
times and the medians are reported, with the ratio's range over the turns.
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import statistics
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

import gankit
from gankit import GANConfig, Trainer, load_dataset, synthetic_dataset
from gankit.lessons.reference import reference_steps
from gankit.step import build_models, train_step


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def reference_loop(
    data, cfg: GANConfig, device: torch.device, steps: int, warmup: int
) -> float:
    """The reference example's loop (:mod:`gankit.lessons.reference`); returns
    images per second."""
    workers = 2 if device.type == "cuda" else 0
    loop = reference_steps(data, cfg, device, num_workers=workers)
    for _ in itertools.islice(loop, warmup):
        pass
    sync(device)
    t0 = time.perf_counter()
    for _ in itertools.islice(loop, steps):
        pass
    sync(device)
    return steps * cfg.batch_size / (time.perf_counter() - t0)


def trainer_loop(
    data, cfg: GANConfig, device: torch.device, steps: int, warmup: int, **options
) -> float:
    """gankit's Trainer, with its defaults unless ``options`` (constructor
    arguments) say otherwise; returns images per second."""
    trainer = Trainer(cfg, data, device=device, progress=False, **options)
    trainer.fit(warmup)
    sync(device)
    t0 = time.perf_counter()
    trainer.fit(warmup + steps)
    sync(device)
    return steps * cfg.batch_size / (time.perf_counter() - t0)


def check_equivalence(data, device: torch.device, steps: int) -> dict[str, object]:
    """Train ``steps`` steps eagerly twice and once through the CUDA graph, all
    from one seed, and compare what they logged. Two eager runs can already
    differ (cuDNN's algorithms need not be deterministic) and a GAN magnifies
    any difference step by step, so the eager pair gives the noise that the
    graph's difference is read against; the difference per logged step shows
    whether it starts small and grows or is there from the start."""
    cfg = replace(GANConfig.for_dataset("mnist"), log_every=10)
    runs = [
        Trainer(cfg, data, device=device, progress=False, fast=fast).fit(steps)
        for fast in (False, False, True)
    ]

    def gaps(a, b) -> list[float]:  # largest |difference| of the four, per log
        keys = ("d_loss", "g_loss", "d_real", "d_fake")
        columns = [zip(getattr(a, k), getattr(b, k), strict=True) for k in keys]
        return [max(abs(x - y) for x, y in row) for row in zip(*columns, strict=True)]

    noise, graph = gaps(runs[0], runs[1]), gaps(runs[0], runs[2])
    print(
        f"eager vs eager over {steps} steps, largest logged difference {max(noise):.2e}"
        f"; eager vs CUDA graph {max(graph):.2e}\n"
        f"  by logged step {runs[0].step[:8]}...:"
        f" eager {[f'{g:.1e}' for g in noise[:8]]},"
        f" graph {[f'{g:.1e}' for g in graph[:8]]}"
    )
    return {
        "steps": runs[0].step,
        "eager_vs_eager": noise,
        "eager_vs_graph": graph,
    }


def flops_per_step(cfg: GANConfig, device: torch.device) -> int:
    """FLOPs of one gankit training step, counted by FlopCounterMode."""
    g, d = build_models(cfg)
    g, d = g.to(device), d.to(device)
    opt_g = torch.optim.Adam(g.parameters(), lr=cfg.lr_g, betas=(cfg.beta1, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=cfg.lr_d, betas=(cfg.beta1, 0.999))
    real = (
        torch.rand(
            cfg.batch_size, cfg.channels, cfg.image_size, cfg.image_size, device=device
        )
        * 2
        - 1
    )
    z = torch.rand(cfg.batch_size, cfg.z_dim, device=device) * 2 - 1
    with FlopCounterMode(display=False) as counter:
        train_step(g, d, opt_g, opt_d, real, z, cfg)
    return counter.get_total_flops()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", default="auto", help="cuda, cpu or auto")
    p.add_argument(
        "--dataset", default="mnist", help="mnist (from $GANKIT_DATA) or synthetic"
    )
    p.add_argument(
        "--batches",
        type=int,
        nargs="+",
        default=None,
        help="batch sizes (default: 128 512 on GPU, 64 on CPU)",
    )
    p.add_argument(
        "--steps",
        type=int,
        default=None,
        help="timed steps per loop (default: 300 on GPU, 8 on CPU)",
    )
    p.add_argument(
        "--warmup",
        type=int,
        default=None,
        help="untimed steps first (default: 30 on GPU, 2 on CPU)",
    )
    p.add_argument(
        "--peak-tflops",
        type=float,
        default=None,
        help="the device's peak rate for the FLOP share (default: 790 "
        "on CUDA, the H100/H200 bf16 dense figure; none on CPU)",
    )
    p.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="times each pair of loops runs, alternating, reported as the median "
        "and the range (default: 1 on GPU, 3 on CPU, where neighbours' load "
        "moves single runs by about 10%%)",
    )
    p.add_argument("--threads", type=int, default=None, help="CPU threads")
    p.add_argument(
        "--check-steps",
        type=int,
        default=200,
        help="on a GPU, steps of the eager-vs-graph comparison (0: skip)",
    )
    p.add_argument("--out", default="benchmarks/throughput.json")
    args = p.parse_args(argv)

    device = gankit.runtime.resolve_device(args.device)
    gpu = device.type == "cuda"
    if args.threads:
        torch.set_num_threads(args.threads)
    batches = args.batches or ([128, 512] if gpu else [64])
    steps = args.steps or (300 if gpu else 8)
    warmup = args.warmup if args.warmup is not None else (30 if gpu else 2)
    peak = args.peak_tflops or (790.0 if gpu else None)
    repeats = args.repeats if args.repeats is not None else (1 if gpu else 3)
    if repeats < 1:
        raise SystemExit(f"--repeats must be at least 1, got {repeats}")
    if args.dataset == "synthetic":
        data = synthetic_dataset(4096)
    else:
        data = load_dataset(args.dataset, download=False)

    name = torch.cuda.get_device_name() if gpu else platform.processor() or "cpu"
    results = {
        "device": name,
        "torch": torch.__version__,
        "gankit": gankit.__version__,
        "date": date.today().isoformat(),
        "threads": torch.get_num_threads(),
        "steps": steps,
        "warmup": warmup,
        "repeats": repeats,
        "peak_tflops": peak,
        "runs": [],
    }
    print(
        f"device: {name}  torch {torch.__version__}  threads {torch.get_num_threads()}"
    )
    for b in batches:
        # One generator step per discriminator step, as the reference loop does,
        # so that both loops do the same work per image.
        cfg = replace(
            GANConfig.for_dataset("mnist"), batch_size=b, g_steps_per_d_step=1
        )
        flops = flops_per_step(cfg, device)
        refs, ours_runs = [], []
        for _ in range(repeats):  # alternating, so slow spells hit both loops
            refs.append(reference_loop(data, cfg, device, steps, warmup))
            ours_runs.append(trainer_loop(data, cfg, device, steps, warmup))
        ref, ours = statistics.median(refs), statistics.median(ours_runs)
        ratios = [o / r for o, r in zip(ours_runs, refs, strict=True)]
        share = (ours * flops / b) / (peak * 1e12) if peak else None
        run = {
            "batch": b,
            "reference_img_s": ref,  # medians over the repeats
            "gankit_img_s": ours,
            "ratio": ours / ref,
            "reference_runs_img_s": refs,
            "gankit_runs_img_s": ours_runs,
            "ratio_per_repeat": ratios,
            "gflop_per_image": flops / b / 1e9,
            "peak_share": share,
        }
        spread = (
            f" (per repeat x{min(ratios):.2f} to x{max(ratios):.2f})"
            if repeats > 1
            else ""
        )
        print(
            f"batch {b:4d}: reference {ref:10.0f} img/s | gankit {ours:10.0f} img/s"
            f" | x{ours / ref:.2f}{spread} | {flops / b / 1e9:.2f} GFLOP/img"
            + (f" | {100 * share:.2f}% of {peak:.0f} TFLOP/s" if share else "")
        )
        if gpu:  # what the graph brings, and what layout and precision would add
            variants = {
                "eager": {"fast": False},
                "channels_last": {"channels_last": True},
                "bf16": {"precision": "bf16"},
                "bf16_channels_last": {"precision": "bf16", "channels_last": True},
            }
            for name, options in variants.items():
                rate = trainer_loop(data, cfg, device, steps, warmup, **options)
                run[f"gankit_{name}_img_s"] = rate
                print(f"            gankit {name:20s} {rate:10.0f} img/s")
        results["runs"].append(run)
    if gpu and args.check_steps > 0:
        results["graph_vs_eager"] = check_equivalence(data, device, args.check_steps)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
