#!/usr/bin/env bash
# torchvision's ResNet-18, MobileNetV2 and SqueezeNet 1.0 (224x224, random
# weights) exported to ONNX and imported into kiln, against ONNX Runtime
# (onnxruntime-node, spinning and not) and PyTorch 1.13 (eager and
# TorchScript, OMP_WAIT_POLICY=PASSIVE, 1 and THREADS threads), in one
# sitting: ms per run at batch 1 and 32 (min/median/max of REPEAT runs after
# warm-up), kiln's import time and first run (compilation included, the
# disk cache off), and each output against PyTorch's. Peers at their best:
# the faster of their settings is the one compared.
#
#   bash bench/onnx_zoo.sh [THREADS=2] [REPEAT=10]
# after building; onnxruntime-node comes from tests/onnx/runtime (npm ci).
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-2} repeat=${2:-10}
work=build/bench_onnx_zoo
mkdir -p "$work"
results=$work/results.txt
: >"$results"
runtime=tests/onnx/runtime
[[ -d $runtime/node_modules ]] || (cd "$runtime" && npm ci --no-audit --no-fund >/dev/null)
[[ -f $work/squeezenet1_0_b32_expected.npy ]] || /usr/bin/python3 bench/onnx_zoo.py export "$work"

# "TIME model=M batch=B peer=P min=.. median=.. max=.." from a "min X ms, median Y ms, max Z ms"
# or "ms min=X median=Y max=Z" line.
time_line() {
  sed -nE "s/.*min[ =]([0-9.]+)( ms)?,? median[ =]([0-9.]+)( ms)?,? max[ =]([0-9.]+).*/TIME model=$1 batch=$2 peer=$3 min=\1 median=\3 max=\5/p"
}

for model in resnet18 mobilenet_v2 squeezenet1_0; do
  start=$(date +%s.%N)
  ./build/kiln import "$work/$model.onnx" -o "$work/$model.kiln" >/dev/null
  echo "IMPORT model=$model s=$(echo "$(date +%s.%N) - $start" | awk '{print $1 - $3}')" >>"$results"
  for b in 1 32; do
    x=$work/${model}_b$b.npy
    out=$(KILN_CACHE=off ./build/kiln run "$work/$model.kiln" --feed "x=$x" --fetch y --out "$work/kiln_out" \
      --threads "$threads" --repeat "$repeat" --warmup 2 2>&1)
    time_line "$model" "$b" kiln_jit <<<"$out" >>"$results"
    first=$(sed -nE 's/.*compilation included: ([0-9.]+) ms.*/\1/p' <<<"$out")
    echo "FIRST model=$model batch=$b ms=$first" >>"$results"
    /usr/bin/python3 -c "import numpy as np, sys; a, b = np.load(sys.argv[1]), np.load(sys.argv[2]); \
print(f'CHECK model={sys.argv[3]} batch={sys.argv[4]} max_abs_diff={abs(a - b).max():.3g} scale={abs(b).max():.3g}')" \
      "$work/kiln_out/y.npy" "$work/${model}_b${b}_expected.npy" "$model" "$b" >>"$results"
    for spin in "" --no-spin; do
      node "$runtime/ort_run.js" --threads "$threads" --repeat "$repeat" $spin "$work/$model.onnx" \
        "$work/ort_out" "x=$x" | time_line "$model" "$b" "ort${spin:+_nospin}" >>"$results"
    done
  done
done
for t in 1 "$threads"; do
  /usr/bin/python3 bench/onnx_zoo.py time "$work" "$t" "$repeat" >>"$results"
done
/usr/bin/python3 bench/summarize_onnx_zoo.py "$results"
