"""The table of bench/onnx_zoo.sh from its results file: per model and batch,
kiln's median ms against each peer's best setting, with min/median/max."""
import re
import sys
from collections import defaultdict


def fields(line):
    return dict(re.findall(r"(\w+)=(\S+)", line))


times = defaultdict(dict)  # (model, batch) -> peer -> (min, median, max)
extra = defaultdict(dict)  # model -> facts
for line in open(sys.argv[1]):
    kind, f = line.split(" ", 1)[0], fields(line)
    if kind == "TIME":
        times[(f["model"], int(f["batch"]))][f["peer"]] = tuple(
            float(f[k]) for k in ("min", "median", "max"))
    elif kind == "IMPORT":
        extra[f["model"]]["import_s"] = float(f["s"])
    elif kind == "FIRST":
        extra[f["model"]][f"first_b{f['batch']}_ms"] = float(f["ms"])
    elif kind == "CHECK":
        extra[f["model"]][f"diff_b{f['batch']}"] = f"{f['max_abs_diff']} of {f['scale']}"


def best(peers, prefix):
    mine = {p: t for p, t in peers.items() if p.startswith(prefix)}
    return min(mine.items(), key=lambda kv: kv[1][1]) if mine else (None, None)


print("| model | batch | kiln JIT ms (min/median/max) | ONNX Runtime best | PyTorch best "
      "| kiln vs ORT | kiln vs PyTorch |")
print("|---|---|---|---|---|---|---|")
for (model, batch), peers in sorted(times.items()):
    k = peers.get("kiln_jit")
    ort_name, ort = best(peers, "ort")
    pt_name, pt = best(peers, "pytorch")
    fmt = lambda t: f"{t[0]:.1f} / {t[1]:.1f} / {t[2]:.1f}" if t else "-"
    ratio = lambda peer: f"{peer[1] / k[1]:.2f}x" if peer and k else "-"
    print(f"| {model} | {batch} | {fmt(k)} | {fmt(ort)} ({ort_name}) | {fmt(pt)} ({pt_name}) "
          f"| {ratio(ort)} | {ratio(pt)} |")
print()
print("(ratios: the peer's median / kiln's; above 1, kiln is faster)")
for model, facts in sorted(extra.items()):
    print(f"{model}: " + ", ".join(f"{k} {v}" for k, v in facts.items()))
