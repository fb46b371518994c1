// Reverse-mode automatic differentiation, symbol to symbol: gradients are new
// nodes in the same graph, built from each op's `grad` rule (ir/op.h), so a
// gradient is compiled, optimized and saved like any other value, and can be
// differentiated again.
#pragma once

#include "ops/grad.h"

#include <optional>
#include <vector>

namespace kiln {

// The gradients of `y` with respect to each of `xs`, added to y's graph
// under a "gradients" scope. Each node between them is visited once and
// shared subterms are reused. `y` must be a scalar unless `dy`, the upstream
// gradient (y's type), is given. Fails, naming the node, when an x does not
// reach y or reaches it only through non-differentiable ops (argmax,
// comparisons, integer casts).
std::vector<Value> gradients(Value y, const std::vector<Value> &xs,
                             std::optional<Value> dy = std::nullopt);

} // namespace kiln
