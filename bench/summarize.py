#!/usr/bin/python3
"""Merges RESULT lines (kiln's and the peers') into one table with ratios.

usage: summarize.py LOG THREADS
value = median of the rounds' medians; min/max over all rounds.
"""
import sys

from results import cell as result_cell, read_results

log, threads = sys.argv[1], sys.argv[2]
rows = read_results(log)


def cell(name):
    return result_cell(rows, name)


t = threads
print(f"\n| measure ({t} threads) | kiln | PyTorch eager | PyTorch jit | kiln speedup over the better PyTorch (>1: kiln faster) |")
print("|---|---|---|---|---|")
for label, kiln, torch, lower_is_better in (
    ("batch 1 latency", f"kiln_mlp_infer.b1.t{t}.latency", f"torch_mlp_infer.{{}}.b1.t{t}.latency", True),
    ("batch 256 throughput", f"kiln_mlp_infer.b256.t{t}.throughput", f"torch_mlp_infer.{{}}.b256.t{t}.throughput", False),
):
    k, kc = cell(kiln)
    e, ec = cell(torch.format("eager"))
    j, jc = cell(torch.format("jit"))
    peers = [p for p in (e, j) if p]
    ratio = "-"
    if k and peers:
        best = min(peers) if lower_is_better else max(peers)
        ratio = f"{(best / k if lower_is_better else k / best):.2f}"
    print(f"| {label} | {kc} | {ec} | {jc} | {ratio} |")
for b in (1, 256):
    _, c = cell(f"kiln_mlp_infer.b{b}.t{t}.compile_time")
    print(f"\nkiln JIT compile time at batch {b}: {c}")
