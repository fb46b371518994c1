// What an op's gradient rule (OpDef::grad) is written against: the node's
// inputs, output and upstream gradient as builder Values. Reverse mode
// itself is passes/autodiff.h.
#pragma once

#include "ops/builder.h"

#include <vector>

namespace kiln {

// What an op's gradient rule sees. Holds handles, not node references:
// rules add nodes, which may move the graph's storage.
struct GradContext {
  std::vector<Value> inputs;
  Value output;
  Value dy; // the gradient of the loss with respect to `output`, of its type

  const Node &node() const { return output.node(); }
  Value x(size_t i) const { return inputs.at(i); }
};

// `grad` (the gradient of a value broadcast from `shape`) summed back to
// `shape`: over leading axes and over axes where `shape` has size 1.
Value unbroadcast(Value grad, const Shape &shape);

} // namespace kiln
