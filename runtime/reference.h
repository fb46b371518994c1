// The reference interpreter: runs a graph node by node with the ops'
// reference kernels, in double-precision arithmetic where it matters. It is
// the oracle the compiled code is tested against, not an engine.
#pragma once

#include "runtime/node_ref.h"

#include <vector>

namespace kiln {

// Variables take their initial values (the same ones a new Session has).
std::vector<Tensor> run_reference(const Graph &g, const Feeds &feeds,
                                  const std::vector<NodeRef> &fetches);

} // namespace kiln
