#include "compiler/epilogue_fusion.h"

#include "compiler/elementwise.h"
#include "compiler/llvm_types.h"
#include "compiler/loops.h"
#include "ir/error.h"
#include "kernels/kernel_abi.h"

namespace kiln::compiler {

namespace {

using V = llvm::Value *;

// The box of the output of `shape` that task `task` of a call writes.
std::vector<BoxDim> task_dims(llvm::IRBuilder<> &b, V task, TaskBox box, const Shape &shape,
                              const std::vector<const View *> &views) {
  auto strides_of = [&](size_t d) {
    std::vector<int64_t> s;
    for (const View *v : views) s.push_back(v->strides[d]);
    return s;
  };
  auto constant = [&](int64_t x) { return b.getInt64(uint64_t(x)); };
  auto upto = [&](V lo, int64_t step, int64_t end) {
    return b.CreateBinaryIntrinsic(llvm::Intrinsic::smin, b.CreateAdd(lo, constant(step)),
                                   constant(end));
  };
  if (box.kind == TaskBox::Kind::matmul_tiles) {
    int64_t m = shape[0], n = shape[1], blocks = abi::kiln_matmul_m_blocks(m);
    V m0 = b.CreateMul(b.CreateURem(task, constant(blocks)), constant(abi::kMatmulTileM));
    V n0 = b.CreateMul(b.CreateUDiv(task, constant(blocks)), constant(abi::kMatmulTileN));
    return {{m0, upto(m0, abi::kMatmulTileM, m), strides_of(0)},
            {n0, upto(n0, abi::kMatmulTileN, n), strides_of(1)}};
  }
  V r0 = b.CreateMul(task, constant(box.rows));
  std::vector<BoxDim> dims = {{r0, upto(r0, box.rows, shape[0]), strides_of(0)}};
  // The rest of each row whole, its dims merged where every view allows.
  std::vector<View> tails;
  for (const View *v : views)
    tails.push_back({v->buffer, 0, {v->strides.begin() + 1, v->strides.end()}});
  std::vector<const View *> tail_views;
  for (const View &t : tails) tail_views.push_back(&t);
  MergedLoop rest = merge_dims(Shape(shape.begin() + 1, shape.end()), tail_views);
  for (size_t d = 0; d < rest.dims.size(); ++d) {
    std::vector<int64_t> s;
    for (const auto &view_strides : rest.strides) s.push_back(view_strides[d]);
    dims.push_back({constant(0), constant(rest.dims[d]), s});
  }
  return dims;
}

} // namespace

void emit_epilogue(ModuleEmitter &e, const Graph &body, const Node &anchor) {
  LoweredAnchor lowered = e.lower_anchor(anchor, body);
  if (!lowered.call || !lowered.box)
    fail("internal error: {} did not declare the call and task box an epilogue needs",
         anchor.describe());
  const PendingCall &call = *lowered.call;
  if (call.num_tasks == 0) return;
  const TensorType &out = e.output_type();
  // The epilogue's operands: the inputs its members read (not the anchor's).
  std::vector<Operand> operands = e.operands(out.shape, &body, &anchor);
  View dst = contiguous(e.output(), out.shape);
  std::vector<const View *> views = {&dst};
  for (const Operand &o : operands)
    if (o.loaded()) views.push_back(&o.view);

  llvm::LLVMContext &c = e.context();
  llvm::IRBuilder<> b(c);
  llvm::Function *fn = e.begin_kernel(b, call.num_tasks, call.task_cost);
  std::vector<V> bases;
  for (const View *v : views) bases.push_back(e.buffer_pointer(b, fn, v->buffer));
  emit_for(b, fn->getArg(1), fn->getArg(2), [&](V task) {
    e.emit_call(b, fn, call.function, call.args, task, b.CreateAdd(task, b.getInt64(1)));
    emit_box(b, task_dims(b, task, *lowered.box, out.shape, views), views,
             [&](const std::vector<V> &at) {
               auto address = [&](size_t v, DType t) {
                 return b.CreateInBoundsGEP(memory_type(c, t), bases[v], at[v]);
               };
               size_t v = 1;
               std::vector<V> inputs = load_operands(
                   b, operands, [&](size_t k) { return address(v++, operands[k].dtype); });
               V anchor_value = b.CreateLoad(memory_type(c, out.dtype), address(0, out.dtype));
               V result = evaluate(b, e.module(), body, inputs, anchor.id, anchor_value).back();
               b.CreateStore(result, address(0, out.dtype));
             });
  });
  b.CreateRetVoid();
}

} // namespace kiln::compiler
