"""Table for bench/train.sh: lines "<recipe> <system> <accuracy> <seconds>";
then, per recipe, kiln's median time against the fastest PyTorch configuration's."""
import statistics
import sys
from collections import defaultdict

runs = defaultdict(list)
for line in open(sys.argv[1]):
    recipe, system, accuracy, seconds = line.split()
    runs[recipe, system].append((float(accuracy), float(seconds)))

print("| recipe | system | test accuracy, mean (per seed) | training s, median (min-max) |")
print("|---|---|---|---|")
for (recipe, system), r in runs.items():
    acc = [a for a, _ in r]
    sec = [s for _, s in r]
    print(f"| {recipe} | {system} | {statistics.mean(acc):.2f}% "
          f"({', '.join(f'{a:.2f}' for a in acc)}) | "
          f"{statistics.median(sec):.1f} ({min(sec):.1f}-{max(sec):.1f}) |")

print()
for recipe in dict.fromkeys(r for r, _ in runs):
    kiln = statistics.median(s for _, s in runs[recipe, "kiln"])
    torch = {system: statistics.median(s for _, s in r)
             for (rec, system), r in runs.items() if rec == recipe and system != "kiln"}
    best = min(torch, key=torch.get)
    print(f"{recipe}: kiln {kiln:.1f} s, fastest PyTorch ({best}) {torch[best]:.1f} s: "
          f"{torch[best] / kiln:.2f}x")
