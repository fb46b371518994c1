#!/usr/bin/env bash
# The variational autoencoder (examples/fashion_vae.cpp) against its PyTorch
# peer (bench/torch_vae.py: the same model, loss, optimizer and batches) at
# its best (OMP_WAIT_POLICY=PASSIVE, 1 and THREADS threads), in one sitting:
# test ELBO (nats per image; higher is better) and training seconds, each
# run REPEATS times (min/median/max), kiln's time against the faster peer's.
#
#   bash bench/vae.sh [EPOCHS=10] [THREADS=2] [REPEATS=1]
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${1:-10} threads=${2:-2} repeats=${3:-1}

run() { # NAME COMMAND...: "NAME ELBO SECONDS" per repeat
  local name=$1
  shift
  for _ in $(seq "$repeats"); do
    "$@" | sed -nE "s/^test ELBO (-?[0-9.]+) nats per image after [0-9]+ epochs, ([0-9.]+) s of training.*/$name \1 \2/p"
  done
}

{
  run kiln ./build/fashion_vae --epochs "$epochs" --threads "$threads" --out build/vae_bench
  for t in 1 "$threads"; do
    run "pytorch_t$t" /usr/bin/python3 bench/torch_vae.py --epochs "$epochs" --threads "$t"
  done
} | /usr/bin/python3 -c '
import statistics, sys
runs = {}
for line in sys.stdin:
    name, elbo, s = line.split()
    runs.setdefault(name, []).append((float(elbo), float(s)))
median = lambda xs: statistics.median(xs)
print(f"# {sys.argv[1]} epochs, batch 128, Adam 1e-3; seconds of training (min / median / max)")
print("| run | test ELBO (median) | training s (min / median / max) |")
print("|---|---|---|")
for name, rs in runs.items():
    s = sorted(r[1] for r in rs)
    print(f"| {name} | {median([r[0] for r in rs]):.1f} | {s[0]:.1f} / {median(s):.1f} / {s[-1]:.1f} |")
peer = min((n for n in runs if n != "kiln"), key=lambda n: median([r[1] for r in runs[n]]))
ratio = median([r[1] for r in runs[peer]]) / median([r[1] for r in runs["kiln"]])
print(f"kiln trains {ratio:.2f}x as fast as the faster peer ({peer})")
' "$epochs"
