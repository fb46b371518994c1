// The passes, one function each (one file each in passes/). pipeline() in
// passes/pipeline.cpp puts them in order; tests call them one by one.
#pragma once

#include "passes/pass.h"

namespace kiln {

// Replaces each node computed from constants alone by a constant of its value.
RootedGraph fold_constants(const RootedGraph &in);

// Applies algebraic identities: x * 1, x + 0, neg(neg(x)), transpose and
// reshape chains, reshapes/casts/broadcasts to the type x already has.
RootedGraph simplify_algebra(const RootedGraph &in);

// Merges nodes that compute the same value from the same inputs.
RootedGraph eliminate_common_subexpressions(const RootedGraph &in);

// A sum of products A_t^T B_t with operands of the same shapes (a weight's
// gradient over the steps of a sequence) becomes one matmul with sum_batch
// over the operands concatenated.
RootedGraph merge_matmul_sums(const RootedGraph &in);

// Inputs read only for their shape take a node of that shape that is kept
// anyway (a source, or one read later), so that their producer need not be.
RootedGraph retarget_shape_inputs(const RootedGraph &in);

// Drops every node the roots do not need.
RootedGraph eliminate_dead_code(const RootedGraph &in);

// The allreduce_mean nodes in a job of one become their input; otherwise
// they are averaged in buckets, each one collective that overlaps the rest
// of the backward pass (options.data_parallel).
RootedGraph data_parallel(const RootedGraph &in, const PipelineOptions &options);

// Groups of elementwise nodes (optimizer updates included) become one fused
// node each, compiled as one loop (ops/fusion.h).
RootedGraph fuse_loops(const RootedGraph &in);

// A matmul or conv2d absorbs its elementwise user (bias, activation): one
// kernel runs it on each tile of the output as it is computed.
RootedGraph fuse_epilogues(const RootedGraph &in);

// A reduction absorbs the elementwise node that computes its input: each of
// its tasks computes and reduces a slab, and the input is never stored.
RootedGraph fuse_reductions(const RootedGraph &in);

// Reorders the nodes to keep live memory low, keeping the order between
// variable updates and their readers, and between random ops.
RootedGraph schedule(const RootedGraph &in);

} // namespace kiln
