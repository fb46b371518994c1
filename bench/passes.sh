#!/usr/bin/env bash
# What fusion and memory planning do to the Fashion-MNIST training steps (MLP
# 784-512-10 with Adam, LeNet-5 with Adam; batch 64): kernels per program and
# the memory plan (`kiln info --memory`, the saved model's sinks as roots), and
# the steady-state step time (steps/s of the last epoch, compilation excluded)
# with each pass group on and off, the four configurations interleaved run by
# run in one sitting: median (min-max) ms per step and the ratio to all-on.
#
#   bash bench/passes.sh [THREADS=2] [REPEATS=3] [MODELS="mlp lenet"]
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-2}
repeats=${2:-3}
models=${3:-"mlp lenet"}
out=/tmp/kiln-passes
log=$(mktemp)

train() { # model flags...
  local model=$1
  shift
  case $model in
  mlp) ./build/fashion_mlp --epochs 3 --limit 60000 --threads "$threads" --out "$out" "$@" ;;
  lenet) ./build/fashion_conv --model lenet --epochs 3 --limit 19200 --threads "$threads" --out "$out" "$@" ;;
  esac
}

configs=("" "--no-fusion" "--no-memory-planning" "--no-fusion --no-memory-planning")
for model in $models; do
  train "$model" >/dev/null 2>&1
  file=$out/$model.kiln
  echo "== $model: $(basename "$file"), batch 64"
  echo "-- with fusion"; ./build/kiln info "$file" --memory | sed -n '/^memory/,$p'
  echo "-- without fusion"; ./build/kiln info "$file" --memory --no-fusion | sed -n '/^memory/,$p'
  for ((r = 0; r < repeats; r++)); do
    for config in "${configs[@]}"; do
      # shellcheck disable=SC2086
      rate=$(train "$model" $config 2>&1 | tr '\r' '\n' | sed -n 's/^epoch 3\/3 \[.*\] *[0-9]*\/[0-9]* *\([0-9.]*\) steps\/s.*/\1/p' | tail -1)
      echo "$model|${config:-all passes}|$rate" | tee -a "$log"
    done
  done
done
/usr/bin/python3 - "$log" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    model, config, rate = line.strip().split("|")
    rows.setdefault(model, {}).setdefault(config, []).append(1000 / float(rate))
for model, configs in rows.items():
    base = statistics.median(configs["all passes"])
    print(f"\n{model}: ms per training step, median (min-max), ratio to all passes")
    for config, ms in configs.items():
        m = statistics.median(ms)
        print(f"  {config:34} {m:6.2f} ({min(ms):.2f}-{max(ms):.2f})  x{m / base:.2f}")
PY
