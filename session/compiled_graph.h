// A graph compiled for one batch size and one set of roots, with its memory
// plan, and the runtime's plan of it (runtime/plan.h): what a Session runs,
// what `kiln compile` writes, and what `kiln info --memory` reports on.
#pragma once

#include "compiler/compile.h"
#include "compiler/memory_plan.h"
#include "passes/pass.h"
#include "runtime/plan.h"

#include <functional>
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

// Compiles `optimized` (the passes' output) for `batch_size` with `compiler`
// (the JIT, or an object file's), every computed node in graph order; with
// `plan_memory`, plans its arena and verifies the plan.
CompiledGraph compile_graph(compiler::ProgramCompiler &compiler, RootedGraph optimized,
                            int64_t batch_size, bool plan_memory);

// How a plan numbers what lies outside it: the storage it is bound to
// (a Session's variables and the graph's constants, or an object's).
struct PlanNumbering {
  std::function<int64_t(const Node &)> variable; // a variable of the compiled graph
  std::function<int64_t(const Node &)> constant; // a constant of the compiled graph
  std::function<uint32_t(size_t)> function;      // kernel i of the program
};

// The plan of `c`: its inputs are the compiled graph's placeholders, its
// outputs the first `outputs` roots (the fetches); the memory plan's buffers
// in the arena, variable updates over their variable, the rest (unplanned
// computed nodes and scratch) in storage of their own.
Plan make_plan(const CompiledGraph &c, std::string name, size_t outputs,
               const PlanNumbering &numbering);

} // namespace kiln
