#!/usr/bin/python3
"""The table of bench/conv_bench.sh: kiln and PyTorch per layer op, and per
model the sum of the ops a training step runs (every op but the input
gradient of the first convolution, which a training step does not need).

usage: conv_bench_table.py LOG THREADS
value = median of the rounds' medians, in ms.
"""
import re
import statistics
import sys

log, threads = sys.argv[1], sys.argv[2]
runs = {}
for line in open(log):
    m = re.match(r"RESULT name=(kiln|torch)_conv\.(\S+)\.t\d+ value=(\S+) unit=ms", line)
    if m:
        runs.setdefault((m.group(1), m.group(2)), []).append(float(m.group(3)))
ms = {key: statistics.median(v) for key, v in runs.items()}
names = sorted({name for _, name in ms}, key=lambda n: list(dict.fromkeys(
    name for _, name in runs)).index(n))


def cell(v):
    return f"{v:.3f}" if v is not None else "-"


print(f"\n| layer op (batch 64, {threads} threads) | kiln ms | PyTorch ms | kiln speedup |")
print("|---|---|---|---|")
totals = {}
for name in names:
    k, t = ms.get(("kiln", name)), ms.get(("torch", name))
    print(f"| {name} | {cell(k)} | {cell(t)} | {cell(t / k) if k and t else '-'} |")
    model = name.split(".")[0]
    if not (".conv1." in name and "backprop_input" in name):
        totals.setdefault(model, [0.0, 0.0])
        totals[model][0] += k or 0
        totals[model][1] += t or 0
for model, (k, t) in totals.items():
    print(f"| **{model} training step's conv and pool ops** | {k:.3f} | {t:.3f} | "
          f"{cell(t / k) if k and t else '-'} |")
