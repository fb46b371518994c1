#!/usr/bin/python3
"""The transformer block of bench/lstm_train_bench.cpp --model transformer in
PyTorch: x [32, 32, 64] -> pre-norm block (LayerNorm, 4-head causal
self-attention, residual; LayerNorm, Linear 64->256, GELU, Linear 256->64,
residual) -> mean over time -> Linear(64 -> 64), softmax cross-entropy, SGD
lr 0.01. Timed like bench/peers/torch_lstm_train.py (peerlib.bench_train).

usage: /usr/bin/python3 torch_transformer_train.py [--threads N] [--repeats R]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers"))
import peerlib  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--repeats", type=int, default=7)
args = ap.parse_args()

torch = peerlib.set_threads(args.threads)
torch.manual_seed(0)
nn = torch.nn
B, T, D, C = 32, 32, 64, 64


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(D), nn.LayerNorm(D)
        self.attn = nn.MultiheadAttention(D, 4, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(D, 4 * D), nn.GELU(), nn.Linear(4 * D, D))
        self.register_buffer("mask", torch.triu(torch.full((T, T), float("-inf")), 1))

    def forward(self, x):
        h = self.ln1(x)
        x = x + self.attn(h, h, h, attn_mask=self.mask, need_weights=False)[0]
        return x + self.mlp(self.ln2(x))


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.block, self.fc = Block(), nn.Linear(D, C)

    def forward(self, x):
        return self.fc(self.block(x).mean(1))


x = torch.randn(B, T, D)
y = torch.randint(0, C, (B,))
peerlib.bench_train(torch, f"torch_transformer_train.b{B}.t{args.threads}", Classifier(), x, y,
                    steps=100, repeats=args.repeats, warmup=20)
