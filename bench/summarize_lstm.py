#!/usr/bin/python3
"""The table of bench/lstm_train.sh from its RESULT lines.

usage: summarize_lstm.py LOG THREADS
value = median of the rounds' medians; min/max over all rounds.
"""
import sys

from results import cell, read_results

rows, t = read_results(sys.argv[1]), sys.argv[2]


def compare(title, kiln_name, torch_name):
    kiln, kc = cell(rows, kiln_name)
    torch = {n: cell(rows, torch_name.format(n)) for n in sorted({"1", t})}
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
    print(f"| {label} | {cell(rows, name)[1]} |")
