// A graph compiled for one batch size and one set of roots, with its memory
// plan: what a Session runs, and what `kiln info --memory` reports on.
#pragma once

#include "compiler/compile.h"
#include "compiler/memory_plan.h"
#include "passes/pass.h"

#include <optional>
#include <vector>

namespace kiln {

struct CompiledGraph {
  RootedGraph graph;             // as the passes left it
  std::vector<TensorType> types; // its types at the batch size
  compiler::Program program;
  std::optional<compiler::MemoryPlan> memory; // verified; absent when not planned
  double memory_plan_ms = 0;                  // planning and verifying it
};

// Compiles `optimized` (the passes' output) for `batch_size`, every computed
// node in graph order; with `plan_memory`, plans its arena and verifies the plan.
CompiledGraph compile_graph(compiler::Compiler &compiler, RootedGraph optimized, int64_t batch_size,
                            bool plan_memory);

} // namespace kiln
