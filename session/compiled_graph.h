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

// Where a buffer of a compiled program lives when it runs.
struct BufferPlace {
  enum class Kind { arena, variable, in_place, constant, placeholder, own };
  Kind kind = Kind::own;
  size_t offset = 0;   // arena: where in it
  NodeId node = -1;    // variable, constant, placeholder: its node in the compiled graph
  int32_t buffer = -1; // in_place: the buffer it writes over (its variable's)
};

// By buffer index: the memory plan's arena buffers, sources (placeholders
// point at their feeds), variable updates in their variable, the rest
// (unplanned computed nodes and scratch) in storage of their own.
std::vector<BufferPlace> place_buffers(const CompiledGraph &c);

// Compiles `optimized` (the passes' output) for `batch_size`, every computed
// node in graph order; with `plan_memory`, plans its arena and verifies the plan.
CompiledGraph compile_graph(compiler::Compiler &compiler, RootedGraph optimized, int64_t batch_size,
                            bool plan_memory);

} // namespace kiln
