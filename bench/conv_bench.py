#!/usr/bin/python3
"""PyTorch's side of bench/conv_bench.cpp: the same layers and ops at the same
batch, timed the same way (7 blocks of ~50 ms, ms per call, median of the
block means). The gradients are the calls autograd makes:
aten.convolution_backward with one output selected, and
aten.max_pool2d_with_indices_backward.

usage: /usr/bin/python3 conv_bench.py [--threads N] [--batch N]
"""
import argparse
import time

from torch_threads import torch_with_threads

ap = argparse.ArgumentParser()
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--batch", type=int, default=64)
args = ap.parse_args()

torch = torch_with_threads(args.threads)
torch.set_grad_enabled(False)
aten = torch.ops.aten

LAYERS = [  # name, C, HW, O, K, padding
    ("lenet.conv1", 1, 28, 6, 5, 2),
    ("lenet.conv2", 6, 14, 16, 5, 0),
    ("convnet.conv1", 1, 28, 32, 3, 1),
    ("convnet.conv2", 32, 14, 64, 3, 1),
]
POOLS = [("lenet.pool1", 6, 28), ("lenet.pool2", 16, 10), ("convnet.pool1", 32, 28),
         ("convnet.pool2", 64, 14)]


def measure(name, fn):
    for _ in range(3):
        fn()
    t0, warm = time.perf_counter(), 0
    while warm < 3 or time.perf_counter() - t0 < 0.05:
        fn()
        warm += 1
    calls = max(1, int(0.05 / ((time.perf_counter() - t0) / warm)))
    blocks = []
    for _ in range(7):
        t = time.perf_counter()
        for _ in range(calls):
            fn()
        blocks.append((time.perf_counter() - t) / calls * 1e3)
    blocks.sort()
    print(f"RESULT name={name}.t{args.threads} value={blocks[3]:.4g} unit=ms "
          f"min={blocks[0]:.4g} max={blocks[-1]:.4g} n=7", flush=True)


b = args.batch
for name, c, hw, o, k, pad in LAYERS:
    x, w = torch.randn(b, c, hw, hw), torch.randn(o, c, k, k)
    y = torch.nn.functional.conv2d(x, w, padding=pad)
    dy = torch.randn_like(y)

    def backward(mask):
        return lambda: aten.convolution_backward(dy, x, w, None, [1, 1], [pad, pad], [1, 1],
                                                 False, [0, 0], 1, mask)

    prefix = f"torch_conv.{name}.b{b}"
    measure(f"{prefix}.conv2d", lambda: torch.nn.functional.conv2d(x, w, padding=pad))
    measure(f"{prefix}.conv2d_backprop_input", backward([True, False, False]))
    measure(f"{prefix}.conv2d_backprop_filter", backward([False, True, False]))

for name, c, hw in POOLS:
    x = torch.randn(b, c, hw, hw)
    y, indices = aten.max_pool2d_with_indices(x, [2, 2], [2, 2])
    dy = torch.randn_like(y)
    prefix = f"torch_conv.{name}.b{b}"
    measure(f"{prefix}.max_pool2d", lambda: torch.nn.functional.max_pool2d(x, 2))
    measure(f"{prefix}.max_pool2d_grad",
            lambda: aten.max_pool2d_with_indices_backward(dy, x, [2, 2], [2, 2], [0, 0], [1, 1],
                                                          False, indices))
