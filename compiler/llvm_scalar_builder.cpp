#include "compiler/llvm_scalar_builder.h"

#include "compiler/llvm_types.h"
#include "ir/error.h"
#include "ir/graph.h"

#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/Module.h>

namespace kiln::compiler {

namespace {
bool is_fp(llvm::Value *v) { return v->getType()->isFloatingPointTy(); }
} // namespace

llvm::Value *LlvmScalarBuilder::constant(double value, V like) {
  llvm::Type *t = like->getType();
  if (t->isFloatingPointTy()) return llvm::ConstantFP::get(t, value);
  if (t->isIntegerTy(1)) return llvm::ConstantInt::get(t, value != 0);
  return llvm::ConstantInt::get(t, static_cast<uint64_t>(static_cast<int64_t>(value)), true);
}

llvm::Value *LlvmScalarBuilder::constant(double value, DType type) {
  return constant(value, llvm::UndefValue::get(register_type(ir_.getContext(), type)));
}

llvm::Value *LlvmScalarBuilder::add(V a, V b) {
  return is_fp(a) ? ir_.CreateFAdd(a, b) : ir_.CreateAdd(a, b);
}
llvm::Value *LlvmScalarBuilder::sub(V a, V b) {
  return is_fp(a) ? ir_.CreateFSub(a, b) : ir_.CreateSub(a, b);
}
llvm::Value *LlvmScalarBuilder::mul(V a, V b) {
  return is_fp(a) ? ir_.CreateFMul(a, b) : ir_.CreateMul(a, b);
}

llvm::Value *LlvmScalarBuilder::div(V a, V b) {
  if (is_fp(a)) return ir_.CreateFDiv(a, b);
  // Where C has undefined behaviour, a zero divisor gives 0 and INT_MIN / -1
  // wraps to INT_MIN (as -INT_MIN does).
  V is_zero = ir_.CreateICmpEQ(b, constant(0, a));
  V is_minus_one = ir_.CreateICmpEQ(b, constant(-1, a));
  V safe = ir_.CreateSelect(ir_.CreateOr(is_zero, is_minus_one), constant(1, a), b);
  V quotient = ir_.CreateSelect(is_minus_one, ir_.CreateNeg(a), ir_.CreateSDiv(a, safe));
  return ir_.CreateSelect(is_zero, constant(0, a), quotient);
}

llvm::Value *LlvmScalarBuilder::neg(V a) { return is_fp(a) ? ir_.CreateFNeg(a) : ir_.CreateNeg(a); }

llvm::Value *LlvmScalarBuilder::abs(V a) {
  if (is_fp(a)) return ir_.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, a);
  return ir_.CreateBinaryIntrinsic(llvm::Intrinsic::abs, a, ir_.getFalse());
}

// NaN-propagating min/max written as selects, which vectorize everywhere.
llvm::Value *LlvmScalarBuilder::min(V a, V b) {
  if (!is_fp(a)) return ir_.CreateSelect(ir_.CreateICmpSLT(a, b), a, b);
  V pick = ir_.CreateSelect(ir_.CreateFCmpOLT(a, b), a, b);
  return ir_.CreateSelect(ir_.CreateFCmpUNO(a, b), ir_.CreateFAdd(a, b), pick);
}

llvm::Value *LlvmScalarBuilder::max(V a, V b) {
  if (!is_fp(a)) return ir_.CreateSelect(ir_.CreateICmpSGT(a, b), a, b);
  V pick = ir_.CreateSelect(ir_.CreateFCmpOGT(a, b), a, b);
  return ir_.CreateSelect(ir_.CreateFCmpUNO(a, b), ir_.CreateFAdd(a, b), pick);
}

llvm::Value *LlvmScalarBuilder::sqrt(V a) {
  return ir_.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, a);
}

llvm::Value *LlvmScalarBuilder::select(V cond, V a, V b) { return ir_.CreateSelect(cond, a, b); }

llvm::Value *LlvmScalarBuilder::logical_not(V cond) { return ir_.CreateNot(cond); }

llvm::Value *LlvmScalarBuilder::compare(Cmp pred, V a, V b) {
  using P = llvm::CmpInst::Predicate;
  static constexpr P kFloat[] = {P::FCMP_OEQ, P::FCMP_UNE, P::FCMP_OLT,
                                 P::FCMP_OLE, P::FCMP_OGT, P::FCMP_OGE};
  static constexpr P kInt[] = {P::ICMP_EQ,  P::ICMP_NE,  P::ICMP_SLT,
                               P::ICMP_SLE, P::ICMP_SGT, P::ICMP_SGE};
  auto i = static_cast<size_t>(pred);
  return is_fp(a) ? ir_.CreateFCmp(kFloat[i], a, b) : ir_.CreateICmp(kInt[i], a, b);
}

llvm::Value *LlvmScalarBuilder::cast(V a, DType to) {
  llvm::Type *from = a->getType(), *dst = register_type(ir_.getContext(), to);
  if (from == dst) return a;
  if (to == DType::boolean)
    return is_fp(a) ? ir_.CreateFCmpUNE(a, llvm::ConstantFP::get(from, 0))
                    : ir_.CreateICmpNE(a, llvm::ConstantInt::get(from, 0));
  bool from_bool = from->isIntegerTy(1);
  // Float to integer saturates, NaN gives 0 (fptosi alone is poison there).
  if (is_fp(a))
    return dst->isFloatingPointTy()
               ? ir_.CreateFPCast(a, dst)
               : ir_.CreateIntrinsic(llvm::Intrinsic::fptosi_sat, {dst, from}, {a});
  if (dst->isFloatingPointTy())
    return from_bool ? ir_.CreateUIToFP(a, dst) : ir_.CreateSIToFP(a, dst);
  return ir_.CreateIntCast(a, dst, /*isSigned=*/!from_bool);
}

llvm::Value *LlvmScalarBuilder::call_math(std::string_view name, std::span<const V> args) {
  std::string suffix = args[0]->getType()->isFloatTy() ? "_f32" : "_f64";
  std::string symbol = "kiln_" + std::string(name) + suffix;
  // Declared here, defined by the math bitcode the compiler links in.
  std::vector<llvm::Type *> params;
  for (V a : args) params.push_back(a->getType());
  auto *type = llvm::FunctionType::get(args[0]->getType(), params, false);
  llvm::FunctionCallee fn = module_.getOrInsertFunction(symbol, type);
  return ir_.CreateCall(fn, llvm::ArrayRef<V>(args.data(), args.size()));
}

} // namespace kiln::compiler
