#!/usr/bin/python3
"""The PyTorch side of bench/aot.sh, on the architectures of
bench/peers/peerlib.py (as bench/make_bench_models.cpp builds them in kiln):
MLP 784-512(ReLU)-10 and LeNet-5 without padding (conv 6 5x5, pool, conv 16 5x5,
pool, 256-120-84-10).
  export DIR          TorchScript files DIR/mlp.pt and DIR/lenet.pt
  first DIR NAME      torch.jit.load(DIR/NAME.pt) and one batch-1 forward (start-up)
  infer --threads N   batch-1 latency and batch-256 throughput, eager and TorchScript:
                      RESULT name=torch_aot_peer.<variant>.<model>.b<batch>.t<threads>.<measure>
(bench/timing.h's method: 7 blocks; latency the median call of 2000, throughput
50 calls a block.)"""
import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_threads import call_seconds, result, torch_with_threads  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("mode", choices=["export", "first", "infer"])
ap.add_argument("args", nargs="*")
ap.add_argument("--threads", type=int, default=1)
args = ap.parse_args()
torch = torch_with_threads(args.threads)
nn = torch.nn
SHAPES = {"mlp": (784,), "lenet": (1, 28, 28)}


def models():
    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 10))
    lenet = nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(256, 120), nn.ReLU(), nn.Linear(120, 84),
        nn.ReLU(), nn.Linear(84, 10))
    return {"mlp": mlp.eval(), "lenet": lenet.eval()}


if args.mode == "export":
    os.makedirs(args.args[0], exist_ok=True)
    for name, model in models().items():
        torch.jit.script(model).save(os.path.join(args.args[0], f"{name}.pt"))
elif args.mode == "first":
    directory, name = args.args
    model = torch.jit.load(os.path.join(directory, f"{name}.pt"))
    with torch.no_grad():
        print(model(torch.zeros(1, *SHAPES[name]))[0, 0].item())
else:
    t = args.threads
    with torch.no_grad():
        for name, model in models().items():
            x1, x256 = torch.randn(1, *SHAPES[name]), torch.randn(256, *SHAPES[name])
            scripted = torch.jit.freeze(torch.jit.script(model))
            for variant, f in (("eager", model), ("jit", scripted)):
                call_seconds(lambda: f(x1), 200)
                latency = [statistics.median(call_seconds(lambda: f(x1), 2000)) * 1e6
                           for _ in range(7)]
                result(f"torch_aot_peer.{variant}.{name}.b1.t{t}.latency", latency, "us")
                call_seconds(lambda: f(x256), 20)
                throughput = [256 / statistics.mean(call_seconds(lambda: f(x256), 50))
                              for _ in range(7)]
                result(f"torch_aot_peer.{variant}.{name}.b256.t{t}.throughput", throughput,
                       "examples/s")
