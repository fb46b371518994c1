// Fused nodes, what passes/fuse.cpp makes of a group of nodes so that the
// compiler emits one kernel for all of them. A fused node's `body` attribute
// is a graph of its members; the body's `parameter` nodes stand for the fused
// node's inputs (attribute `index`), and its last node is the fused node's
// value. The listing prints the body as a block (ir/listing.h); other views
// list its members (ir/attr.h prints a body as its node names).
//  - fusion {kind="loop"}: elementwise members, evaluated element by element
//    in one loop over the output (inputs broadcast into it), and views of
//    parameters (slices), read from the parameter's buffer in place.
//  - fusion {kind="output"}: a matmul or conv2d (the anchor, its first
//    member) and elementwise members after it, run on each part of the
//    output as the anchor's tasks finish it (an epilogue: bias, activation).
//  - fusion {kind="reduce"}: elementwise members and a reduction of the
//    last of them (its last member): each task of the reduction computes the
//    slab it reduces.
//  - fused_update {kind="loop"}: a loop with members that update
//    variables (an optimizer step for one variable: moving averages of the
//    gradient and the update of the weight): each stores into its variable as
//    the loop goes. Its value is its last member's, the update of input 0.
#pragma once

#include "ir/graph.h"

namespace kiln::ops {

void register_fusion_ops(OpRegistry &registry);

// A fusion of kind "loop" (not an update).
bool is_loop_fusion(const Node &n);
// Each output element computed from the same index of the inputs (broadcast),
// with no other effect: a pure elementwise op or a loop fusion.
bool is_pure_elementwise(const Node &n);
// A body member that reads its input, a parameter, in place (OpDef::input_view:
// a slice), which the compiler loads from the parameter's buffer.
bool is_view_member(const Node &n);

} // namespace kiln::ops
