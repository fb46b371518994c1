#!/usr/bin/env bash
# kiln's main job, from a fresh Debian 12 machine: install, build, train the
# MLP 784-512-10 on Fashion-MNIST (progress, test accuracy per epoch), save
# the graph and a checkpoint, load both with the CLI and classify test
# images; then compile the trained model ahead of time, build a host program
# against its header with an installed kiln (find_package), and classify the
# same images with it, checking that it predicts what the JIT predicted.
# Outputs go to out/.
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

echo "--- ahead of time: kiln compile, then a host program that links no LLVM ---"
cmake --install build --prefix out/kiln >/dev/null
cmake -S examples/aot_classify -B out/classify -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$PWD/out/kiln" -DKILN_MODEL="$PWD/out/mlp.kiln" \
  -DKILN_CHECKPOINT="$PWD/out/mlp.ckpt" >/dev/null
cmake --build out/classify
ls -l out/classify/classify
out/classify/classify out/images.npy --expect out/predicted.npy
