// ScalarBuilder (ops/scalar_builder.h) emitting LLVM IR at the builder's
// insertion point. math() calls kernel-library functions of `module`.
#pragma once

#include "ops/scalar_builder.h"

namespace llvm {
class IRBuilderBase;
class Module;
} // namespace llvm

namespace kiln::compiler {

class LlvmScalarBuilder final : public ScalarBuilder {
public:
  LlvmScalarBuilder(llvm::IRBuilderBase &ir, llvm::Module &module, const Node &node)
      : ir_(ir), module_(module), node_(node) {}

  const Node &node() const override { return node_; }

  V constant(double value, V like) override;
  V constant(double value, DType type) override;

  V add(V a, V b) override;
  V sub(V a, V b) override;
  V mul(V a, V b) override;
  V div(V a, V b) override;
  V neg(V a) override;
  V abs(V a) override;
  V min(V a, V b) override;
  V max(V a, V b) override;
  V sqrt(V a) override;
  V select(V cond, V a, V b) override;
  V logical_not(V cond) override;
  V compare(Cmp pred, V a, V b) override;
  V cast(V a, DType to) override;

private:
  V call_math(std::string_view name, std::span<const V> args) override;

  llvm::IRBuilderBase &ir_;
  llvm::Module &module_;
  const Node &node_;
};

} // namespace kiln::compiler
