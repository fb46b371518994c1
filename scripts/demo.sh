#!/usr/bin/env bash
# kiln's main job, from a fresh Debian 12 machine: install, build, write an
# MLP 784-512-10 in C++, save it, dump it, and run it on Fashion-MNIST test
# images with the CLI. Outputs go to out/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake --preset release
cmake --build --preset release
./build/mlp_inference out
./build/kiln info out/mlp.kiln
./build/kiln dump out/mlp.kiln --format svg -o out/mlp.svg
echo "wrote out/mlp.svg"
./build/kiln run out/mlp.kiln --feed x=out/images.npy --fetch predicted --fetch probs --out out
