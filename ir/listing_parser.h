// Reads the text form that to_listing prints (ir/listing.h) back into a
// graph: to_listing(parse_listing(to_listing(g))) == to_listing(g), and the
// graphs are equal. For text written by hand, an attribute left out takes its
// op's default and a node's type may be left out (the op infers it; when
// written, it must be what the op infers). Bad text fails with
// "SOURCE:LINE:COLUMN: what was expected".
#pragma once

#include "ir/graph.h"

#include <string_view>

namespace kiln {

Graph parse_listing(std::string_view text, std::string_view source = "<listing>");

} // namespace kiln
