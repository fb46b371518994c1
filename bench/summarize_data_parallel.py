"""The table of bench/data_parallel.sh: per model, items/s of the job for
kiln and PyTorch (DDP over gloo), RANKS processes x 1 thread against one
process x RANKS threads at the same global batch (medians over the rounds,
min-max of the blocks), the ratios, and how much of kiln's gradient exchange
the backward pass hid (1 - exposed wait / the same buckets averaged blocking)."""
import sys

from results import cell, read_results


def main():
    log, ranks = sys.argv[1], sys.argv[2]
    rows = read_results(log)
    print(f"| model | kiln {ranks}x1 | kiln 1x{ranks} | ratio | PyTorch DDP {ranks}x1 "
          f"| PyTorch 1x{ranks} | kiln {ranks}x1 / DDP | hidden |")
    print("|---|---|---|---|---|---|---|---|")
    for model in ("mlp", "lenet"):
        dp, dp_cell = cell(rows, f"{model}_{ranks}x1_items_per_s")
        one, one_cell = cell(rows, f"{model}_1x{ranks}_items_per_s")
        ddp, ddp_cell = cell(rows, f"torch_{model}_{ranks}x1_items_per_s")
        # Both thread counts are filed under 1xRANKS: the best block median.
        torch_one = rows.get(f"torch_{model}_1x{ranks}_items_per_s")
        torch_one_cell = (f"{max(torch_one['values']):.4g} (best of {len(torch_one['values'])} "
                          f"runs at 1 and {ranks} threads) items/s" if torch_one else "-")
        exposed, _ = cell(rows, f"{model}_{ranks}x1_exposed_us")
        blocking, _ = cell(rows, f"{model}_{ranks}x1_blocking_us")
        ratio = f"{dp / one:.2f}x" if dp and one else "-"
        vs_ddp = f"{dp / ddp:.2f}x" if dp and ddp else "-"
        hidden = f"{max(0.0, 1 - exposed / blocking):.0%}" if exposed and blocking else "-"
        print(f"| {model} | {dp_cell} | {one_cell} | {ratio} | {ddp_cell} | {torch_one_cell} "
              f"| {vs_ddp} | {hidden} |")


if __name__ == "__main__":
    main()
