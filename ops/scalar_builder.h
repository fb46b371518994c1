// The vocabulary elementwise ops are written in. An op's `scalar` function
// builds its value for one element from its operands' values; the compiler
// wraps it in loops (and fuses chains of such functions into one loop).
// Values are opaque handles (LLVM values in the compiler's implementation,
// compiler/llvm_scalar_builder.h), so op files need no LLVM header: every
// operation goes through this interface, whose implementation picks the
// float or integer instruction from the operand type.
#pragma once

#include "ir/dtype.h"

#include <span>
#include <string_view>

namespace llvm {
class Value;
} // namespace llvm

namespace kiln {
struct Node;
}

namespace kiln::compiler {

class ScalarBuilder {
public:
  using V = llvm::Value *;

  virtual ~ScalarBuilder() = default;

  // The node whose element is being built (its attributes).
  virtual const Node &node() const = 0;

  // A constant of the same type as `like`.
  virtual V constant(double value, V like) = 0;
  virtual V constant(double value, DType type) = 0;

  virtual V add(V a, V b) = 0;
  virtual V sub(V a, V b) = 0;
  virtual V mul(V a, V b) = 0;
  virtual V div(V a, V b) = 0; // integer division truncates toward zero, like C
  virtual V neg(V a) = 0;
  virtual V abs(V a) = 0;
  virtual V min(V a, V b) = 0; // NaN-propagating for floats
  virtual V max(V a, V b) = 0;
  virtual V sqrt(V a) = 0;
  virtual V select(V cond, V a, V b) = 0;
  virtual V logical_not(V cond) = 0;

  enum class Cmp { eq, ne, lt, le, gt, ge };
  // bool result; false when an operand is NaN (except ne)
  virtual V compare(Cmp pred, V a, V b) = 0;

  virtual V cast(V a, DType to) = 0;

  // kiln_<name>_<f32|f64> from the kernel library (kernels/math.cpp).
  V math(std::string_view name, V a) {
    V args[] = {a};
    return call_math(name, args);
  }
  V math(std::string_view name, V a, V b) {
    V args[] = {a, b};
    return call_math(name, args);
  }

protected:
  virtual V call_math(std::string_view name, std::span<const V> args) = 0;
};

} // namespace kiln::compiler
