// The readable text form of a graph, one line per node in the manner of
// LLVM and MLIR:
//   %dense/matmul = matmul(%x, %dense/W) {transpose_a=false, ...} : f32[?, 8]
// For reading only; the protobuf text form (`--format proto`) is the one that
// loads back.
#pragma once

#include "ir/graph.h"

#include <string>

namespace kiln {

std::string to_listing(const Graph &g);

} // namespace kiln
