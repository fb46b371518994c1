#!/usr/bin/env bash
# The one place that says what kiln needs installed (Debian 12, as root).
# Build: LLVM 19 + clang 19 (bitcode kernels) + lld 19, protobuf, oneTBB, Catch2 v2,
# CLI11, fmt, zlib, nlohmann-json (profile traces, HTML pages), libpng (the VAE example's
# images), Open MPI (data-parallel training: libopenmpi-dev to build, openmpi-bin's mpirun
# to launch and test). Run time: graphviz (dump --format svg), Fashion-MNIST (the demo),
# fortunes (the text of the char LSTM).
# Tests: chromium (the HTML pages in a headless browser); python3-torch, python3-torchvision,
# python3-onnx and python3-numpy (ONNX models exported by PyTorch, tests/onnx/).
# npm packages (viewer/package.json, versions pinned in its package-lock.json): the
# JavaScript libraries the build inlines into kiln's HTML pages (@dagrejs/dagre, uplot)
# and playwright-core, which drives Debian's chromium in the tests; onnxruntime-node
# (tests/onnx/runtime/package.json), which runs the models kiln exports.
# Benchmarks only: OpenBLAS (with PyTorch, the peers in bench/).
# Fuzzing and sanitizers: libclang-rt-19-dev (libFuzzer and clang-19's sanitizer runtimes).
# --tsan: oneTBB built from Debian's source of the installed version with ThreadSanitizer,
# into build-tsan-tbb/ (the tsan preset's): TSan cannot see the synchronization inside an
# uninstrumented libtbb, so it would report every hand-off of a task as a race.
# Usage: setup.sh [--bench] [--tsan]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bench=0 tsan=0
for arg in "$@"; do
  case "$arg" in
  --bench) bench=1 ;;
  --tsan) tsan=1 ;;
  *) echo "setup.sh: unknown option '$arg' (options: --bench, --tsan)" >&2 && exit 2 ;;
  esac
done
packages=(
  cmake ninja-build g++ git
  llvm-19-dev libzstd-dev clang-19 lld-19
  libprotobuf-dev protobuf-compiler
  libtbb-dev catch2 libcli11-dev libfmt-dev zlib1g-dev nlohmann-json3-dev
  libpng-dev openmpi-bin libopenmpi-dev graphviz dataset-fashion-mnist fortunes clang-format
  nodejs chromium python3-torch python3-torchvision python3-onnx python3-numpy
  libclang-rt-19-dev
)
if ((bench)); then packages+=(libopenblas-dev); fi
if ((tsan)); then packages+=(dpkg-dev); fi
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
viewer="$root/viewer"
if ! command -v npm >/dev/null; then # Debian's nodejs comes without it
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends npm
fi
if ! cmp -s "$viewer/package-lock.json" "$viewer/node_modules/.package-lock.json.installed"; then
  (cd "$viewer" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$viewer/package-lock.json" "$viewer/node_modules/.package-lock.json.installed"
fi
# ONNX Runtime for the ONNX test (tests/onnx/runtime: onnxruntime-node, its CPU binaries
# in the package; --ignore-scripts skips its optional CUDA download).
ort="$root/tests/onnx/runtime"
if ! cmp -s "$ort/package-lock.json" "$ort/node_modules/.package-lock.json.installed"; then
  (cd "$ort" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
  cp "$ort/package-lock.json" "$ort/node_modules/.package-lock.json.installed"
fi

# oneTBB with ThreadSanitizer, once per version of Debian's libtbb-dev.
if ((tsan)); then
  work="$root/build-tsan-tbb"
  version=$(dpkg-query -W -f='${source:Version}' libtbb-dev)
  if [[ "$(cat "$work/prefix/version" 2>/dev/null)" != "$version" ]]; then
    if ! apt-cache showsrc onetbb 2>/dev/null | grep -x "Version: $version" >/dev/null; then
      printf '%s\n' "Types: deb-src" "URIs: http://deb.debian.org/debian" \
        "Suites: bookworm bookworm-updates" "Components: main" \
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg" |
        $sudo_cmd tee /etc/apt/sources.list.d/kiln-deb-src.sources >/dev/null
      $sudo_cmd apt-get update -qq
    fi
    rm -rf "$work" && mkdir -p "$work/src"
    # Unpacked with Debian's patches applied (dpkg-source).
    (cd "$work/src" && apt-get source -qq "onetbb=$version" >/dev/null)
    tbb_src=$(ls -d "$work"/src/onetbb-*/)
    cmake -S "$tbb_src" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DTBB_SANITIZE=thread -DTBB_TEST=OFF -DTBB_EXAMPLES=OFF -DTBBMALLOC_BUILD=OFF \
      -DTBB_STRICT=OFF -DCMAKE_INSTALL_PREFIX="$work/prefix" >/dev/null
    cmake --build "$work/build" >/dev/null
    cmake --install "$work/build" >/dev/null
    echo "$version" >"$work/prefix/version"
  fi
fi
