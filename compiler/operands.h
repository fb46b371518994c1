// The operands of loop kernels and how one element of each becomes a value
// in registers: the one place that knows immediates, unused operands and
// bool's two representations (llvm_types.h).
#pragma once

#include "ops/lowering.h"

#include <llvm/IR/IRBuilder.h>

#include <functional>
#include <span>
#include <vector>

namespace kiln::compiler {

// One operand of a loop kernel: a strided view, or an immediate scalar
// (a one-element constant folded into the code).
struct Operand {
  View view;
  DType dtype;
  const Tensor *immediate = nullptr; // its one element, bit for bit
  bool unused = false;               // read for its shape only: not loaded
  bool loaded() const { return !immediate && !unused; }
};

// The operands' values for one element, in order: an immediate as a
// constant, an unused operand as nullptr, the others loaded (bool widened
// to i1) from address(k), called for those operands k only, in order.
// The loads join `access_group` where there is one.
std::vector<llvm::Value *> load_operands(llvm::IRBuilder<> &b, std::span<const Operand> operands,
                                         const std::function<llvm::Value *(size_t)> &address,
                                         llvm::MDNode *access_group = nullptr);

} // namespace kiln::compiler
