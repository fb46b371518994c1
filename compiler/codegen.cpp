#include "compiler/codegen.h"

#include "compiler/elementwise.h"
#include "compiler/emitter.h"

#include <llvm/TargetParser/Triple.h>

namespace kiln::compiler {

EmittedProgram emit_program(const Graph &g, std::span<const TensorType> types,
                            std::span<const NodeId> schedule, const llvm::DataLayout &layout,
                            const llvm::Triple &triple) {
  EmittedProgram out;
  for (const Node &n : g.nodes())
    out.buffers.push_back(
        {n.id, n.id, types[size_t(n.id)].dtype, num_elements(types[size_t(n.id)].shape)});
  for (NodeId id : schedule) {
    EmittedUnit unit;
    unit.context = std::make_unique<llvm::LLVMContext>();
    unit.module = std::make_unique<llvm::Module>("kiln", *unit.context);
    unit.module->setDataLayout(layout);
    unit.module->setTargetTriple(triple.str());
    ModuleEmitter emitter(unit, g, types, out, id);
    if (g.node(id).op->scalar)
      emit_elementwise(emitter);
    else
      g.node(id).op->lower(emitter);
    if (!unit.kernels.empty()) out.units.push_back(std::move(unit));
  }
  return out;
}

} // namespace kiln::compiler
