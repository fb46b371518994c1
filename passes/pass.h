// The optimizing pipeline's vocabulary. A pass takes a graph and its roots
// (what the caller fetches or runs as targets) and returns an equivalent
// graph: every root keeps its value and its effects, anything else may be
// rewritten, merged or dropped. Passes are listed, in order, in one place:
// pipeline() in passes/pipeline.cpp.
#pragma once

#include "ir/graph.h"

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

struct RootedGraph {
  Graph graph;
  std::vector<NodeId> roots; // fetches and targets, as ids of `graph`
};

struct Pass {
  std::string name;    // what `kiln dump --after=NAME` names
  std::string summary; // one line for `kiln dump --passes`
  std::function<RootedGraph(const RootedGraph &)> run;
  bool fusion = false; // skipped when fusion is off (--no-fusion)
};

struct PipelineOptions {
  bool fusion = true;
};

// The passes in the order optimize() runs them.
const std::vector<Pass> &pipeline();

// Runs the pipeline, or its prefix up to and including the pass named
// `last` (which must exist: the error lists the names).
RootedGraph optimize(RootedGraph in, const PipelineOptions &options = {},
                     std::string_view last = {});

} // namespace kiln
