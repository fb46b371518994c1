// Emits the kernels of a scheduled graph as LLVM IR, each node's kernels in a
// module of their own: the unit that is deduplicated, cached and compiled in
// parallel (compiler.cpp). Kernels call the native kernel library
// (kernels/kernels.h) by name and the scalar math by declaration, linked in
// before optimization.
#pragma once

#include "compiler/compile.h"

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <optional>

namespace kiln::compiler {

struct EmittedUnit {
  std::unique_ptr<llvm::LLVMContext> context;
  std::unique_ptr<llvm::Module> module; // kernel i of the unit is function "k<i>"
  std::vector<size_t> kernels;          // their indices in EmittedProgram::kernels
  // Set instead of a module: the unit (an earlier one) whose IR this one's
  // would be, its node lowering from the same inputs.
  std::optional<size_t> same_as;
};

struct EmittedProgram {
  std::vector<Kernel> kernels; // fn and symbol not yet resolved
  std::vector<BufferInfo> buffers;
  std::vector<EmittedUnit> units;
};

// With `share_alike`, a node that lowers from the same inputs as an earlier
// one (op, attributes, types, immediates) gets that node's kernels over its
// own buffers and a unit `same_as` that node's, instead of IR of its own.
EmittedProgram emit_program(const Graph &g, std::span<const TensorType> types,
                            std::span<const NodeId> schedule, const llvm::DataLayout &layout,
                            const llvm::Triple &triple, bool share_alike);

} // namespace kiln::compiler
