#!/usr/bin/env bash
# The one place that says what kiln needs installed (Debian 12, as root).
# Build: LLVM 19 + clang 19 (bitcode kernels) + lld 19, protobuf, oneTBB, Catch2 v2,
# CLI11, fmt, zlib, nlohmann-json (profile traces, HTML pages), libpng (the VAE example's
# images). Run time: graphviz (dump --format svg), Fashion-MNIST (the demo), fortunes (the text
# of the char LSTM).
# Tests: chromium (the HTML pages in a headless browser); python3-torch, python3-onnx and
# python3-numpy (ONNX models exported by PyTorch, tests/onnx/).
# npm packages (viewer/package.json, versions pinned in its package-lock.json): the
# JavaScript libraries the build inlines into kiln's HTML pages (@dagrejs/dagre, uplot)
# and playwright-core, which drives Debian's chromium in the tests.
# Benchmarks only: OpenBLAS (with PyTorch, the peers in bench/).
# Fuzzing and sanitizers: libclang-rt-19-dev (libFuzzer and clang-19's sanitizer runtimes).
set -euo pipefail
packages=(
  cmake ninja-build g++ git
  llvm-19-dev libzstd-dev clang-19 lld-19
  libprotobuf-dev protobuf-compiler
  libtbb-dev catch2 libcli11-dev libfmt-dev zlib1g-dev nlohmann-json3-dev
  libpng-dev graphviz dataset-fashion-mnist fortunes clang-format
  nodejs chromium python3-torch python3-onnx python3-numpy
  libclang-rt-19-dev
)
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(libopenblas-dev)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
sudo_cmd=""
[[ $(id -u) -eq 0 ]] || sudo_cmd="sudo"
if ((${#missing[@]})); then
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The viewer's npm packages, installed again only when its lock file changed.
viewer="$(dirname "$0")/../viewer"
if ! command -v npm >/dev/null; then # Debian's nodejs comes without it
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends npm
fi
if ! cmp -s "$viewer/package-lock.json" "$viewer/node_modules/.package-lock.json.installed"; then
  (cd "$viewer" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$viewer/package-lock.json" "$viewer/node_modules/.package-lock.json.installed"
fi
