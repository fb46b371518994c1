#include "compiler/loops.h"

namespace kiln::compiler {

namespace {

using V = llvm::Value *;

void emit_box_from(llvm::IRBuilder<> &b, const std::vector<BoxDim> &dims, size_t d,
                   const std::vector<V> &offsets,
                   const std::function<void(const std::vector<V> &)> &at) {
  emit_for(b, dims[d].lo, dims[d].hi, [&](V i) {
    std::vector<V> next;
    for (size_t v = 0; v < offsets.size(); ++v)
      next.push_back(
          b.CreateAdd(offsets[v], b.CreateMul(i, b.getInt64(uint64_t(dims[d].strides[v])))));
    if (d + 1 == dims.size())
      at(next);
    else
      emit_box_from(b, dims, d + 1, next, at);
  });
}

} // namespace

void emit_for(llvm::IRBuilder<> &b, V lo, V hi, const std::function<void(V)> &body,
              llvm::MDNode *independent) {
  llvm::Function *fn = b.GetInsertBlock()->getParent();
  llvm::LLVMContext &c = b.getContext();
  llvm::BasicBlock *pre = b.GetInsertBlock();
  auto *cond = llvm::BasicBlock::Create(c, "loop", fn);
  auto *body_bb = llvm::BasicBlock::Create(c, "body", fn);
  auto *exit = llvm::BasicBlock::Create(c, "exit", fn);
  b.CreateBr(cond);
  b.SetInsertPoint(cond);
  llvm::PHINode *i = b.CreatePHI(b.getInt64Ty(), 2, "i");
  i->addIncoming(lo, pre);
  b.CreateCondBr(b.CreateICmpSLT(i, hi), body_bb, exit);
  b.SetInsertPoint(body_bb);
  body(i);
  i->addIncoming(b.CreateAdd(i, b.getInt64(1)), b.GetInsertBlock());
  llvm::BranchInst *latch = b.CreateBr(cond);
  if (independent) {
    llvm::Metadata *parallel[] = {llvm::MDString::get(c, "llvm.loop.parallel_accesses"),
                                  independent};
    llvm::Metadata *loop[] = {nullptr, llvm::MDNode::get(c, parallel)};
    llvm::MDNode *id = llvm::MDNode::getDistinct(c, loop);
    id->replaceOperandWith(0, id);
    latch->setMetadata(llvm::LLVMContext::MD_loop, id);
  }
  b.SetInsertPoint(exit);
}

MergedLoop merge_dims(const Shape &shape, const std::vector<const View *> &views) {
  MergedLoop loop;
  loop.strides.resize(views.size());
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool mergeable = !loop.dims.empty();
    for (size_t v = 0; v < views.size() && mergeable; ++v)
      mergeable = loop.strides[v].back() == views[v]->strides[d] * shape[d];
    if (mergeable) {
      loop.dims.back() *= shape[d];
      for (size_t v = 0; v < views.size(); ++v) loop.strides[v].back() = views[v]->strides[d];
    } else {
      loop.dims.push_back(shape[d]);
      for (size_t v = 0; v < views.size(); ++v) loop.strides[v].push_back(views[v]->strides[d]);
    }
  }
  if (loop.dims.empty()) { // a single element
    loop.dims.push_back(1);
    for (auto &s : loop.strides) s.push_back(0);
  }
  return loop;
}

void emit_box(llvm::IRBuilder<> &b, const std::vector<BoxDim> &dims,
              const std::vector<const View *> &views,
              const std::function<void(const std::vector<V> &)> &at) {
  std::vector<V> offsets;
  for (const View *v : views) offsets.push_back(b.getInt64(uint64_t(v->offset)));
  emit_box_from(b, dims, 0, offsets, at);
}

} // namespace kiln::compiler
