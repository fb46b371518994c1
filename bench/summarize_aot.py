#!/usr/bin/python3
"""Tables for bench/aot.sh from its log: RESULT lines (a round's median with
min/max; rounds combined as the median of medians, the min of mins, the max
of maxes), STARTUP <name> <us>, SIZE <name> <bytes>, COMPILE <model> <us>.
usage: summarize_aot.py LOG THREADS"""
import collections
import statistics
import sys

log, threads = sys.argv[1], sys.argv[2]
results = collections.defaultdict(list)
samples = collections.defaultdict(list)
sizes = {}
for line in open(log):
    parts = line.split()
    if not parts:
        continue
    if parts[0] == "RESULT":
        f = dict(p.split("=", 1) for p in parts[1:])
        results[f["name"]].append((float(f["value"]), float(f.get("min", f["value"])),
                                   float(f.get("max", f["value"]))))
    elif parts[0] in ("STARTUP", "COMPILE"):
        samples[(parts[0], parts[1])].append(float(parts[2]) / 1000)  # ms
    elif parts[0] == "SIZE":
        sizes[parts[1]] = int(parts[2])


def combined(name):
    r = results.get(name)
    if not r:
        return None
    return (statistics.median(v for v, _, _ in r), min(lo for _, lo, _ in r),
            max(hi for _, _, hi in r))


def fmt(c, digits=3):
    if c is None:
        return "-"
    v, lo, hi = c
    g = lambda x: f"{x:.0f}" if x >= 10 ** digits else f"{x:.{digits}g}"
    return f"{g(v)} ({g(lo)}-{g(hi)})"


def spread(xs):
    return fmt((statistics.median(xs), min(xs), max(xs))) if xs else "-"


def mib(b):
    return f"{b / 2**20:.1f} MiB" if b >= 2**20 else f"{b / 2**10:.0f} KiB"


print("\n### Start-up (process start to first result) and size\n")
print("| program | MLP | LeNet-5 | binary or model file | runtime libraries |")
print("|---|---|---|---|---|")
rows = [
    ("AOT host program (kiln::runtime)", "aot", lambda m: f"{mib(sizes[f'aot.{m}'])} + weights "
     f"{mib(sizes[f'aot_weights.{m}'])}", "libtbb, libprotobuf, libfmt, libz (no LLVM)"),
    ("JIT Session program, cache warm", "jit_warm", lambda m: mib(sizes["jit"]),
     f"libLLVM-19 {mib(sizes['libllvm'])}, ..."),
    ("JIT Session program, cache off", "jit_cold", lambda m: mib(sizes["jit"]), "the same"),
    ("TorchScript, torch.jit.load", "torchscript", lambda m: f"{mib(sizes[f'torchscript.{m}'])} .pt",
     f"libtorch_cpu {mib(sizes['libtorch'])}, python3"),
]
for label, key, binary, libs in rows:
    ms = [spread(samples[("STARTUP", f"{key}.{m}")]) + " ms" for m in ("mlp", "lenet")]
    print(f"| {label} | {ms[0]} | {ms[1]} | {binary('mlp')}; {binary('lenet')} | {libs} |")

print(f"\n### Inference, kiln with {threads} threads; peers at their best of 1 and {threads} threads\n")
print("| model, measure | kiln AOT | kiln JIT | ONNX Runtime (best) | PyTorch (best) | AOT vs the best peer |")
print("|---|---|---|---|---|---|")
for m in ("mlp", "lenet"):
    for b, measure, better in (("b1", "latency", min), ("b256", "throughput", max)):
        aot = combined(f"kiln_aot_infer.{m}.{b}.t{threads}.{measure}")
        jit = combined(f"kiln_jit_infer.{m}.{b}.t{threads}.{measure}")
        def best(names):
            found = [(combined(n), n) for n in names if combined(n)]
            return better(found, key=lambda c: c[0][0]) if found else (None, "")
        ts = sorted({"1", threads})
        ort, ort_name = best([f"{p}.{m}.{b}.t{t}.{measure}" for p in ("ort_infer", "ort_infer_nospin") for t in ts])
        torch, torch_name = best([f"torch_aot_peer.{v}.{m}.{b}.t{t}.{measure}" for v in ("eager", "jit") for t in ts])
        peer = better([c for c in (ort, torch) if c], key=lambda c: c[0], default=None)
        if aot and peer:
            ratio = peer[0] / aot[0] if measure == "latency" else aot[0] / peer[0]
            ratio = f"{ratio:.2f}x {'faster' if ratio >= 1 else 'slower'}"
        else:
            ratio = "-"
        unit = "µs" if measure == "latency" else "examples/s"
        ort_tag = (f"{'no spin' if 'nospin' in ort_name else 'spin'}, {ort_name.split('.')[-2]}"
                   if ort_name else "")
        torch_tag = (f"{torch_name.split('.')[1]}, {torch_name.split('.')[-2]}" if torch_name else "")
        print(f"| {m} {b} {measure} ({unit}) | {fmt(aot)} | {fmt(jit)} | {fmt(ort)} {ort_tag} "
              f"| {fmt(torch)} {torch_tag} | {ratio} |")

print("\n### Training step and compilation\n")
aot = combined(f"kiln_aot_train.mlp.b64.t{threads}.step_time")
jit = combined(f"kiln_jit_train.mlp.b64.t{threads}.step_time")
print(f"MLP batch-64 Adam step: AOT {fmt(aot)} ms, JIT {fmt(jit)} ms"
      + (f", AOT/JIT {aot[0] / jit[0]:.2f}" if aot and jit else ""))
for m in ("mlp", "lenet"):
    print(f"`kiln compile` {m} (batch 1, wall time of the process): {spread(samples[('COMPILE', m)])} ms")
