#!/usr/bin/env bash
# Training speed with each variant of the native kernel library (KILN_CPU;
# kernels/kernel_variants.h): the MLP and LeNet-5 on Fashion-MNIST, one epoch
# over the first LIMIT images, REPEATS times each; steps/s from the run log
# (compilation left out), min/median/max, and the median against the best
# variant's, all in one sitting.
#
#   bash bench/kernel_variants.sh [THREADS=1] [REPEATS=3] [LIMIT=20000]
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-1} repeats=${2:-3} limit=${3:-20000}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
variants=$(./build/kiln --version | sed -E 's/.* of (.*)\)$/\1/; s/, / /g')

steps_per_s() { # COMMAND...: the epoch's steps/s
  "$@" --epochs 1 --limit "$limit" --threads "$threads" --run-log "$log" >/dev/null 2>&1
  python3 -c 'import json,sys; print([r for r in map(json.loads, open(sys.argv[1])) if r["type"] == "epoch"][-1]["steps_per_s"])' "$log"
}

echo "# steps/s, $threads thread(s), $repeats runs of 1 epoch over $limit images; $(lscpu | sed -n 's/^Model name: *//p')"
printf '%-10s %-8s %28s %10s\n' model variant "steps/s min / median / max" "vs best"
rows=()
for model in mlp lenet; do
  declare -A median=()
  for v in $variants; do
    runs=()
    for _ in $(seq "$repeats"); do
      if [[ $model == mlp ]]; then runs+=("$(KILN_CPU=$v steps_per_s ./build/fashion_mlp)")
      else runs+=("$(KILN_CPU=$v steps_per_s ./build/fashion_conv --model lenet)"); fi
    done
    read -r lo mid hi < <(printf '%s\n' "${runs[@]}" | sort -g | awk '{a[NR]=$1} END {print a[1], a[int((NR+1)/2)], a[NR]}')
    median[$v]=$mid
    rows+=("$model $v $lo $mid $hi")
  done
  best=$(printf '%s\n' "${median[@]}" | sort -g | tail -1)
  for row in "${rows[@]}"; do
    read -r m v lo mid hi <<<"$row"
    printf '%-10s %-8s %8.0f / %6.0f / %6.0f %9.2fx\n' "$m" "$v" "$lo" "$mid" "$hi" \
      "$(awk -v a="$mid" -v b="$best" 'BEGIN { print a / b }')"
  done
  rows=()
  unset median
done
