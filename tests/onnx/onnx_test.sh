#!/usr/bin/env bash
# ONNX import against PyTorch: make_models.py exports the MLP, LeNet-5 and a
# conv net with batch norm (torch.onnx.export, opset 13, dynamic batch);
# kiln imports each, runs it on PyTorch's inputs, and its outputs must equal
# PyTorch's within 1e-5 (relative to max(1, |value|)), also imported with
# --trainable and run from its checkpoint. A model with several
# unsupported parts must be refused with all of them in one message.
# ONNX export: the imported models and a kiln training graph's forward part
# (viewer_test_models' MLP, --fetch) are exported, pass onnx.checker, and
# import back to the same outputs.
# Exit status 77 (CTest: skipped) where python3-torch or python3-onnx is missing.
#
#   onnx_test.sh KILN VIEWER_TEST_MODELS DIR
set -euo pipefail
kiln=$(realpath "$1") models=$(realpath "$2") dir=$3
here=$(cd "$(dirname "$0")" && pwd)
python=""
for p in /usr/bin/python3 python3; do
  if "$p" -c "import torch, onnx" 2>/dev/null; then python=$p; break; fi
done
if [[ -z $python ]]; then
  echo "skipped: no python3 with torch and onnx (Debian: python3-torch python3-onnx; scripts/setup.sh --bench)"
  exit 77
fi
rm -rf "$dir"
mkdir -p "$dir"
cd "$dir"
"$python" "$here/make_models.py" .
for m in mlp lenet convnet; do
  "$kiln" import "$m.onnx" -o "$m.kiln"
  "$kiln" run "$m.kiln" --feed "x=${m}_x.npy" --fetch y --out "out_$m" >/dev/null
  "$python" "$here/compare.py" "out_$m/y.npy" "${m}_expected.npy" 1e-5
done
# --trainable: the weights become variables, their values a checkpoint.
"$kiln" import convnet.onnx -o convnet_trainable.kiln --trainable convnet.ckpt
"$kiln" info convnet_trainable.kiln | grep -q "total: [1-9][0-9]* parameters"
"$kiln" run convnet_trainable.kiln --checkpoint convnet.ckpt --feed x=convnet_x.npy --fetch y \
  --out out_trainable >/dev/null
"$python" "$here/compare.py" out_trainable/y.npy convnet_expected.npy 1e-5

expected="kiln: error: unsupported.onnx: cannot import this model: 6 problems (every problem found, in graph order):
  input 'x' (f32[batch, seq, 8]): dynamic dimension 'seq' at axis 1 (only the first may be dynamic: kiln's batch)
  node 'erf_1' (Erf, opset 13; inputs f32[batch, seq, 8]): op not supported
  node 'lstm_1' (LSTM, opset 13; inputs ?, ?, ?): op not supported
  node 'conv_1' (Conv, opset 13; inputs ?, f32[4, 8, 1, 1]): auto_pad=SAME_UPPER is not supported
  node 'softmax_1' (Softmax, opset 13; inputs ?): attribute 'extra' is not supported
  node 'gemm_1' (Gemm, opset 13; inputs f32[...]): takes 2 to 3 inputs, has 1"
if "$kiln" import unsupported.onnx -o unsupported.kiln 2>err.txt; then
  echo "FAILED: kiln imported unsupported.onnx"
  exit 1
fi
if [[ "$(cat err.txt)" != "$expected" ]]; then
  echo "FAILED: the message for unsupported.onnx differs:"
  diff <(echo "$expected") err.txt || true
  exit 1
fi
[[ ! -e unsupported.kiln ]] || { echo "FAILED: unsupported.kiln was written"; exit 1; }
echo "not an onnx model" > garbage.onnx
if "$kiln" import garbage.onnx -o garbage.kiln 2>err.txt || ! grep -q "garbage.onnx: not an ONNX model" err.txt; then
  echo "FAILED: garbage.onnx: $(cat err.txt)"
  exit 1
fi

check() { "$python" -c "import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)" "$1"; }
for m in lenet convnet; do
  "$kiln" export "$m.kiln" -o "${m}_exported.onnx"
  check "${m}_exported.onnx"
  "$kiln" import "${m}_exported.onnx" -o "${m}_back.kiln"
  "$kiln" run "${m}_back.kiln" --feed "x=${m}_x.npy" --fetch y --out "back_$m" >/dev/null
  "$python" "$here/compare.py" "back_$m/y.npy" "${m}_expected.npy" 1e-5
done
"$kiln" export convnet_trainable.kiln --checkpoint convnet.ckpt -o trainable_exported.onnx
check trainable_exported.onnx

# A kiln training graph: its forward part exports, the rest is named.
"$models" native
"$python" -c "import numpy as np; np.save('mlp_x.npy', np.random.default_rng(0).random((5, 784), np.float32))"
if "$kiln" export native/mlp.kiln -o all.onnx 2>err.txt || ! grep -q "with no ONNX form" err.txt; then
  echo "FAILED: exporting a whole training graph: $(cat err.txt)"
  exit 1
fi
"$kiln" export native/mlp.kiln --fetch dense_1/add -o mlp_exported.onnx
check mlp_exported.onnx
"$kiln" import mlp_exported.onnx -o mlp_back.kiln
"$kiln" run native/mlp.kiln --feed x=mlp_x.npy --fetch dense_1/add --out native_out >/dev/null
"$kiln" run mlp_back.kiln --feed x=mlp_x.npy --fetch dense_1/add --out back_out >/dev/null
"$python" "$here/compare.py" back_out/dense_1_add.npy native_out/dense_1_add.npy 1e-6
echo "onnx: 3 models import equal to PyTorch's outputs; every problem of unsupported.onnx in one message; exports pass onnx.checker and import back equal"
