"""PyTorch at its best on a few cores, for the bench/ peers: import torch
through torch_with_threads(n), which sets the thread counts first (Debian's
torch calls the system OpenBLAS, which reads its count when loaded) and
OpenMP's passive waiting (its default spin-waiting is 3-5x slower on 2 vCPUs).
Also how the peers time calls and print results, as bench/timing.h does."""
import os
import statistics
import sys
import time

# Thread counts and passive waiting set before torch is imported: peerlib's.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers"))
from peerlib import set_threads as torch_with_threads  # noqa: E402,F401


def result(name, samples, unit):
    """RESULT name=.. value=MEDIAN unit=.. min=.. max=.. n=.."""
    print(f"RESULT name={name} value={statistics.median(samples):.6g} unit={unit} "
          f"min={min(samples):.6g} max={max(samples):.6g} n={len(samples)}", flush=True)


def call_seconds(fn, calls):
    """Each of `calls` calls of fn, timed on its own."""
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times
