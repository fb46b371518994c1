"""Table for bench/train.sh: lines "<recipe> <system> <accuracy> <seconds>"."""
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
