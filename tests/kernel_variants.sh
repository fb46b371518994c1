#!/usr/bin/env bash
# The portable kernel variants (CMake's KILN_KERNEL_ARCH=portable): baseline
# holds no AVX instruction (no ymm or zmm register), avx2 no AVX-512 one
# (zmm), avx512 does use zmm (so the check can fail); and KILN_CPU picks the
# variant a process runs, a bad value warns and falls back.
#   tests/kernel_variants.sh LLVM_OBJDUMP KERNELS_DIR KILN
set -euo pipefail
objdump=$1 dir=$2 kiln=$3

registers() { "$objdump" -d --no-show-raw-insn "$dir/native_$1.o" | grep -cE "%$2" || true; }
fail() { echo "FAIL: $*" >&2; exit 1; }

[[ $(registers baseline '[yz]mm') == 0 ]] || fail "the baseline kernels use AVX registers"
[[ $(registers avx2 zmm) == 0 ]] || fail "the avx2 kernels use AVX-512 registers"
[[ $(registers avx512 zmm) -gt 0 ]] || fail "the avx512 kernels use no zmm register"

for v in baseline avx2; do
  [[ $(KILN_CPU=$v "$kiln" --version) == *"kernels: $v of baseline, avx2, avx512"* ]] ||
    fail "KILN_CPU=$v is not the variant kiln runs"
done
warning=$(KILN_CPU=avx9 "$kiln" --version 2>&1 >/dev/null)
[[ $warning == "kiln: warning: KILN_CPU=avx9: this build's kernels are baseline, avx2, avx512; using "* ]] ||
  fail "KILN_CPU=avx9 gave: $warning"
echo "kernel variants: ok"
