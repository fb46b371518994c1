#!/usr/bin/python3
"""The PyTorch side of bench/mlp_infer.sh: the MLP 784-512(ReLU)-10 forward
pass, eager under torch.no_grad() and torch.jit.trace + freeze, printing
    RESULT name=torch_mlp_infer.<variant>.b<batch>.t<threads>.<measure> value=.. unit=.. min=.. max=.. n=..
- batch-1 latency (µs): the median call of each block of 2000, median over blocks;
- batch-256 throughput (examples/s): the mean call of each block of 50.

usage: /usr/bin/python3 bench/torch_mlp_infer.py [--threads N] [--blocks 7]
"""
import argparse
import statistics

from torch_threads import call_seconds, result, torch_with_threads

ap = argparse.ArgumentParser()
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--blocks", type=int, default=7)
args = ap.parse_args()
torch = torch_with_threads(args.threads)
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Linear(512, 10)).eval()


with torch.no_grad():
    x1, x256 = torch.randn(1, 784), torch.randn(256, 784)
    jit = torch.jit.freeze(torch.jit.trace(model, x1))
    assert torch.allclose(jit(x256), model(x256), atol=1e-5)
    t = args.threads
    for variant, f in (("eager", model), ("jit", jit)):
        call_seconds(lambda: f(x1), 200)  # warm-up
        latency = [statistics.median(call_seconds(lambda: f(x1), 2000)) * 1e6 for _ in range(args.blocks)]
        result(f"torch_mlp_infer.{variant}.b1.t{t}.latency", latency, "us")
        call_seconds(lambda: f(x256), 20)
        throughput = [256 / statistics.mean(call_seconds(lambda: f(x256), 50)) for _ in range(args.blocks)]
        result(f"torch_mlp_infer.{variant}.b256.t{t}.throughput", throughput, "examples/s")
