#!/usr/bin/python3
"""examples/char_lm.cpp's LSTM language model in PyTorch, for its time and bits
per character side by side: the same fortunes, split (every tenth fortune
held out), byte vocabulary, model (embedding 64, LSTM 256, Linear to the
bytes), windows of 64 bytes, batch 32, Adam 2e-3, --steps steps, and the same
validation (non-overlapping windows, each from a zero state). The training
windows are drawn by Python's generator, not kiln's.

usage: OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 torch_char_lm.py [--threads 1] [--steps 3000]
"""
import argparse
import math
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from torch_threads import torch_with_threads  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--steps", type=int, default=3000)
ap.add_argument("--window", type=int, default=64)
ap.add_argument("--batch", type=int, default=32)
ap.add_argument("--hidden", type=int, default=256)
args = ap.parse_args()
torch = torch_with_threads(args.threads)
torch.manual_seed(0)

root = "/usr/share/games/fortunes"
train, validation, index = bytearray(), bytearray(), 0
for name in sorted(os.listdir(root)):
    path = os.path.join(root, name)
    if os.path.islink(path) or not os.path.isfile(path) or "." in name:
        continue
    data = open(path, "rb").read()
    begin = 0
    while begin < len(data):
        end = data.find(b"\n%\n", begin)
        end = len(data) if end < 0 else end + 3
        (validation if index % 10 == 9 else train).extend(data[begin:end])
        index += 1
        begin = end
present = sorted(set(train) | set(validation))
id_of = {b: i for i, b in enumerate(present)}
V, T = len(present), args.window
train_ids = torch.tensor([id_of[b] for b in train])
val_ids = torch.tensor([id_of[b] for b in validation])


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = torch.nn.Embedding(V, 64)
        self.lstm = torch.nn.LSTM(64, args.hidden, batch_first=True)
        self.out = torch.nn.Linear(args.hidden, V)

    def forward(self, x):
        return self.out(self.lstm(self.embedding(x))[0])


model = Model()
opt = torch.optim.Adam(model.parameters(), lr=2e-3)
loss_fn = torch.nn.CrossEntropyLoss()
rng = random.Random(0)
start = time.perf_counter()
for step in range(1, args.steps + 1):
    starts = torch.tensor([rng.randrange(len(train_ids) - T - 1) for _ in range(args.batch)])
    rows = starts[:, None] + torch.arange(T + 1)[None, :]
    w = train_ids[rows]
    opt.zero_grad(set_to_none=True)
    loss = loss_fn(model(w[:, :-1]).reshape(-1, V), w[:, 1:].reshape(-1))
    loss.backward()
    opt.step()
    if step % 500 == 0:
        print(f"step {step}: training {loss.item() / math.log(2):.3f} bits per character", flush=True)
seconds = time.perf_counter() - start

with torch.no_grad():
    n = (len(val_ids) - 1) // T
    x = val_ids[: n * T].reshape(n, T)
    y = val_ids[1 : n * T + 1].reshape(n, T)
    nats = sum(loss_fn(model(x[i : i + 256]).reshape(-1, V), y[i : i + 256].reshape(-1)).item()
               * len(x[i : i + 256]) for i in range(0, n, 256)) / n
print(f"pytorch lstm ({args.steps} steps of {args.batch} windows of {T} bytes, {seconds:.1f} s, "
      f"{args.threads} threads): validation {nats / math.log(2):.3f} bits per character")
