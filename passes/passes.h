// The passes, one function each (one file each in passes/). pipeline() in
// passes/pipeline.cpp puts them in order; tests call them one by one.
#pragma once

#include "passes/pass.h"

namespace kiln {

// Drops every node the roots do not need.
RootedGraph eliminate_dead_code(const RootedGraph &in);

// Groups of elementwise nodes (optimizer updates included) become one fused
// node each, compiled as one loop (ops/fusion.h).
RootedGraph fuse_loops(const RootedGraph &in);

} // namespace kiln
