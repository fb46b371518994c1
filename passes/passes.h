// The passes, one function each (one file each in passes/). pipeline() in
// passes/pipeline.cpp puts them in order; tests call them one by one.
#pragma once

#include "passes/pass.h"

namespace kiln {

// Drops every node the roots do not need.
RootedGraph eliminate_dead_code(const RootedGraph &in);

// Reorders the nodes to keep live memory low, keeping the order between
// variable updates and their readers, and between random ops.
RootedGraph schedule(const RootedGraph &in);

} // namespace kiln
