#!/usr/bin/env bash
# kiln vs PyTorch (Debian's python3-torch) on the convolution and pooling
# layers of LeNet-5 and a small conv net at batch 64, each op on its own,
# interleaved ROUNDS times; prints a table (medians of the rounds' medians).
#   bash bench/conv_bench.sh [THREADS] [ROUNDS]   (after building; scripts/setup.sh --bench)
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-2}
rounds=${2:-3}
log=$(mktemp)
for r in $(seq "$rounds"); do
  ./build/conv_bench --threads "$threads" | tee -a "$log"
  if /usr/bin/python3 -c "import torch" 2>/dev/null; then
    /usr/bin/python3 bench/conv_bench.py --threads "$threads" | tee -a "$log"
  fi
done
/usr/bin/python3 bench/conv_bench_table.py "$log" "$threads"
