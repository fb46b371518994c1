#!/usr/bin/env bash
# How kiln scales with the node count (bench/long_chains_bench.cpp): chains of
# one op each (relu, sigmoid, add, mul, softmax), with and without fusion,
# each pass timed on its own, then a Session's compilation (codegen, memory
# planning), first run and second run, in ms; the last column is the first
# run's ms per 1,000 nodes, flat when every step is linear. Short chains
# first, then long ones, in one sitting.
#
#   bash bench/long_chains.sh [NODES="10000 100000"] [THREADS=2]
set -euo pipefail
cd "$(dirname "$0")/.."
nodes=${1:-"10000 100000"}
threads=${2:-2}
./build/long_chains_bench --nodes "${nodes// /,}" --threads "$threads"
