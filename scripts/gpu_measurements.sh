#!/usr/bin/env bash
# Every figure the project quotes from a CUDA GPU, measured in one run.
#
#     GANKIT_DATA=... bash scripts/gpu_measurements.sh OUT_DIR
#     BUDGET=550 GANKIT_DATA=... bash scripts/gpu_measurements.sh OUT_DIR
#
# 0. gpu_tests: the tests that need a CUDA GPU (the graph path's);
# 1. train_20ep: benchmarks/cli_wall_time.py times `python -m gankit train`
#    for 20 MNIST epochs (the article's 2 G steps per D step, EMA 0.999) from
#    launch to checkpoint, and keeps the run in runs/gpu-mnist;
# 1b. train_20ep_bf16: the same with --precision bf16 --channels-last (kept in
#    runs/gpu-mnist-bf16), and compare_fd: the EMA generators of the two
#    20-epoch runs measured alike (n=10,000, seed 0), so that bfloat16's effect
#    on what is learned is read beside its effect on time;
# 2. while the chapters that train on the CPU (introduction to 4) are timed
#    under the `full` profile (chapters_cpu), the same run trains on in
#    20-epoch segments to EPOCHS epochs (default 80; train_longer), keeping a
#    checkpoint after each, and scripts/ship_generator.py measures them all
#    and ships the best generator (ship: it replaces
#    gankit/weights/mnist_generator.* and copies them to OUT_DIR);
# 3. chapters_gpu: chapters 5 and 6 under `full`, with the GPU to themselves;
# 4. throughput: benchmarks/throughput.py at batches 64 to 512, and its plot;
# 5. profile: benchmarks/profile_step.py, where a step's time goes;
#    profile_bf16: the same with --precision bf16 --channels-last.
#
# On an NVIDIA H200 (2026-11-27) all of it took about 9 minutes.
# Each step writes its output to OUT_DIR/<step>.txt; a failed or timed-out
# step is reported and the next one still runs. With BUDGET (seconds) set,
# each step's limit shrinks to what is left of it and a step with under 20 s
# left is skipped, so the whole script ends within BUDGET. To run some steps
# only, name them in ONLY, e.g. ONLY="throughput throughput_plot". The speed
# measurements alone, without training on to ship or timing the chapters:
#     ONLY="gpu_tests train_20ep train_20ep_bf16 compare_fd throughput \
#         throughput_plot profile profile_bf16" BUDGET=540 bash ...
set -uo pipefail

