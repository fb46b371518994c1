"""Exports torchvision's classic models (weights=None: nothing is downloaded)
and models made of PyTorch's own layers, as a new user would: torch.onnx.export
with a dynamic batch, eval mode, PyTorch's default constant folding. Writes
per model NAME.onnx, NAME_x.npy (a batch of 2 inputs) and NAME_expected.npy
(PyTorch's outputs, in eval mode after two training-mode batches), and prints each model's ONNX ops. Inputs are small
(32x32, 64x64 where a model needs more) so that the test stays CI-sized.

    python3 make_zoo.py OUTDIR [NAME...]
"""
import sys

import numpy as np
import onnx
import torch
import torchvision.models as tv
from torch import nn

out = sys.argv[1]
torch.manual_seed(0)


class LayerNormGelu(nn.Module):
    """LayerNorm + GELU, the transformer's feed-forward half (opset 14: ReduceMean, Pow,
    Erf; opset 17: LayerNormalization)."""

    def __init__(self):
        super().__init__()
        self.norm, self.fc = nn.LayerNorm(16), nn.Linear(16, 8)

    def forward(self, x):
        return nn.functional.gelu(self.fc(self.norm(x)))


class EmbeddingCat(nn.Module):
    """An embedding of i64 token ids (Gather), torch.cat and clamp."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(20, 6)

    def forward(self, x):
        e = self.embed(x)
        return torch.cat([e, torch.clamp(e, -0.5, 0.5)], dim=2).flatten(1)


class Activations(nn.Module):
    """Activations, instance norm, repeat (Tile), logsumexp and a 2-norm."""

    def __init__(self):
        super().__init__()
        self.prelu, self.norm = nn.PReLU(4), nn.InstanceNorm2d(4, affine=True)

    def forward(self, x):
        f = nn.functional
        a = (self.prelu(x) + f.selu(x) + f.celu(x, 0.7) + f.softsign(x) + f.hardswish(x) +
             f.hardsigmoid(x) + f.leaky_relu(x, 0.2) + f.elu(x) + f.softplus(x))
        b = self.norm(x).repeat(1, 1, 2, 1)
        c = torch.logsumexp(x, dim=1, keepdim=True) + x.norm(p=2, dim=1, keepdim=True)
        return torch.cat([a.flatten(1), b.flatten(1), c.flatten(1)], 1)


class Recurrent(nn.Module):
    """Two bidirectional layers of nn.LSTM or nn.GRU (batch-first) and a linear
    layer on the last step."""

    def __init__(self, cell):
        super().__init__()
        self.rnn, self.fc = cell(6, 5, num_layers=2, batch_first=True, bidirectional=True), nn.Linear(10, 3)

    def forward(self, x):
        y, _ = self.rnn(x)
        return self.fc(y[:, -1])


def vision(make, size, **kwargs):
    return lambda: (make(weights=None, **kwargs), torch.rand(2, 3, size, size))


# name: (a function giving the model and an example input, opset)
models = {
    "resnet18": (vision(tv.resnet18, 32), 13),
    "mobilenet_v2": (vision(tv.mobilenet_v2, 32), 13),
    "squeezenet1_0": (vision(tv.squeezenet1_0, 64), 13),
    "googlenet": (vision(tv.googlenet, 64, aux_logits=False, init_weights=True), 13),
    "inception_v3": (vision(tv.inception_v3, 75, aux_logits=False, init_weights=True), 13),
    "densenet121": (vision(tv.densenet121, 32), 13),
    "shufflenet_v2_x0_5": (vision(tv.shufflenet_v2_x0_5, 32), 13),
    "layernorm_gelu_14": (lambda: (LayerNormGelu(), torch.randn(2, 5, 16)), 14),
    "layernorm_gelu_17": (lambda: (LayerNormGelu(), torch.randn(2, 5, 16)), 17),
    "embedding_cat": (lambda: (EmbeddingCat(), torch.randint(0, 20, (2, 7))), 13),
    "activations": (lambda: (Activations(), torch.randn(2, 4, 3, 3)), 13),
    "lstm": (lambda: (Recurrent(nn.LSTM), torch.randn(2, 4, 6)), 13),
    "gru": (lambda: (Recurrent(nn.GRU), torch.randn(2, 4, 6)), 13),
    # Its attention reshapes to [L, N * heads, d]: kiln imports it at a fixed batch.
    "transformer_encoder": (lambda: (nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0,
                                                                batch_first=True),
                                     torch.randn(2, 5, 16)), 14),
}
for name in sys.argv[2:] or models:
    make, opset = models[name]
    model, x = make()
    # Batch norm statistics from two random batches (a cumulative average), so
    # that activations keep their scale through an untrained deep network.
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.momentum = None
    model.train()
    with torch.no_grad():
        for _ in range(2):
            model(torch.rand(4, *x.shape[1:]) if x.is_floating_point() else x)
    model.eval()
    with torch.no_grad():
        expected = model(x).numpy()
    torch.onnx.export(model, (x,), f"{out}/{name}.onnx", input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}}, opset_version=opset)
    np.save(f"{out}/{name}_x.npy", x.numpy())
    np.save(f"{out}/{name}_expected.npy", expected)
    ops = sorted({n.op_type for n in onnx.load(f"{out}/{name}.onnx").graph.node})
    print(f"{name}: {', '.join(ops)}")
