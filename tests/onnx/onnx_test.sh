#!/usr/bin/env bash
# ONNX import against PyTorch: make_models.py exports the MLP, LeNet-5 and a
# conv net with batch norm (torch.onnx.export, opset 13, dynamic batch);
# kiln imports each, runs it on PyTorch's inputs, and its outputs must equal
# PyTorch's within 1e-5 (relative to max(1, |value|)), also imported with
# --trainable and run from its checkpoint. make_zoo.py exports torchvision's
# models (at 32x32 to 75x75) and PyTorch layers (LayerNorm + GELU at opsets
# 14 and 17, an embedding with cat and clamp, activations, instance norm, Tile
# and reductions, two bidirectional layers of nn.LSTM and of nn.GRU, and
# nn.TransformerEncoderLayer, imported at a fixed batch size): their
# outputs must equal PyTorch's within 1e-4 of the
# largest |output| (untrained deep networks in f32, summed in another order
# over up to 120 convolutions; measured up to 6e-5).
# make_bad_models.py's models must be refused with every problem in one
# message (exact text), and their names kept apart and fetchable.
# ONNX export: the imported models, a kiln training graph's forward part
# (viewer_test_models' MLP, --fetch) and a matmul with sum_batch are exported,
# pass onnx.checker, import back to the same outputs and run in ONNX Runtime
# to the same outputs.
# Import, train, compile ahead of time, export: finetune_onnx trains the
# imported conv net on 2,000 Fashion-MNIST images (test accuracy from chance
# to over 60%; 74% when measured), its training step compiles ahead of
# time, and its trained weights export to ONNX, where ONNX Runtime gives
# kiln's outputs.
# Exit status 77 (CTest: skipped) where python3-torch, python3-torchvision or
# python3-onnx is missing.
#
#   onnx_test.sh KILN VIEWER_TEST_MODELS FINETUNE_ONNX DIR
set -euo pipefail
kiln=$(realpath "$1") models=$(realpath "$2") finetune=$(realpath "$3") dir=$4
here=$(cd "$(dirname "$0")" && pwd)
python=""
for p in /usr/bin/python3 python3; do
  if "$p" -c "import torch, torchvision, onnx" 2>/dev/null; then python=$p; break; fi
done
if [[ -z $python ]]; then
  echo "skipped: no python3 with torch, torchvision and onnx (Debian: python3-torch python3-torchvision python3-onnx; scripts/setup.sh)"
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
# Batch norm's running mean and variance (BatchNorm1d(32)) are state, not parameters.
"$kiln" info convnet_trainable.kiln | grep -q "total: [1-9][0-9]* parameters (.*), plus 64 values of state"
"$kiln" run convnet_trainable.kiln --checkpoint convnet.ckpt --feed x=convnet_x.npy --fetch y \
  --out out_trainable >/dev/null
"$python" "$here/compare.py" out_trainable/y.npy convnet_expected.npy 1e-5

# torchvision and PyTorch layers (make_zoo.py prints each model's ONNX ops).
"$python" "$here/make_zoo.py" . 2>zoo_stderr.txt || { cat zoo_stderr.txt; exit 1; } # stderr: export warnings
zoo=(resnet18 mobilenet_v2 squeezenet1_0 googlenet inception_v3 densenet121 shufflenet_v2_x0_5
  layernorm_gelu_14 layernorm_gelu_17 embedding_cat activations lstm gru transformer_encoder)
# nn.TransformerEncoderLayer's shapes compute with the batch size: refused
# with the symbolic batch (saying how to import it), imported at batch 2.
declare -A import_options=([transformer_encoder]="--batch 2")
if "$kiln" import transformer_encoder.onnx -o refused.kiln 2>err.txt ||
  ! grep -q "computes with the batch size, which kiln knows only at run time (a fixed batch size imports it: kiln import --batch N)" err.txt; then
  echo "FAILED: transformer_encoder.onnx with the symbolic batch: $(cat err.txt)"
  exit 1
fi
for m in "${zoo[@]}"; do
  # shellcheck disable=SC2086 # the options are words
  "$kiln" import "$m.onnx" -o "$m.kiln" ${import_options[$m]:-} >/dev/null
  "$kiln" run "$m.kiln" --feed "x=${m}_x.npy" --fetch y --out "out_$m" >/dev/null
  "$python" "$here/compare.py" "out_$m/y.npy" "${m}_expected.npy" 1e-4 scaled
