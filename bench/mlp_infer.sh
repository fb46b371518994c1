#!/usr/bin/env bash
# kiln vs PyTorch (Debian's python3-torch) on the MLP 784-512-10 forward pass,
# in one sitting, interleaved ROUNDS times: batch-1 latency and batch-256
# throughput, as medians with min/max, and kiln/PyTorch ratios.
#   bash bench/mlp_infer.sh [THREADS] [ROUNDS]   (after building; needs scripts/setup.sh --bench)
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-2}
rounds=${2:-3}
log=$(mktemp)
for r in $(seq "$rounds"); do
  ./build/mlp_infer_bench --threads "$threads" | tee -a "$log"
  /usr/bin/python3 bench/torch_mlp_infer.py --threads "$threads" | tee -a "$log"
done
/usr/bin/python3 bench/summarize.py "$log" "$threads"
