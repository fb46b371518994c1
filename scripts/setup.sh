#!/usr/bin/env bash
# The one place that says what kiln needs installed (Debian 12, as root).
# Build: LLVM 19 + clang 19 (bitcode kernels) + lld 19, protobuf, oneTBB, Catch2 v2,
# CLI11, fmt, zlib, nlohmann-json (profile traces). Run time: graphviz (dump --format svg), Fashion-MNIST (the demo).
# Fuzzing and sanitizers: libclang-rt-19-dev (libFuzzer and clang-19's sanitizer runtimes).
# Benchmarks only: python3-torch, python3-numpy, OpenBLAS (the peers in bench/).
set -euo pipefail
packages=(
  cmake ninja-build g++ git
  llvm-19-dev libzstd-dev clang-19 lld-19
  libprotobuf-dev protobuf-compiler
  libtbb-dev catch2 libcli11-dev libfmt-dev zlib1g-dev nlohmann-json3-dev
  graphviz dataset-fashion-mnist clang-format
  libclang-rt-19-dev
)
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(python3-torch python3-numpy libopenblas-dev)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo_cmd=""
  [[ $(id -u) -eq 0 ]] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