done

# expect_refusal MODEL EXPECTED [IMPORT OPTIONS]: kiln import fails with exactly that message.
expect_refusal() {
  local model=$1 expected=$2
  shift 2
  if "$kiln" import "$model.onnx" -o "$model.kiln" "$@" 2>err.txt; then
    echo "FAILED: kiln imported $model.onnx"
    exit 1
  fi
  if [[ "$(cat err.txt)" != "$expected" ]]; then
    echo "FAILED: the message for $model.onnx differs:"
    diff <(echo "$expected") err.txt || true
    exit 1
  fi
  [[ ! -e $model.kiln ]] || { echo "FAILED: $model.kiln was written"; exit 1; }
}
"$python" "$here/make_bad_models.py" .
expect_refusal unsupported "kiln: error: unsupported.onnx: cannot import this model: 10 problems (every problem found, in graph order):
  initializer 'big': 24 bytes of data for f32[1073741824]
  input 'x' (f32[batch, seq, 8]): dynamic dimension 'seq' at axis 1 (only the first may be dynamic: kiln's batch)
  input 'u' (f32[batch, -1]): dim -1 at axis 1 (a size is >= 0; a dynamic dim has a dim_param)
  node 'nonzero_1' (NonZero, opset 13; inputs ?): op not supported
  node 'softmax_1' (Softmax, opset 13; inputs ?): attribute 'extra' is not supported
  node 'gemm_1' (Gemm, opset 13; inputs f32[...]): takes 2 to 3 inputs, has 1
  node 'argmax_1' (ArgMax, opset 13; inputs ?): attribute 'keepdims' is STRING, expected INT
  node 'gemm_2' (Gemm, opset 13; inputs ?, ?): attribute 'transA' is INTS, expected INT
  node 'neg_1' (Neg, opset 13; inputs ?): 'r1' is already written by node 'relu_1' (Relu)
  node 'pad_1' (Pad, opset 13; inputs ?, f32[1073741824]): mode 'wrap' is not supported"
unbuildable="kiln: error: unbuildable.onnx: cannot import this model: 5 problems (every problem found, in graph order):
  node 'reshape_zero' (Reshape, opset 13; inputs f32[batch, 0, 3], i64[3]): cannot infer the -1 of shape [0, 0, -1] for f32[?, 0, 3]
  node 'conv_1' (Conv, opset 13; inputs f32[batch, 8, 5, 5], f32[4, 8, 1, 1]): kernel_shape [3, 3] disagrees with the weights' [1, 1]
  node 'reshape_float' (Reshape, opset 13; inputs f32[batch, 8], f32[2]): input 1 is f32[2], expected a list of integers
  node 'reshape_past_rank' (Reshape, opset 13; inputs f32[batch, 8], i64[3]): shape [0, 0, 0]: a 0 at axis 2 past the input's rank 2
  output 'y': declared i64[batch, 9], kiln computes f32[?, 8]"
expect_refusal unbuildable "$unbuildable"
expect_refusal unbuildable "$unbuildable" --trainable unbuildable.ckpt
# '/r' and 'r' stay apart (the change noted), and outputs made by Identity
# and Dropout are fetched by their ONNX names.
"$kiln" import names.onnx -o names.kiln 2>err.txt >/dev/null
[[ "$(cat err.txt)" == "kiln: note: value '/r' is named 'r_1' ('r' is another value's name)" ]] ||
  { echo "FAILED: names.onnx: $(cat err.txt)"; exit 1; }
"$kiln" run names.kiln --feed x=names_x.npy --fetch r --fetch relu_out --fetch sum:0 --out out_names >/dev/null
"$python" -c "
import numpy as np, sys
x = np.load('names_x.npy')
for name, expected in [('r', -x), ('relu_out', np.maximum(x, 0)), ('sum:0', np.maximum(x, 0) - x)]:
    if not np.array_equal(np.load(f'out_names/{name}.npy'), expected):
        sys.exit(f'FAILED: names.onnx: {name} is not the value of that name')
"
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

# Import, train, compile ahead of time (the predict and train_step entry
# points), export with the trained weights.
"$finetune" convnet.onnx --epochs 1 --limit 2000 --batch 32 --lr 1e-2 --threads 2 --out finetuned \
  --min-accuracy 60 >finetune.txt 2>&1 || { cat finetune.txt; exit 1; }
"$kiln" compile finetuned/finetuned.kiln -o finetuned/aot/convnet --fetch y --target adam/train \
  --train-fetch loss --batch 32 --checkpoint finetuned/finetuned.ckpt -q
[[ -s finetuned/aot/libconvnet.a ]] && grep -q "convnet_train_step" finetuned/aot/convnet.h ||
  { echo "FAILED: the fine-tuned model's training step did not compile ahead of time"; exit 1; }
"$kiln" export finetuned/finetuned.kiln --checkpoint finetuned/finetuned.ckpt --fetch y \
  -o finetuned.onnx
check finetuned.onnx
"$kiln" run finetuned/finetuned.kiln --checkpoint finetuned/finetuned.ckpt --feed x=convnet_x.npy \
  --fetch y --out out_finetuned >/dev/null
"$kiln" run convnet.kiln --feed x=convnet_x.npy --fetch y --out out_before >/dev/null
if "$python" "$here/compare.py" out_finetuned/y.npy out_before/y.npy 1e-3 >/dev/null 2>&1; then
  echo "FAILED: the fine-tuned model gives the imported model's outputs"
  exit 1
fi

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
# matmul with sum_batch (a shared weight's gradient) exports as MatMul and ReduceSum.
"$python" -c "
import numpy as np
rng = np.random.default_rng(1)
np.save('sum_a.npy', rng.random((2, 3, 4), np.float32))
np.save('sum_b.npy', rng.random((2, 3, 5), np.float32))"
"$kiln" export native/summed_product.kiln --fetch summed -o summed.onnx
check summed.onnx
"$kiln" import summed.onnx -o summed_back.kiln
"$kiln" run native/summed_product.kiln --feed a=sum_a.npy --feed b=sum_b.npy --fetch summed \
  --out summed_native >/dev/null
"$kiln" run summed_back.kiln --feed a=sum_a.npy --feed b=sum_b.npy --fetch summed \
  --out summed_back >/dev/null
"$python" "$here/compare.py" summed_back/summed.npy summed_native/summed.npy 1e-6
# ONNX Runtime (onnxruntime-node, tests/onnx/runtime; scripts/setup.sh installs
# it) runs what kiln exports: the zoo's imported models and the three test
# models, to kiln's outputs within the zoo's tolerance (measured up to 5e-5).
ort="$here/runtime/ort_run.js"
if [[ ! -d $here/runtime/node_modules/onnxruntime-node ]] || ! command -v node >/dev/null; then
  echo "skipped: ONNX Runtime check (no node or no tests/onnx/runtime/node_modules: run scripts/setup.sh)"
  exit 77
fi
for m in "${zoo[@]}"; do
  "$kiln" export "$m.kiln" -o "${m}_exported.onnx" >/dev/null
  check "${m}_exported.onnx"
  node "$ort" "${m}_exported.onnx" "ort_$m" "x=${m}_x.npy"
  "$python" "$here/compare.py" "ort_$m/y.npy" "out_$m/y.npy" 1e-4 scaled
done
for m in lenet convnet; do
  node "$ort" "${m}_exported.onnx" "ort_$m" "x=${m}_x.npy"
  "$python" "$here/compare.py" "ort_$m/y.npy" "${m}_expected.npy" 1e-5
done
node "$ort" trainable_exported.onnx ort_trainable x=convnet_x.npy
"$python" "$here/compare.py" ort_trainable/y.npy convnet_expected.npy 1e-5
node "$ort" finetuned.onnx ort_finetuned x=convnet_x.npy
"$python" "$here/compare.py" ort_finetuned/y.npy out_finetuned/y.npy 1e-5
node "$ort" mlp_exported.onnx ort_mlp x=mlp_x.npy
"$python" "$here/compare.py" ort_mlp/dense_1_add.npy native_out/dense_1_add.npy 1e-5
echo "onnx: 3 test models and ${#zoo[@]} torchvision and PyTorch-layer models import equal to PyTorch's outputs; every problem of the bad models in one message; names kept apart; an imported model fine-tunes, compiles ahead of time and exports its trained weights; exports pass onnx.checker, import back equal and run in ONNX Runtime to kiln's outputs"
