// Loop nests of generated kernels, emitted at a builder's position: one
// counted loop, a nest over a box of indices, and the merging of dims that
// every view walks contiguously (fewer, longer loops for the vectorizer).
#pragma once

#include "ops/lowering.h"

#include <llvm/IR/IRBuilder.h>

#include <functional>
#include <vector>

namespace kiln::compiler {

// Emits `for (i = lo; i < hi; ++i) body(i)`. With `independent`, the memory
// accesses tagged with it carry no dependence from one iteration to the
// next (llvm.loop.parallel_accesses).
void emit_for(llvm::IRBuilder<> &b, llvm::Value *lo, llvm::Value *hi,
              const std::function<void(llvm::Value *)> &body, llvm::MDNode *independent = nullptr);

// A loop nest over a shape after merging dims that every view walks
// contiguously: `dims` and, per view, its stride along each merged dim.
struct MergedLoop {
  std::vector<int64_t> dims;
  std::vector<std::vector<int64_t>> strides;
};

MergedLoop merge_dims(const Shape &shape, const std::vector<const View *> &views);

// One dim of a box of indices: [lo, hi), and each view's stride along it.
struct BoxDim {
  llvm::Value *lo, *hi;
  std::vector<int64_t> strides;
};

// Calls at(offsets) for every index of the box, one offset per view.
void emit_box(llvm::IRBuilder<> &b, const std::vector<BoxDim> &dims,
              const std::vector<const View *> &views,
              const std::function<void(const std::vector<llvm::Value *> &)> &at);

} // namespace kiln::compiler
