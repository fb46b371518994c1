// The text form of a graph, one line per node in the manner of LLVM and MLIR:
//   %dense/matmul = matmul(%x, %dense/W) {transpose_a=false, ...} : f32[?, 8]
// The form is complete: parse_listing (ir/listing_parser.h) reads it back
// into an equal graph, so tests can write graphs as text (tests/passes/),
// up to 256 MiB of tensors (a splat can print a larger one in a few bytes).
//  - A name is written bare when it holds only letters, digits, UTF-8 and
//    `_ . / - : @`; otherwise quoted: %"a name".
//  - Strings are quoted with C escapes (\" \\ \n \t \xNN).
//  - A tensor is its type and its values in row-major order,
//    f32[2]{0.5, -1}; one value stands for all (a splat): f32[4, 3]{0}.
//  - A graph attribute (a fused node's body) follows the type as a block:
//      %f = fusion(%a, %b) {kind="loop"} : f32[?, 3] body {
//        %p0 = parameter() {dtype=f32, index=0, shape=[-1, 3]} : f32[?, 3]
//        ...
//      }
//  - `#` starts a comment that runs to the end of the line.
#pragma once

#include "ir/graph.h"

#include <cstdint>
#include <limits>
#include <string>

namespace kiln {

// With `max_values`, a tensor of more values (not all equal) prints as
// f32[512, 784]{...}, which parse_listing rejects: short enough to read a
// large model (kiln dump), no longer complete.
std::string to_listing(const Graph &g, int64_t max_values = std::numeric_limits<int64_t>::max());

// Whether `c` may appear in a name written without quotes.
bool is_bare_name_char(char c);

} // namespace kiln
