// The optimizing pipeline's vocabulary. A pass takes a graph and its roots
// (what the caller fetches or runs as targets) and returns an equivalent
// graph: every root keeps its value and its effects, anything else may be
// rewritten, merged or dropped. Passes are listed, in order, in one place:
// pipeline() in passes/pipeline.cpp.
#pragma once

#include "ir/graph.h"

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

struct RootedGraph {
  Graph graph;
  std::vector<NodeId> roots; // fetches and targets, as ids of `graph`
};

struct PipelineOptions;

struct Pass {
  std::string name;    // what `kiln dump --after=NAME` names
  std::string summary; // one line for `kiln dump --passes`
  std::function<RootedGraph(const RootedGraph &, const PipelineOptions &)> run;
  bool fusion = false; // skipped when fusion is off (--no-fusion)
};

// Called after each pass that runs, with the graph it took and the one it
// made, and the seconds it took (`kiln dump --print-after-all`,
// `--time-passes`).
using PassObserver = std::function<void(const Pass &pass, const RootedGraph &before,
                                        const RootedGraph &after, double seconds)>;

// How the allreduce_mean nodes (the gradients' mean over a job's ranks)
// compile (passes/data_parallel.cpp).
struct DataParallelOptions {
  // Off, for a job of one: each is its input. On (a Session does it when its
  // communicator has several ranks): they are averaged in buckets.
  bool on = false;
  // The most a bucket takes, unless one gradient is more. 0: a quarter of
  // all the gradients, within [64 KiB, 4 MiB], so that a small model's
  // first buckets have a backward pass left to hide under.
  size_t bucket_bytes = 0;
};

struct PipelineOptions {
  bool fusion = true;
  DataParallelOptions data_parallel = {};
  // Checks each pass's output with verify_pass_output and fails naming the
  // pass (`kiln dump --verify-each`).
  bool verify_each = false;
  PassObserver after_pass = {}; // none: no calls
};

// The passes in the order optimize() runs them.
const std::vector<Pass> &pipeline();

// Runs the pipeline, or its prefix up to and including the pass named
// `last` (which must exist: the error lists the names).
RootedGraph optimize(RootedGraph in, const PipelineOptions &options = {},
                     std::string_view last = {});

// Runs `passes` in order, up to and including the one named `last` (all when
// empty), as optimize() runs the pipeline's.
RootedGraph run_passes(std::span<const Pass> passes, RootedGraph in, const PipelineOptions &options,
                       std::string_view last = {});

// Fails unless `after` could be what a pass made of `before`: each node
// (and each node of a fused body) checks again against its op, in order,
// with the type it holds, and the roots are as many, with the same names and
// types (roots keep their names: docs/decisions.md).
void verify_pass_output(const RootedGraph &before, const RootedGraph &after);

} // namespace kiln
