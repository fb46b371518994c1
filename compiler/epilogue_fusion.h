// An epilogue fusion (passes/fuse_epilogues.cpp): the anchor's one call, task
// by task, each followed by the elementwise members over the box of the
// output that task wrote, read back while it is in cache.
#pragma once

#include "compiler/emitter.h"

namespace kiln::compiler {

// `anchor` is the first member of `body`; the others are elementwise.
void emit_epilogue(ModuleEmitter &e, const Graph &body, const Node &anchor);

} // namespace kiln::compiler
