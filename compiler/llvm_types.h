// How kiln dtypes look in LLVM IR: bool is i8 in memory and i1 in registers.
#pragma once

#include "ir/dtype.h"

#include <llvm/IR/IRBuilder.h>

namespace kiln::compiler {

inline llvm::Type *memory_type(llvm::LLVMContext &c, DType t) {
  switch (t) {
  case DType::f32: return llvm::Type::getFloatTy(c);
  case DType::f64: return llvm::Type::getDoubleTy(c);
  case DType::i32: return llvm::Type::getInt32Ty(c);
  case DType::i64: return llvm::Type::getInt64Ty(c);
  case DType::boolean: return llvm::Type::getInt8Ty(c);
  }
  return nullptr;
}

inline llvm::Type *register_type(llvm::LLVMContext &c, DType t) {
  return t == DType::boolean ? llvm::Type::getInt1Ty(c) : memory_type(c, t);
}

} // namespace kiln::compiler
