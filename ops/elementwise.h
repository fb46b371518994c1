// Elementwise ops are declared as rows of ElementwiseSpec; elementwise_op
// turns a row into an OpDef with broadcasting shape rules and a reference
// kernel. Activation functions (ops/activations.cpp) use the same rows.
#pragma once

#include "ir/op.h"
#include "ops/op_util.h"

#include <functional>

namespace kiln::ops {

struct ElementwiseSpec {
  std::string name;
  int arity;
  DTypes operands;
  std::vector<AttrSpec> attrs;
  // The oracle, on doubles.
  std::function<double(const Node &, std::span<const double>)> ref;
  decltype(OpDef::scalar) scalar;
  // Result dtype from the operand dtype; default: the same.
  DType (*result)(const Node &, DType) = nullptr;
  decltype(OpDef::grad) grad = {}; // none for comparisons and logic
};

OpDef elementwise_op(const ElementwiseSpec &spec);

void register_elementwise_ops(OpRegistry &registry);

} // namespace kiln::ops
