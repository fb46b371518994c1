#!/usr/bin/env bash
# The LSTM training step of bench/peers/torch_lstm_train.py (input 64, hidden
# 128, batch 32, 32 steps, dense 128 -> 64 on the last step, SGD lr 0.01),
# kiln against PyTorch (Debian's python3-torch) in one sitting, interleaved
# ROUNDS times. PyTorch runs at its best: OMP_WAIT_POLICY=PASSIVE, 1 and
# THREADS threads, kiln compared with the faster. Also kiln's cold compile
# time (disk cache off) at 32 and 128 steps and the step's arena size, and a
# pre-norm transformer block on the same data against PyTorch's
# (bench/torch_transformer_train.py).
#
#   bash bench/lstm_train.sh [THREADS=2] [ROUNDS=3]
# Needs `bash scripts/setup.sh --bench` and a build.
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-2}
rounds=${2:-3}
peers=bench/peers
log=$(mktemp)
for r in $(seq "$rounds"); do
  ./build/lstm_train_bench --threads "$threads" | tee -a "$log"
  for t in $(printf '%s\n' 1 "$threads" | sort -un); do
    OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 "$peers/torch_lstm_train.py" --threads "$t" |
      tee -a "$log"
  done
  ./build/lstm_train_bench --threads "$threads" --steps 128 --compile-only | tee -a "$log"
  ./build/lstm_train_bench --threads "$threads" --model transformer | tee -a "$log"
  for t in $(printf '%s\n' 1 "$threads" | sort -un); do
    OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 bench/torch_transformer_train.py --threads "$t" |
      tee -a "$log"
  done
done
/usr/bin/python3 bench/summarize_lstm.py "$log" "$threads"
