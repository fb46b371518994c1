#include "compiler/elementwise.h"

#include "compiler/llvm_scalar_builder.h"
#include "compiler/llvm_types.h"
#include "compiler/loops.h"
#include "ir/error.h"
#include "ops/fusion.h"

namespace kiln::compiler {

namespace {

using V = llvm::Value *;

// A view's offset at `row` of a merged loop: the row index decomposed over
// the outer dims (all but the innermost), from `offset`.
V row_offset(llvm::IRBuilder<> &b, V row, const MergedLoop &loop, size_t view, V offset) {
  V rest = row;
  for (size_t d = loop.dims.size() - 1; d-- > 0;) {
    V index = d == 0 ? rest : b.CreateURem(rest, b.getInt64(uint64_t(loop.dims[d])));
    if (d > 0) rest = b.CreateUDiv(rest, b.getInt64(uint64_t(loop.dims[d])));
    offset = b.CreateAdd(offset, b.CreateMul(index, b.getInt64(uint64_t(loop.strides[view][d]))));
  }
  return offset;
}

} // namespace

// Tasks are (outer index, chunk of the innermost dim) pairs, so large 1-D
// loops still split across threads.
void emit_loop(ModuleEmitter &e, const Shape &shape, const std::vector<Store> &dsts,
               const std::vector<Operand> &srcs, const LoopBody &body) {
  if (num_elements(shape) == 0) return;
  std::vector<const View *> views;
  for (const Store &d : dsts) views.push_back(&d.view);
  for (const Operand &s : srcs)
    if (s.loaded()) views.push_back(&s.view);
  MergedLoop loop = merge_dims(shape, views);
  int64_t inner = loop.dims.back();
  int64_t chunk = inner <= 16384 ? inner : 8192;
  int64_t chunks = (inner + chunk - 1) / chunk;
  int64_t outer = num_elements(loop.dims) / inner;

  llvm::LLVMContext &c = e.context();
  llvm::IRBuilder<> b(c);
  llvm::Function *fn = e.begin_kernel(b, outer * chunks, double(chunk));
  std::vector<V> bases;
  for (const View *v : views) bases.push_back(e.buffer_pointer(b, fn, v->buffer));

  emit_for(b, fn->getArg(1), fn->getArg(2), [&](V task) {
    V row = chunks == 1 ? task : b.CreateUDiv(task, b.getInt64(uint64_t(chunks)));
    V j0 = chunks == 1 ? b.getInt64(0)
                       : b.CreateMul(b.CreateURem(task, b.getInt64(uint64_t(chunks))),
                                     b.getInt64(uint64_t(chunk)));
    V j1 = chunks == 1 ? b.getInt64(uint64_t(inner))
                       : b.CreateBinaryIntrinsic(llvm::Intrinsic::smin,
                                                 b.CreateAdd(j0, b.getInt64(uint64_t(chunk))),
                                                 b.getInt64(uint64_t(inner)));
    std::vector<V> offsets;
    for (size_t v = 0; v < views.size(); ++v)
      offsets.push_back(row_offset(b, row, loop, v, b.getInt64(uint64_t(views[v]->offset))));
    // Every element is computed from the same index of its operands, so
    // iterations are independent even where the planner has the output
    // overwrite a dying input: the vectorizer needs no overlap check.
    llvm::MDNode *independent = llvm::MDNode::getDistinct(c, {});
    emit_for(
        b, j0, j1,
        [&](V j) {
          auto address = [&](size_t v, DType t) {
            V at = b.CreateAdd(offsets[v],
                               b.CreateMul(j, b.getInt64(uint64_t(loop.strides[v].back()))));
            return b.CreateInBoundsGEP(memory_type(c, t), bases[v], at);
          };
          size_t v = dsts.size();
          std::vector<V> values = load_operands(
              b, srcs, [&](size_t k) { return address(v++, srcs[k].dtype); }, independent);
          std::vector<V> results = body(b, values);
          for (size_t d = 0; d < dsts.size(); ++d) {
            V result = results[d];
            if (dsts[d].dtype == DType::boolean) result = b.CreateZExt(result, b.getInt8Ty());
            b.CreateStore(result, address(d, dsts[d].dtype))
                ->setMetadata(llvm::LLVMContext::MD_access_group, independent);
          }
        },
        independent);
  });
  b.CreateRetVoid();
}

// A task per piece and row of the merged loop: the piece's source is the
// args slot after the first source's by its index, its destination `step`
// elements past the one before.
void emit_piece_copies(ModuleEmitter &e, DType type, const Shape &shape, const View &dst,
                       int64_t step, const std::vector<Buffer> &srcs) {
  if (num_elements(shape) == 0 || srcs.empty()) return;
  View first = contiguous(srcs[0], shape);
  MergedLoop loop = merge_dims(shape, {&dst, &first});
  int64_t inner = loop.dims.back(), rows = num_elements(loop.dims) / inner;
  llvm::LLVMContext &c = e.context();
  llvm::IRBuilder<> b(c);
  llvm::Function *fn = e.begin_kernel(b, rows * int64_t(srcs.size()), double(inner));
  V to = e.buffer_pointer(b, fn, dst.buffer);
  for (Buffer src : srcs) e.buffer_pointer(b, fn, src); // slots 1, 2, ... in order
  llvm::Type *element = memory_type(c, type);
  llvm::MDNode *independent = llvm::MDNode::getDistinct(c, {});
  emit_for(b, fn->getArg(1), fn->getArg(2), [&](V task) {
    V piece = b.CreateUDiv(task, b.getInt64(uint64_t(rows)));
    V row = b.CreateURem(task, b.getInt64(uint64_t(rows)));
    V slot = b.CreateInBoundsGEP(b.getPtrTy(), fn->getArg(0), b.CreateAdd(piece, b.getInt64(1)));
    V from = b.CreateLoad(b.getPtrTy(), slot);
    V at = b.CreateAdd(b.getInt64(uint64_t(dst.offset)),
                       b.CreateMul(piece, b.getInt64(uint64_t(step))));
    V to_row = row_offset(b, row, loop, 0, at);
    V from_row = row_offset(b, row, loop, 1, b.getInt64(0));
    emit_for(
        b, b.getInt64(0), b.getInt64(uint64_t(inner)),
        [&](V j) {
          auto address = [&](V base, V offset, size_t view) {
            V stride = b.getInt64(uint64_t(loop.strides[view].back()));
            return b.CreateInBoundsGEP(element, base, b.CreateAdd(offset, b.CreateMul(j, stride)));
          };
          llvm::LoadInst *x = b.CreateLoad(element, address(from, from_row, 1));
          x->setMetadata(llvm::LLVMContext::MD_access_group, independent);
          b.CreateStore(x, address(to, to_row, 0))
              ->setMetadata(llvm::LLVMContext::MD_access_group, independent);
        },
        independent);
  });
  b.CreateRetVoid();
}

std::vector<V> evaluate(llvm::IRBuilder<> &b, llvm::Module &m, const Graph &body,
                        std::span<V const> inputs, NodeId known, V known_value) {
  std::vector<V> values(body.size());
  // A body has one parameter per fused input (ops/fusion.cpp checks it).
  size_t next_view =
      size_t(std::count_if(body.nodes().begin(), body.nodes().end(),
                           [](const Node &n) { return n.op->source != Source::none; }));
  for (const Node &n : body.nodes()) {
    if (n.id == known) {
      values[size_t(n.id)] = known_value;
    } else if (ops::is_view_member(n)) {
      values[size_t(n.id)] = inputs[next_view++];
    } else if (n.op->source == Source::none && !n.op->scalar) {
      continue; // a reduction, run by its kernel
    } else if (n.op->source != Source::none) {
      values[size_t(n.id)] = inputs[size_t(n.attr_int("index"))];
    } else {
      std::vector<V> args;
      for (NodeId in : n.inputs) args.push_back(values[size_t(in)]);
      LlvmScalarBuilder sb(b, m, n);
      values[size_t(n.id)] = n.op->scalar(sb, args);
      // Later members read the variable as updated (graph order).
      if (n.op->updates_variable) values[size_t(n.inputs[0])] = values[size_t(n.id)];
    }
  }
  return values;
}

void emit_elementwise(ModuleEmitter &e) {
  const TensorType &out = e.output_type();
  emit_loop(e, out.shape, {{contiguous(e.output(), out.shape), out.dtype}}, e.operands(out.shape),
            [&](llvm::IRBuilder<> &b, std::span<V const> v) {
              LlvmScalarBuilder sb(b, e.module(), e.node());
              return std::vector<V>{e.node().op->scalar(sb, v)};
            });
}

void emit_fused_elementwise(ModuleEmitter &e, const Graph &body) {
  const Node &node = e.node();
  const TensorType &out = e.output_type();
  // The last member goes to the output; a member that updates a variable
  // also to the buffer it updates (the input its parameter stands for, or
  // the buffer of the member it follows), unless that is the output's: a
  // fused update's output is its input 0, and the last store must win.
  std::vector<Store> stores = {{contiguous(e.output(), out.shape), out.dtype}};
  std::vector<NodeId> stored = {NodeId(body.size() - 1)};
  std::vector<Buffer> updated(body.size());
  for (const Node &n : body.nodes()) {
    if (n.op->source != Source::none) {
      updated[size_t(n.id)] = e.input(size_t(n.attr_int("index")));
      continue;
    }
    if (!n.op->updates_variable) continue;
    updated[size_t(n.id)] = updated[size_t(n.inputs[0])];
    Buffer target = updated[size_t(n.id)];
    if (n.id == stored[0] || (node.op->updates_variable && target.index == e.input(0).index))
      continue;
    if (n.type.shape.size() != out.shape.size())
      fail("{}: member {} updates a variable of another shape than the output's", node.describe(),
           n.describe());
    stores.push_back({contiguous(target, out.shape), n.type.dtype});
    stored.push_back(n.id);
  }
  emit_loop(e, out.shape, stores, e.operands(out.shape, &body),
            [&](llvm::IRBuilder<> &b, std::span<V const> inputs) {
              std::vector<V> values = evaluate(b, e.module(), body, inputs), results;
              for (NodeId id : stored) results.push_back(values[size_t(id)]);
              return results;
            });
}

} // namespace kiln::compiler
