"""The PyTorch side of bench/train.sh: the same Fashion-MNIST recipes as kiln's
examples (60k train / 10k test, pixels in [0, 1], batch 64, reshuffled each
epoch), on CPU with a set number of threads. Prints one line per run:
    <model> <optimizer> seed=<s> accuracy=<percent> train_seconds=<s>
Training time covers the epochs' loops only, as kiln's figure does."""
import argparse
import gzip
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DATA = "/usr/share/datasets/fashion-mnist"


def idx(name):
    with gzip.open(f"{DATA}/{name}.gz") as f:
        raw = f.read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * dims).reshape(shape)


def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 10))


def lenet():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def convnet():
    # The ~113K-parameter two-layer conv net of the Fashion-MNIST benchmark table.
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Dropout(0.25), nn.Flatten(), nn.Linear(64 * 7 * 7, 32), nn.ReLU(),
        nn.Linear(32, 10))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", choices=["mlp", "lenet", "convnet"], default="mlp")
    p.add_argument("--optimizer", choices=["adam", "momentum"], default="adam")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    x = torch.tensor(idx("train-images-idx3-ubyte"), dtype=torch.float32).div_(255).unsqueeze(1)
    y = torch.tensor(idx("train-labels-idx1-ubyte"), dtype=torch.int64)
    tx = torch.tensor(idx("t10k-images-idx3-ubyte"), dtype=torch.float32).div_(255).unsqueeze(1)
    ty = torch.tensor(idx("t10k-labels-idx1-ubyte"), dtype=torch.int64)
    model = {"mlp": mlp, "lenet": lenet, "convnet": convnet}[a.model]()
    if a.optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    seconds = 0.0
    for _ in range(a.epochs):
        model.train()
        start = time.perf_counter()
        for batch in torch.randperm(len(x)).split(64):
            opt.zero_grad()
            F.cross_entropy(model(x[batch]), y[batch]).backward()
            opt.step()
        seconds += time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        correct = sum((model(tx[i:i + 1000]).argmax(1) == ty[i:i + 1000]).sum().item()
                      for i in range(0, len(tx), 1000))
    print(f"{a.model} {a.optimizer} seed={a.seed} accuracy={100 * correct / len(tx):.2f} "
          f"train_seconds={seconds:.1f}")


if __name__ == "__main__":
    main()
