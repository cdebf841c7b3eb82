#!/usr/bin/env bash
# Seconds per epoch of `nn train` and of numpy's matrix-based mini-batch version of the same
# training (benches/numpy/train_numpy.py), run one after the other in one go, and their ratios.
#
#   bash benches/versus_numpy.sh [EPOCHS]      # default 3 epochs of each
#
# Makes its own Python virtual environment with numpy (target/versus-numpy-venv, or
# $NN_BENCH_VENV), builds nn in release mode, and runs both on the first 50,000 MNIST training
# images found as the tests find them ($MNIST_DIR, data/mnist or ../shared/data/mnist). Each
# figure is the median epoch's training time (monitoring excluded). numpy runs with
# OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset, so that OpenBLAS picks the kernel for this
# processor; the BLAS it uses and its threads are printed. Absolute times on a shared machine
# move from run to run: compare the ratios, and note the load average printed before and after.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
epochs="${1:-3}"
venv="${NN_BENCH_VENV:-$root/target/versus-numpy-venv}"

mnist=""
for dir in "${MNIST_DIR:-}" data/mnist ../shared/data/mnist; do
    if [ -n "$dir" ] && [ -f "$dir/train-images-idx3-ubyte.gz" ]; then
        mnist="$dir"
        break
    fi
done
if [ -z "$mnist" ]; then
    echo "error: MNIST not found: set MNIST_DIR to the folder of the four *-ubyte.gz files" >&2
    exit 1
fi

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet numpy threadpoolctl
fi
python=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$venv/bin/python")
cargo build --release --quiet -p nn-cli
nn="$root/target/release/nn"
metrics="$(mktemp --suffix=.json)"
trap 'rm -f "$metrics"' EXIT

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"${python[@]}" -c 'import numpy, threadpoolctl; print("numpy", numpy.__version__, [(i["internal_api"], i.get("architecture"), i["num_threads"]) for i in threadpoolctl.threadpool_info()])'
printf '%-12s %6s %12s %12s %8s\n' network batch "nn s/epoch" "numpy s/ep" "ratio"
for config in "784,30,10 10" "784,100,10 10" "784,800,10 100"; do
    read -r layers batch <<<"$config"
    "$nn" train --layers "$layers" --batch-size "$batch" --epochs "$epochs" \
        --metrics "$metrics" >/dev/null
    nn_s=$("${python[@]}" -c 'import json, sys
for epoch in json.load(open(sys.argv[1]))["history"]:
    print("%.4f" % epoch["seconds"])' "$metrics" | median)
    np_s=$("${python[@]}" benches/numpy/train_numpy.py "$mnist" --layers "$layers" \
        --batch-size "$batch" --epochs "$epochs" | sed -n 's/^epoch [0-9]*: \([0-9.]*\) s$/\1/p' | median)
    ratio=$(awk -v a="$np_s" -v b="$nn_s" 'BEGIN { printf "%.2fx", a / b }')
    printf '%-12s %6s %12s %12s %8s\n' "$layers" "$batch" "$nn_s" "$np_s" "$ratio"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "ratio = numpy's seconds per epoch / nn's (above 1: nn is faster)"
