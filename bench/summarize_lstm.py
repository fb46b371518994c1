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


def compare(title, kiln_name, torch_name):
    kiln, kc = cell(kiln_name)
    torch = {n: cell(torch_name.format(n)) for n in sorted({"1", t})}
    print(f"\n| {title} | median (min-max) |")
    print("|---|---|")
    print(f"| kiln, {t} threads | {kc} |")
    for n, (_, c) in torch.items():
        print(f"| PyTorch, {n} thread(s) | {c} |")
    best = min((v for v, _ in torch.values() if v), default=None)
    if kiln and best:
        print(f"| kiln / best PyTorch | {kiln / best:.2f} |")


compare("LSTM training step, batch 32, 32 steps (target: kiln / PyTorch <= 0.33)",
        f"kiln_lstm_train.b32.s32.t{t}.step_time", "torch_lstm_train.b32.t{}.step_time")
compare("transformer block training step, batch 32, 32 steps",
        f"kiln_transformer_train.b32.s32.t{t}.step_time", "torch_transformer_train.b32.t{}.step_time")
print("\n| kiln | median (min-max) |\n|---|---|")
for label, name in (
    ("LSTM compile time, 32 steps, cold", f"kiln_lstm_train.b32.s32.t{t}.compile_time"),
    ("LSTM compile time, 128 steps, cold", f"kiln_lstm_train.b32.s128.t{t}.compile_time"),
    ("LSTM arena, 32 steps", f"kiln_lstm_train.b32.s32.t{t}.arena"),
    ("LSTM arena, 128 steps", f"kiln_lstm_train.b32.s128.t{t}.arena"),
    ("transformer compile time, cold", f"kiln_transformer_train.b32.s32.t{t}.compile_time"),
    ("transformer arena", f"kiln_transformer_train.b32.s32.t{t}.arena"),
):
    print(f"| {label} | {cell(name)[1]} |")
