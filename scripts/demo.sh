#!/usr/bin/env bash
# kiln's main job, from a fresh Debian 12 machine: install, build, train the
# MLP 784-512-10 on Fashion-MNIST (progress, test accuracy per epoch), save
# the graph and a checkpoint, then load both with the CLI and classify test
# images. Outputs go to out/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake --preset release
cmake --build --preset release
./build/fashion_mlp --epochs "${EPOCHS:-5}" --out out
./build/kiln info out/mlp.kiln
./build/kiln run out/mlp.kiln --checkpoint out/mlp.ckpt --feed x=out/images.npy \
  --fetch predicted --out out
/usr/bin/python3 -c 'print("true labels:", __import__("numpy").load("out/labels.npy").tolist())' 2>/dev/null ||
  echo "(the true labels are in out/labels.npy)"
