#!/usr/bin/env bash
# Data-parallel training steps on this machine, in one sitting, interleaved
# ROUNDS times: RANKS ranks x 1 thread (mpirun) against one process x RANKS
# threads at the same global batch (64 items a rank), for kiln
# (build/data_parallel_bench) and PyTorch (DistributedDataParallel over gloo,
# bench/torch_ddp_train.py, OMP_WAIT_POLICY=PASSIVE; alone, the faster of 1 and RANKS
# threads), on the MLP 784-512-10
# and LeNet-5 with Adam; then the table (bench/summarize_data_parallel.py).
#
#   bash bench/data_parallel.sh [RANKS=2] [ROUNDS=3]
# Needs a build (KILN_MPI on) and python3-torch (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
ranks=${1:-2}
rounds=${2:-3}
log=$(mktemp)
mpi=(mpirun --allow-run-as-root --oversubscribe -np "$ranks")
for r in $(seq "$rounds"); do
  for model in mlp lenet; do
    "${mpi[@]}" ./build/data_parallel_bench --model $model --batch 64 --threads 1 | tee -a "$log"
    ./build/data_parallel_bench --model $model --batch $((64 * ranks)) --threads "$ranks" |
      tee -a "$log"
    (cd bench && OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 torch_ddp_train.py --model $model \
      --ranks "$ranks" --batch 64 --threads 1 | tee -a "$log")
    for t in 1 "$ranks"; do # PyTorch alone at its best: the faster of 1 and RANKS threads
      (cd bench && OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 torch_ddp_train.py --model $model \
        --batch $((64 * ranks)) --threads "$t" | sed "s/_1x${t}_/_1x${ranks}_/" | tee -a "$log")
    done
  done
done
/usr/bin/python3 bench/summarize_data_parallel.py "$log" "$ranks"
