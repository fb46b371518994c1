#include "compiler/operands.h"

#include "compiler/llvm_types.h"

namespace kiln::compiler {

namespace {

// A one-element tensor as an LLVM constant, from its bits: an i64 beyond 2^53
// would not survive a trip through double.
llvm::Value *immediate_value(llvm::IRBuilder<> &b, const Tensor &t) {
  llvm::LLVMContext &c = b.getContext();
  switch (t.dtype()) {
  case DType::f32: return llvm::ConstantFP::get(llvm::Type::getFloatTy(c), t.data<float>()[0]);
  case DType::f64: return llvm::ConstantFP::get(llvm::Type::getDoubleTy(c), t.data<double>()[0]);
  case DType::i32: return b.getInt32(uint32_t(t.data<int32_t>()[0]));
  case DType::i64: return b.getInt64(uint64_t(t.data<int64_t>()[0]));
  case DType::boolean: return b.getInt1(t.data<uint8_t>()[0] != 0);
  }
  return nullptr;
}

} // namespace

std::vector<llvm::Value *> load_operands(llvm::IRBuilder<> &b, std::span<const Operand> operands,
                                         const std::function<llvm::Value *(size_t)> &address,
                                         llvm::MDNode *access_group) {
  std::vector<llvm::Value *> values;
  for (size_t k = 0; k < operands.size(); ++k) {
    const Operand &o = operands[k];
    if (o.unused) {
      values.push_back(nullptr);
    } else if (o.immediate) {
      values.push_back(immediate_value(b, *o.immediate));
    } else {
      llvm::LoadInst *x = b.CreateLoad(memory_type(b.getContext(), o.dtype), address(k));
      if (access_group) x->setMetadata(llvm::LLVMContext::MD_access_group, access_group);
      values.push_back(o.dtype == DType::boolean ? b.CreateICmpNE(x, b.getInt8(0)) : x);
    }
  }
  return values;
}

} // namespace kiln::compiler
