// A reduce fusion (passes/fuse_reductions.cpp): the reduction's one call
// (kernel_abi.h's row reduction), task by task, each after computing the
// slab of the input it reduces into a buffer on the stack; or, when the
// slab would be too big for the stack, the input into a scratch buffer.
#pragma once

#include "compiler/emitter.h"

namespace kiln::compiler {

// `reduction` is the last member of `body`; the others are elementwise.
void emit_reduction(ModuleEmitter &e, const Graph &body, const Node &reduction);

} // namespace kiln::compiler
