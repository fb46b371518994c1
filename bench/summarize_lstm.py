#!/usr/bin/python3
"""The table of bench/lstm_train.sh from its RESULT lines.

usage: summarize_lstm.py LOG THREADS
value = median of the rounds' medians; min/max over all rounds.
"""
import re
import statistics
import sys

log, t = sys.argv[1], sys.argv[2]
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


kiln, kc = cell(f"kiln_lstm_train.b32.s32.t{t}.step_time")
torch = {n: cell(f"torch_lstm_train.b32.t{n}.step_time") for n in sorted({"1", t})}
print(f"\n| LSTM training step, batch 32, 32 steps | median (min-max) |")
print("|---|---|")
print(f"| kiln, {t} threads | {kc} |")
for n, (_, c) in torch.items():
    print(f"| PyTorch, {n} thread(s) | {c} |")
best = min((v for v, _ in torch.values() if v), default=None)
if kiln and best:
    print(f"| kiln / best PyTorch | {kiln / best:.2f} (target: <= 0.33) |")
for label, name in (
    ("kiln compile time, 32 steps, cold", f"kiln_lstm_train.b32.s32.t{t}.compile_time"),
    ("kiln compile time, 128 steps, cold", f"kiln_lstm_train.b32.s128.t{t}.compile_time"),
    ("kiln arena, 32 steps", f"kiln_lstm_train.b32.s32.t{t}.arena"),
    ("kiln arena, 128 steps", f"kiln_lstm_train.b32.s128.t{t}.arena"),
    ("kiln transformer block step", f"kiln_transformer_train.b32.s32.t{t}.step_time"),
    ("kiln transformer block compile time, cold", f"kiln_transformer_train.b32.s32.t{t}.compile_time"),
):
    print(f"| {label} | {cell(name)[1]} |")
