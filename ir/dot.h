// Graphviz DOT for `kiln dump --format dot|svg`: one box per node with its
// name, op, output type and short attributes; sources styled by kind (inputs,
// state, constants); edges labeled with the value's type; name scopes
// ("dense/...") drawn as nested clusters.
#pragma once

#include "ir/graph.h"

#include <string>

namespace kiln {

std::string to_dot(const Graph &g);

} // namespace kiln
