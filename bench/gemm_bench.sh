#!/usr/bin/env bash
# Builds and runs the single-thread GEMM benchmark (kiln vs OpenBLAS).
# The kernel is compiled natively with clang-19 -O3 -march=native and 512-bit
# vectors preferred, which is what the JIT does with the bitcode.
# Needs clang-19 and libopenblas-dev (scripts/setup.sh --bench).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${TMPDIR:-/tmp}/kiln_gemm_bench"
flags=(${EXTRA:-} -std=c++20 -O3 -march=native -mprefer-vector-width=512 -fno-exceptions -fno-rtti)
clang++-19 "${flags[@]}" -c "$root/kernels/matmul.cpp" -o "$out.kernels.o"
clang++-19 -std=c++20 -O2 -I/usr/include/x86_64-linux-gnu "$root/bench/gemm_bench.cpp" "$out.kernels.o" \
  -lopenblas -o "$out"
OPENBLAS_NUM_THREADS=1 "$out"
