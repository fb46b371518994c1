#!/usr/bin/env bash
# A rank that dies mid-training ends the whole job within seconds (Open
# MPI's mpirun kills the other ranks and exits non-zero: docs/decisions.md),
# and the last checkpoint rank 0 wrote, atomically, still loads: one process
# resumes from it.
#   rank_dies.sh KILN_RANK_DIES MPIEXEC
set -euo pipefail
program=$1 mpiexec=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
start=$(date +%s%N)
status=0
timeout 60 "$mpiexec" --allow-run-as-root --oversubscribe -np 2 "$program" --die-at 4 \
  --dir "$dir" >"$dir/log" 2>&1 || status=$?
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
cat "$dir/log"
if ((status == 0)); then echo "FAIL: the job went on without rank 1" >&2; exit 1; fi
if ((status == 124)); then echo "FAIL: the job hung for 60 s" >&2; exit 1; fi
if ((elapsed_ms > 10000)); then echo "FAIL: the job took $elapsed_ms ms to end" >&2; exit 1; fi
grep -q "exited on signal 9" "$dir/log" || { echo "FAIL: mpirun did not name the dead rank" >&2; exit 1; }
resumed=$("$program" --resume "$dir/last.ckpt")
echo "$resumed"
# Rank 0 saved after steps 1, 2 and 3 (rank 1 died before its step 4, which
# rank 0 cannot finish alone); killed while writing step 3's, it left step 2's.
[[ $resumed =~ ^resumed\ at\ step\ ([23]),\ now\ at\ step\ ([45])$ ]] ||
  { echo "FAIL: expected to resume at step 2 or 3" >&2; exit 1; }
echo "PASS: the job ended in $elapsed_ms ms with status $status; the checkpoint resumed"
