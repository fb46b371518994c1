#!/usr/bin/env bash
# Ahead-of-time kiln against the JIT Session, ONNX Runtime (onnxruntime-node,
# the strongest inference peer) and PyTorch 1.13, in one sitting, on the
# peers' MLP and LeNet-5 (bench/make_bench_models.cpp):
# - binary size and start-up (process start to first result: create, one
#   batch-1 forward, exit) of the AOT host program, of a JIT Session program
#   (disk cache warm, as on a user's second run; and cold) and of TorchScript
#   (torch.jit.load in a fresh python3);
# - batch-1 latency and batch-256 throughput (bench/timing.h's method), the
#   peers at their best: ONNX Runtime with and without spin-waiting, PyTorch
#   eager and TorchScript with OMP_WAIT_POLICY=PASSIVE at 1 and THREADS threads;
# - the MLP's batch-64 Adam step, AOT against JIT; `kiln compile` wall time.
#   bash bench/aot.sh [THREADS] [ROUNDS] [PEERS]
# after building, with `bash scripts/setup.sh --bench`; PEERS is the folder of
# the peer scripts (ort_infer.js, export_onnx.py; default
# bench/peers), copied into build/bench_aot/ where npm installs
# onnxruntime-node.
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-2}
rounds=${2:-3}
peers=${3:-bench/peers}
work=build/bench_aot
mkdir -p "$work"
log="$work/results.txt"
: >"$log"

if [[ ! -d "$work/peers/node_modules" ]]; then
  mkdir -p "$work/peers"
  cp -r "$peers"/. "$work/peers/"
  (cd "$work/peers" && npm ci --no-audit --no-fund --ignore-scripts >/dev/null)
fi
[[ -f "$work/peers/models/mlp.onnx" ]] ||
  /usr/bin/python3 "$work/peers/export_onnx.py" --out "$work/peers/models" >/dev/null
/usr/bin/python3 bench/torch_aot_peer.py export "$work/torchscript"

# Start-up, 10 processes each: "STARTUP <name> <ms>".
startup() {
  local name=$1
  shift
  for _ in $(seq 10); do
    local start end
    start=$(date +%s%N)
    "$@" >/dev/null
    end=$(date +%s%N)
    echo "STARTUP $name $(((end - start) / 1000))" >>"$log"
  done
}
size() { echo "SIZE $1 $(stat -L -c %s "$2")" >>"$log"; }

models=build/bench_models
for m in mlp lenet; do
  size "aot.$m" "build/aot_first_$m"
  size "aot_weights.$m" "build/bench_${m}1.kiln/bench_${m}1.weights"
  size "torchscript.$m" "$work/torchscript/$m.pt"
done
size jit build/jit_first
size libllvm "$(ldd build/jit_first | awk '/libLLVM/ {print $3}')"
size libtorch "$(/usr/bin/python3 -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "lib", "libtorch_cpu.so"))')"

for r in $(seq "$rounds"); do
  echo "--- round $r of $rounds"
  for m in mlp lenet; do
    item=784
    [[ $m == lenet ]] && item="1 28 28"
    startup "aot.$m" "build/aot_first_$m" "build/bench_${m}1.kiln/bench_${m}1.weights"
    # shellcheck disable=SC2086
    startup "jit_warm.$m" build/jit_first "$models/$m.kiln" $item
    # shellcheck disable=SC2086
    KILN_CACHE=off startup "jit_cold.$m" build/jit_first "$models/$m.kiln" $item
    startup "torchscript.$m" /usr/bin/python3 bench/torch_aot_peer.py first "$work/torchscript" "$m"
    for _ in 1 2 3; do
      start=$(date +%s%N)
      ./build/kiln compile "$models/$m.kiln" -o "$work/compiled/$m" --fetch logits --batch 1 >/dev/null
      end=$(date +%s%N)
      echo "COMPILE $m $(((end - start) / 1000))" >>"$log"
    done
  done
  ./build/aot_bench --threads "$threads" | tee -a "$log"
  for t in 1 "$threads"; do
    node "$work/peers/ort_infer.js" --threads "$t" | tee -a "$log"
    node "$work/peers/ort_infer.js" --threads "$t" --no-spin | tee -a "$log"
    /usr/bin/python3 bench/torch_aot_peer.py infer --threads "$t" | tee -a "$log"
  done
done
/usr/bin/python3 bench/summarize_aot.py "$log" "$threads"
