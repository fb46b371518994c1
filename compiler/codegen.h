// Emits the kernels of a scheduled graph as LLVM IR, each node's kernels in a
// module of their own: the unit that is deduplicated, cached and compiled in
// parallel (compiler.cpp). Kernels call the native kernel library
// (kernels/kernels.h) by name and the scalar math by declaration, linked in
// before optimization.
#pragma once

#include "compiler/compile.h"

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

namespace kiln::compiler {

struct EmittedUnit {
  std::unique_ptr<llvm::LLVMContext> context;
  std::unique_ptr<llvm::Module> module; // kernel i of the unit is function "k<i>"
  std::vector<size_t> kernels;          // their indices in EmittedProgram::kernels
};

struct EmittedProgram {
  std::vector<Kernel> kernels; // fn and symbol not yet resolved
  std::vector<BufferInfo> buffers;
  std::vector<EmittedUnit> units;
};

EmittedProgram emit_program(const Graph &g, std::span<const TensorType> types,
                            std::span<const NodeId> schedule, const llvm::DataLayout &layout,
                            const llvm::Triple &triple);

} // namespace kiln::compiler
