#!/usr/bin/env bash
# test_package.sh BUILD SOURCE WORK MODELS GENERATOR [CXX_FLAGS]: installs
# kiln from BUILD into WORK/prefix, builds examples/aot_classify against it
# with find_package(kiln), compiling MODELS/mlp.kiln ahead of time, and checks
# that it classifies MODELS/images.npy as the JIT (the installed kiln run) does.
# CXX_FLAGS are BUILD's: a program linking a sanitized kiln must be sanitized.
set -euo pipefail
build=$1 source=$2 work=$3 models=$4 generator=$5 cxx_flags=${6:-}
rm -rf "$work"
cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake -S "$source/examples/aot_classify" -B "$work/classify" -G "$generator" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$work/prefix" -DKILN_MODEL="$models/mlp.kiln" \
  -DCMAKE_CXX_FLAGS="$cxx_flags" >/dev/null
cmake --build "$work/classify"
"$work/prefix/bin/kiln" run "$models/mlp.kiln" --feed x="$models/images.npy" --fetch predicted \
  --out "$work/jit" >/dev/null
"$work/classify/classify" "$models/images.npy" --expect "$work/jit/predicted.npy"
