"""Exports the test models with PyTorch (torch.onnx.export) and writes, per
model, a batch of inputs and PyTorch's outputs for it: MLP 784-64-10, LeNet-5
and a conv net with batch norm (eval mode, its running statistics made
non-trivial by a few training-mode batches; PyTorch folds the batch norm of a
convolution into its weights when it exports, so a BatchNorm1d after a linear
layer keeps a BatchNormalization node).

    python3 make_models.py OUTDIR
"""
import os
import sys

import numpy as np
import onnx
import torch
from torch import nn

# LeNet-5 as the benchmarks build it in PyTorch (no __pycache__ left in bench/).
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
from fashion_train import lenet  # noqa: E402

out = sys.argv[1]
torch.manual_seed(0)


def convnet():
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
        nn.MaxPool2d(2), nn.Dropout(0.25), nn.Flatten(), nn.Linear(16 * 7 * 7, 32),
        nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 10), nn.LogSoftmax(dim=1))


models = {
    "mlp": (nn.Sequential(nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10), nn.Softmax(dim=1)),
            (784,)),
    "lenet": (lenet(), (1, 28, 28)),
    "convnet": (convnet(), (1, 28, 28)),
}
for name, (model, item) in models.items():
    model.train()
    with torch.no_grad():
        for _ in range(3):  # running statistics away from 0 and 1
            model(torch.randn(16, *item) * 2 + 0.5)
    model.eval()
    x = torch.rand(5, *item)
    with torch.no_grad():
        expected = model(x).numpy()
    # No constant folding: batch norm stays a node of its own.
    torch.onnx.export(model, (x,), f"{out}/{name}.onnx", input_names=["x"],
                      output_names=["y"], dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}},
                      opset_version=13, do_constant_folding=False,
                      training=torch.onnx.TrainingMode.EVAL)
    np.save(f"{out}/{name}_x.npy", x.numpy())
    np.save(f"{out}/{name}_expected.npy", expected)
    ops = sorted({n.op_type for n in onnx.load(f"{out}/{name}.onnx").graph.node})
    print(f"{name}: {', '.join(ops)}")
