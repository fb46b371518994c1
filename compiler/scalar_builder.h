// The vocabulary elementwise ops are written in. An op's `scalar` function
// builds its value for one element from its operands' values; the compiler
// wraps it in loops (and, later, fuses chains of such functions into one
// loop). Values are LLVM values, but op files need no LLVM header: every
// operation goes through this class, which picks the float or integer
// instruction from the operand type.
#pragma once

#include "ir/dtype.h"

#include <span>
#include <string_view>

namespace llvm {
class Value;
class IRBuilderBase;
class Module;
} // namespace llvm

namespace kiln {
struct Node;
}

namespace kiln::compiler {

class ScalarBuilder {
public:
  using V = llvm::Value *;

  ScalarBuilder(llvm::IRBuilderBase &ir, llvm::Module &module, const Node &node)
      : ir_(ir), module_(module), node_(node) {}

  const Node &node() const { return node_; }
  llvm::IRBuilderBase &ir() { return ir_; }

  // A constant of the same type as `like`.
  V constant(double value, V like);
  V constant(double value, DType type);

  V add(V a, V b);
  V sub(V a, V b);
  V mul(V a, V b);
  V div(V a, V b); // integer division truncates toward zero, like C
  V neg(V a);
  V abs(V a);
  V min(V a, V b); // NaN-propagating for floats
  V max(V a, V b);
  V sqrt(V a);
  V select(V cond, V a, V b);
  V logical_not(V cond);

  enum class Cmp { eq, ne, lt, le, gt, ge };
  V compare(Cmp pred, V a, V b); // bool result; false when an operand is NaN (except ne)

  V cast(V a, DType to);

  // kiln_<name>_<f32|f64> from the kernel library (kernels/math.cpp).
  V math(std::string_view name, V a);
  V math(std::string_view name, V a, V b);

private:
  V call_kernel_math(std::string_view name, std::span<const V> args);

  llvm::IRBuilderBase &ir_;
  llvm::Module &module_;
  const Node &node_;
};

} // namespace kiln::compiler
