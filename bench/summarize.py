#!/usr/bin/python3
"""Merges RESULT lines (kiln's and the peers') into one table with ratios.

usage: summarize.py LOG THREADS
value = median of the rounds' medians; min/max over all rounds.
"""
import re
import statistics
import sys

log, threads = sys.argv[1], sys.argv[2]
rows = {}
for line in open(log):
    m = re.match(r"RESULT name=(\S+) value=(\S+) unit=(\S+)(?: min=(\S+) max=(\S+))?", line)
    if m:
        name, value, unit, lo, hi = m.groups()
        r = rows.setdefault(name, {"unit": unit, "values": [], "min": [], "max": []})
        r["values"].append(float(value))
        r["min"].append(float(lo or value))
        r["max"].append(float(hi or value))


def cell(name):
    r = rows.get(name)
    if not r:
        return None, "-"
    v = statistics.median(r["values"])
    return v, f"{v:.4g} ({min(r['min']):.4g}-{max(r['max']):.4g}) {r['unit']}"


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
