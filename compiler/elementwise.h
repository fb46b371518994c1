// Elementwise kernels: loops that compute each element of their outputs
// from the same index of their operands, for elementwise nodes, copies and
// fills, and fused elementwise nodes (passes/fuse.cpp), whose bodies
// the other fusions evaluate too.
#pragma once

#include "compiler/emitter.h"

#include <functional>
#include <span>

namespace kiln::compiler {

// Where a loop kernel stores one of its values.
struct Store {
  View view;
  DType dtype;
};

// A loop kernel's values for one element, one per Store, from its operands'.
using LoopBody =
    std::function<std::vector<llvm::Value *>(llvm::IRBuilder<> &, std::span<llvm::Value *const>)>;

// dsts = body(srcs) over `shape`, as one kernel.
void emit_loop(ModuleEmitter &e, const Shape &shape, const std::vector<Store> &dsts,
               const std::vector<Operand> &srcs, const LoopBody &body);

// dst moved by k * step = srcs[k] over `shape`, for each k (each source
// viewed contiguously, and none of them dst's buffer or another's): one
// kernel for all of them (Lowering::copy_pieces).
void emit_piece_copies(ModuleEmitter &e, DType type, const Shape &shape, const View &dst,
                       int64_t step, const std::vector<Buffer> &srcs);

// A fused body's values for one element: parameters from `inputs` (one per
// fused input), view members from the inputs after those (in body order, as
// ModuleEmitter::operands gives them), members by their scalar functions,
// `known` as given.
std::vector<llvm::Value *> evaluate(llvm::IRBuilder<> &b, llvm::Module &m, const Graph &body,
                                    std::span<llvm::Value *const> inputs, NodeId known = -1,
                                    llvm::Value *known_value = nullptr);

// An elementwise node by its scalar function.
void emit_elementwise(ModuleEmitter &e);
// A fused node whose members are all elementwise: one loop over the output.
void emit_fused_elementwise(ModuleEmitter &e, const Graph &body);

} // namespace kiln::compiler
