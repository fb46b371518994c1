// Which kernel calls of a plan must run before which, for running the
// independent ones side by side (the executor's inter-op parallelism): a
// call depends on the last earlier call that wrote storage it touches, and,
// when it writes, on the earlier calls that read that storage since. Storage
// is byte ranges of the arena, variables (any call touching one may write
// it: updates run fused with other math) and buffers of their own; inputs
// and constants are only read. Any order the graph allows computes what the
// plan's order does, bit for bit: each kernel's result depends only on its
// inputs (kernels/kernel_abi.h).
#pragma once

#include "runtime/plan.h"

#include <cstdint>
#include <vector>

namespace kiln {

struct KernelGraph {
  std::vector<std::vector<uint32_t>> successors; // by kernel call
  std::vector<uint32_t> predecessors;            // counts, by kernel call
  // Some call may run beside another: not one chain in plan order.
  bool has_parallelism = false;
};

KernelGraph kernel_graph(const Plan &plan);

} // namespace kiln
