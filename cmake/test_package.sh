#!/usr/bin/env bash
# test_package.sh BUILD SOURCE WORK MODELS GENERATOR [CXX_FLAGS]: installs
# kiln from BUILD into WORK/prefix and builds two programs against it with
# find_package(kiln), as a user's projects would:
# - examples/aot_classify, compiling MODELS/mlp.kiln ahead of time (it links
#   kiln::runtime only), which must classify MODELS/images.npy as the JIT
#   (the installed kiln run) does;
# - examples/first_program, the README's first program (kiln::kiln: builds a
#   graph, trains it in a Session), which must train for an epoch to over 80%.
# CXX_FLAGS are BUILD's: a program linking a sanitized kiln must be sanitized.
# The last line, "package: both programs pass", is printed only when both do.
set -euo pipefail
build=$1 source=$2 work=$3 models=$4 generator=$5 cxx_flags=${6:-}
rm -rf "$work"
cmake --install "$build" --prefix "$work/prefix" >/dev/null
configure() { # configure SOURCE_DIR BUILD_DIR [ARGS...]
  cmake -S "$1" -B "$2" -G "$generator" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_CXX_FLAGS="$cxx_flags" "${@:3}" >/dev/null
}

configure "$source/examples/aot_classify" "$work/classify" -DKILN_MODEL="$models/mlp.kiln"
cmake --build "$work/classify"
"$work/prefix/bin/kiln" run "$models/mlp.kiln" --feed x="$models/images.npy" --fetch predicted \
  --out "$work/jit" >/dev/null
"$work/classify/classify" "$models/images.npy" --expect "$work/jit/predicted.npy"

configure "$source/examples/first_program" "$work/first"
cmake --build "$work/first"
result=$(cd "$work/first" && ./train 1)
echo "first program: $result"
accuracy=$(sed -n 's/^test accuracy after 1 epochs: \([0-9.]*\)%$/\1/p' <<<"$result")
if [[ -z $accuracy ]] || ! awk -v a="$accuracy" 'BEGIN { exit !(a > 80) }'; then
  echo "the first program's accuracy is not over 80%" >&2
  exit 1
fi
test -s "$work/first/mlp.ckpt"
echo "package: both programs pass"
