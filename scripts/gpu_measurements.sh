#!/usr/bin/env bash
# Every figure the project quotes from a CUDA GPU, measured in one run.
#
#     GANKIT_DATA=... bash scripts/gpu_measurements.sh OUT_DIR
#
# 1. trains the article's DCGAN on MNIST for 20 epochs twice (2 and 1 generator
#    steps per discriminator step, EMA 0.999) with `python -m gankit train`;
# 2. ships the better generator with scripts/ship_generator.py (it replaces
#    gankit/weights/mnist_generator.* and copies them to OUT_DIR);
# 3. benchmarks/throughput.py at batches 64 to 512, and its plot;
# 4. benchmarks/cli_wall_time.py: 20 epochs from launch to checkpoint;
# 5. scripts/time_chapters.py --profile full: the introduction's GPU column.
#
# Each step writes its output to OUT_DIR/<step>.txt; a failed or timed-out
# step is reported and the next one still runs. All of it needs about 10
# minutes on an H100 or H200, and each step has its own time limit (at most
# 540 s, for the chapters); to run some steps only, name them in ONLY, e.g.
# ONLY="throughput throughput_plot cli_wall_time" bash scripts/gpu_measurements.sh OUT.
set -uo pipefail

out=${1:?usage: bash scripts/gpu_measurements.sh OUT_DIR}
mkdir -p "$out"
cd "$(dirname "$0")/.."

if ! python -c "import torch, sys; sys.exit(not torch.cuda.is_available())"; then
    echo "no CUDA GPU: these measurements need one" >&2
    exit 1
fi
python - > "$out/device.txt" <<'EOF'
import torch, gankit
print(torch.cuda.get_device_name(), "torch", torch.__version__, "gankit", gankit.__version__)
EOF
cat "$out/device.txt"

failed=0
wanted() {  # wanted NAME: true unless ONLY is set and leaves NAME out
    [ -z "${ONLY:-}" ] || [[ " $ONLY " == *" $1 "* ]]
}
step() {  # step NAME SECONDS COMMAND...; returns the command's status
    local name=$1 limit=$2
    shift 2
    wanted "$name" || return 0
    echo "== $name: $*"
    local start=$SECONDS
    timeout "$limit" "$@" > "$out/$name.txt" 2>&1
    local rc=$?
    echo "   rc=$rc after $((SECONDS - start)) s" | tee -a "$out/$name.txt"
    [ "$rc" -eq 0 ] || failed=$((failed + 1))
    tail -n 25 "$out/$name.txt"
    return "$rc"
}

g2="python -m gankit train --dataset mnist --steps 9380 --ema 0.999 --quiet --out runs/gpu-g2"
g1="python -m gankit train --dataset mnist --steps 9380 --ema 0.999 --g-steps 1 --quiet --out runs/gpu-g1"
step train_g2 240 $g2
step train_g1 240 $g1
step ship 240 python scripts/ship_generator.py \
    --checkpoint runs/gpu-g2/checkpoint.pt --command "${g2/ --quiet/}" \
    --checkpoint runs/gpu-g1/checkpoint.pt --command "${g1/ --quiet/}" &&
    wanted ship &&
    cp gankit/weights/mnist_generator.safetensors gankit/weights/mnist_generator.json "$out/"
step throughput 300 python benchmarks/throughput.py --device cuda \
    --batches 64 128 256 512 --out "$out/throughput.json"
step throughput_plot 60 python benchmarks/plot_throughput.py \
    "$out/throughput.json" "$out/throughput.png"
step cli_wall_time 180 python benchmarks/cli_wall_time.py --epochs 20
step chapters_full 540 python scripts/time_chapters.py --profile full

echo "$failed step(s) failed; outputs in $out"
exit $((failed > 0))
