"""The PyTorch peer of bench/data_parallel_bench.cpp: the same training steps
(MLP 784-512-10 or LeNet-5, Adam, random images and labels) alone or with
DistributedDataParallel over gloo, RANKS processes on this machine, each
BATCH items a step and THREADS threads. Timed as bench/timing.h times
throughput (20 warm-up steps, then 7 blocks of STEPS steps; the job's
items/s per block); rank 0 prints a RESULT line.

    OMP_WAIT_POLICY=PASSIVE python3 bench/torch_ddp_train.py --model mlp --ranks 2 --batch 64
"""
import argparse
import os
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn
import torch.nn.functional as F

from fashion_train import lenet, mlp


def run(rank, args):
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)  # as kiln's kernels run
    torch.manual_seed(rank)
    model = mlp() if args.model == "mlp" else lenet()
    if args.ranks > 1:
        os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
        os.environ.setdefault("MASTER_PORT", "29511")
        dist.init_process_group("gloo", rank=rank, world_size=args.ranks)
        model = nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.rand(args.batch, 1, 28, 28)
    y = torch.randint(0, 10, (args.batch,))

    def step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()

    for _ in range(20):
        step()
    rates = []
    for _ in range(7):
        start = time.perf_counter()
        for _ in range(args.steps):
            step()
        rates.append(args.batch * args.ranks * args.steps / (time.perf_counter() - start))
    if rank == 0:
        rates.sort()
        print(f"RESULT name=torch_{args.model}_{args.ranks}x{args.threads}_items_per_s "
              f"value={rates[3]:.6g} unit=items/s min={rates[0]:.6g} max={rates[-1]:.6g} n=7",
              flush=True)
    if args.ranks > 1:
        dist.destroy_process_group()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", choices=["mlp", "lenet"], default="mlp")
    p.add_argument("--ranks", type=int, default=1)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=20)
    args = p.parse_args()
    if args.ranks == 1:
        run(0, args)
    else:
        mp.spawn(run, args=(args,), nprocs=args.ranks)


if __name__ == "__main__":
    main()
