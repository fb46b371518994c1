// Emits the kernels of a scheduled graph into an LLVM module that already
// holds the kernel library.
#pragma once

#include "compiler/compile.h"

namespace llvm {
class Module;
}

namespace kiln::compiler {

struct EmittedProgram {
  std::vector<Kernel> kernels; // fn not yet resolved
  std::vector<BufferInfo> buffers;
};

EmittedProgram emit_program(llvm::Module &module, const Graph &g, std::span<const TensorType> types,
                            std::span<const NodeId> schedule, const std::string &symbol_prefix);

} // namespace kiln::compiler
