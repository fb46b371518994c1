#!/usr/bin/env bash
# What compiling costs (bench/compile_bench.cpp: cold and warm first runs,
# kernels before and after deduplication, long chains), then, with BASELINE (a
# folder holding fashion_mlp, fashion_conv and mlp_infer_bench built from an
# earlier commit), this build against it, interleaved ROUNDS times in one
# sitting: steady-state training steps (the second epoch's steps/s) and MLP
# inference (batch-1 latency, batch-256 throughput).
#
#   bash bench/compile.sh [THREADS=2] [REPEATS=5] [BASELINE] [ROUNDS=3]
# A baseline, e.g. the commit before native kernels:
#   git worktree add /tmp/kiln-base f62350a && cd /tmp/kiln-base &&
#   cmake --preset release && cmake --build --preset release --target fashion_mlp fashion_conv mlp_infer_bench
#   bash bench/compile.sh 2 5 /tmp/kiln-base/build
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-2}
repeats=${2:-5}
baseline=${3:-}
rounds=${4:-3}
./build/compile_bench --threads "$threads" --repeats "$repeats"
[[ -n $baseline ]] || exit 0

log=$(mktemp)
steps() { # build-dir model
  local run
  case $2 in
  mlp) run=("$1/fashion_mlp" --epochs 2 --limit 19200) ;;
  lenet) run=("$1/fashion_conv" --model lenet --epochs 2 --limit 19200) ;;
  esac
  "${run[@]}" --threads "$threads" --out /tmp/kiln-compile-bench 2>&1 | tr '\r' '\n' |
    sed -n 's/^epoch 2\/2 \[.*\] *[0-9]*\/[0-9]* *\([0-9.]*\) steps\/s.*/\1/p' | tail -1
}
for ((r = 0; r < rounds; r++)); do
  for build in ./build "$baseline"; do
    name=$([[ $build == ./build ]] && echo this || echo baseline)
    for model in mlp lenet; do echo "RESULT name=$name.$model.step value=$(steps "$build" "$model")" >>"$log"; done
    "$build/mlp_infer_bench" --threads "$threads" | sed "s/name=kiln_/name=$name./" >>"$log"
  done
done
/usr/bin/python3 - "$log" <<'PY'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    m = re.match(r"RESULT name=(\w+)\.(\S+) value=(\S+)", line)
    if m:
        rows.setdefault(m[2], {}).setdefault(m[1], []).append(float(m[3]))
print("\nmeasure                                 this build            baseline        this/baseline")
for measure, by in rows.items():
    if "compile_time" in measure:
        continue
    cells = {k: f"{statistics.median(v):.4g} ({min(v):.4g}-{max(v):.4g})" for k, v in by.items()}
    ratio = statistics.median(by["this"]) / statistics.median(by["baseline"])
    unit = "steps/s" if measure.endswith(".step") else ""
    print(f"{measure + ' ' + unit:38} {cells['this']:>20} {cells['baseline']:>20} {ratio:8.2f}")
print("(steps/s and examples/s: higher is better; latency: lower is better)")
PY