out=${1:?usage: bash scripts/gpu_measurements.sh OUT_DIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$(dirname "$0")/.."
budget=${BUDGET:-0}
epochs=${EPOCHS:-80}

if ! python -c "import torch, sys; sys.exit(not torch.cuda.is_available())"; then
    echo "no CUDA GPU: these measurements need one" >&2
    exit 1
fi
python - > "$out/device.txt" <<'EOF'
import torch, gankit
print(torch.cuda.get_device_name(), "torch", torch.__version__, "gankit", gankit.__version__)
EOF
cat "$out/device.txt"
: > "$out/failed.txt"

wanted() {  # wanted NAME: true unless ONLY is set and leaves NAME out
    [ -z "${ONLY:-}" ] || [[ " $ONLY " == *" $1 "* ]]
}
step() {  # step NAME SECONDS COMMAND...; returns the command's status
    local name=$1 limit=$2
    shift 2
    wanted "$name" || return 0
    if [ "$budget" -gt 0 ]; then
        local left=$((budget - SECONDS))
        [ "$left" -lt "$limit" ] && limit=$left
        if [ "$limit" -lt 20 ]; then
            echo "== $name: skipped, ${left} s of the budget left" | tee "$out/$name.txt"
            echo "$name" >> "$out/failed.txt"
            return 1
        fi
    fi
    echo "== $name (limit ${limit} s): $*"
    local start=$SECONDS
    timeout -k 5 "$limit" "$@" > "$out/$name.txt" 2>&1
    local rc=$?
    echo "   rc=$rc after $((SECONDS - start)) s" | tee -a "$out/$name.txt"
    [ "$rc" -eq 0 ] || echo "$name" >> "$out/failed.txt"
    tail -n 30 "$out/$name.txt"
    return "$rc"
}

run=runs/gpu-mnist
run_bf16=runs/gpu-mnist-bf16
epoch=468  # steps of 128 in one MNIST epoch (60,000 // 128)
train="python -m gankit train --dataset mnist --batch-size 128 --offline --out $run"

timed_20ep() {  # timed_20ep NAME RUN FLAGS...: 20 epochs timed, kept in RUN
    local name=$1 dir=$2
    shift 2
    rm -rf "$dir"
    step "$name" 200 python benchmarks/cli_wall_time.py --epochs 20 \
        --out "$dir" --extra --ema 0.999 "$@"
}
compare_fd() {  # the two 20-epoch runs' EMA generators, n=10,000, seed 0
    local ckpt
    for ckpt in "$run/step$((20 * epoch)).pt" "$run_bf16/checkpoint.pt"; do
        echo "-- $ckpt"
        python -m gankit evaluate --checkpoint "$ckpt" --n 10000 --offline --json ||
            return 1
    done
}
train_longer() {  # 20-epoch segments, each resuming the last, to EPOCHS epochs
    local steps=$((20 * epoch)) t
    while [ "$steps" -lt $((epochs * epoch)) ]; do
        steps=$((steps + 20 * epoch))
        t=$SECONDS
        echo "-- resuming to step $steps"
        $train --steps "$steps" --quiet || return 1
        cp "$run/checkpoint.pt" "$run/step$steps.pt"
        echo "-- step $steps after $((SECONDS - t)) s"
    done
}
ship() {  # every kept checkpoint is a candidate; the best one ships
    local args=() ckpt steps command first
    first=$(cat "$run/command.txt") || return 1  # written by cli_wall_time.py
    for ckpt in "$run"/step*.pt; do
        steps=${ckpt##*/step}
        steps=${steps%.pt}
        command=$first
        [ "$steps" -gt $((20 * epoch)) ] &&
            command="$first && $train --steps $steps"
        args+=(--checkpoint "$ckpt" --command "$command")
    done
    python scripts/ship_generator.py "${args[@]}" &&
        cp gankit/weights/mnist_generator.safetensors \
            gankit/weights/mnist_generator.json "$out/"
}
chapters() {  # chapters NUMBER...: time those chapters under `full`
    local n books=()
    for n in "$@"; do books+=(book/"$n"_*.ipynb); done
    python scripts/time_chapters.py --profile full "${books[@]}"
}

# `timeout` runs programs, not shell functions: hand these to a child bash.
export run run_bf16 epoch train epochs out
export -f compare_fd train_longer ship chapters

step gpu_tests 150 python -m pytest -q -rs -p no:cacheprovider \
    tests/test_fast.py tests/test_trainer.py tests/test_ema.py tests/test_runtime.py
wanted train_20ep && timed_20ep train_20ep "$run" &&
    cp "$run/checkpoint.pt" "$run/step$((20 * epoch)).pt"
wanted train_20ep_bf16 &&
    timed_20ep train_20ep_bf16 "$run_bf16" --precision bf16 --channels-last
step compare_fd 120 bash -c compare_fd

# The introduction and chapters 1 to 4 train on the CPU only: time them while
# the GPU trains on.
(
    [ -f "$run/checkpoint.pt" ] &&
        step train_longer 300 bash -c train_longer
    [ -n "$(ls "$run"/step*.pt 2>/dev/null)" ] && step ship 240 bash -c ship
) > "$out/background.txt" 2>&1 &
step chapters_cpu 300 bash -c "chapters 00 01 02 03 04"
wait
cat "$out/background.txt"
step chapters_gpu 420 bash -c "chapters 05 06"
step throughput 200 python benchmarks/throughput.py --device cuda \
    --batches 64 128 256 512 --steps 150 --warmup 20 --check-steps 100 \
    --out "$out/throughput.json"
step throughput_plot 60 python benchmarks/plot_throughput.py \
    "$out/throughput.json" "$out/throughput.png"
step profile 90 python benchmarks/profile_step.py --device cuda --batch 128
step profile_bf16 90 python benchmarks/profile_step.py --device cuda --batch 128 \
    --precision bf16 --channels-last

failed=$(wc -l < "$out/failed.txt")
echo "$failed step(s) failed or skipped: $(tr '\n' ' ' < "$out/failed.txt"); outputs in $out"
exit $((failed > 0))
