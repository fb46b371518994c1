#include "compiler/epilogue_fusion.h"

#include "compiler/elementwise.h"
#include "compiler/llvm_types.h"
#include "compiler/loops.h"
#include "ir/error.h"
#include "kernels/kernel_abi.h"

namespace kiln::compiler {

namespace {

using V = llvm::Value *;

// Dims [from, to) of the output whole, merged where every view allows.
std::vector<BoxDim> whole_dims(llvm::IRBuilder<> &b, const Shape &shape, size_t from, size_t to,
                               const std::vector<const View *> &views) {
  std::vector<View> parts;
  for (const View *v : views)
    parts.push_back(
        {v->buffer, 0, {v->strides.begin() + long(from), v->strides.begin() + long(to)}});
  std::vector<const View *> part_views;
  for (const View &p : parts) part_views.push_back(&p);
  MergedLoop merged =
      merge_dims(Shape(shape.begin() + long(from), shape.begin() + long(to)), part_views);
  std::vector<BoxDim> dims;
  for (size_t d = 0; d < merged.dims.size(); ++d) {
    std::vector<int64_t> s;
    for (const auto &view_strides : merged.strides) s.push_back(view_strides[d]);
    dims.push_back({b.getInt64(0), b.getInt64(uint64_t(merged.dims[d])), s});
  }
  return dims;
}

// Calls at(offsets) for every element of the output of `shape` that task
// `task` of a call writes.
void emit_task_box(llvm::IRBuilder<> &b, V task, TaskBox box, const Shape &shape,
                   const std::vector<const View *> &views,
                   const std::function<void(const std::vector<V> &)> &at) {
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
  auto one = [&](V i, size_t d) { return BoxDim{i, b.CreateAdd(i, constant(1)), strides_of(d)}; };
  auto with_rest = [&](std::vector<BoxDim> dims, size_t from) {
    for (BoxDim &d : whole_dims(b, shape, from, shape.size(), views)) dims.push_back(std::move(d));
    return dims;
  };
  switch (box.kind) {
  case TaskBox::Kind::leading_rows: {
    V r0 = b.CreateMul(task, constant(box.rows));
    return emit_box(b, with_rest({{r0, upto(r0, box.rows, shape[0]), strides_of(0)}}, 1), views,
                    at);
  }
  case TaskBox::Kind::planes: {
    V planes = constant(shape[1]);
    return emit_box(
        b, with_rest({one(b.CreateUDiv(task, planes), 0), one(b.CreateURem(task, planes), 1)}, 2),
        views, at);
  }
  case TaskBox::Kind::matrix_tiles: {
    const size_t first = box.first_row_dim, row_dim = box.row_dim;
    int64_t m = num_elements(Shape(shape.begin() + long(first), shape.begin() + long(row_dim) + 1)),
            n = num_elements(Shape(shape.begin() + long(row_dim) + 1, shape.end()));
    int64_t blocks = abi::kiln_matmul_m_blocks(m), tiles = blocks * abi::kiln_matmul_n_blocks(m, n);
    int64_t width = abi::kiln_matmul_tile_n(m, n);
    V rest = first == 0 ? task : b.CreateURem(task, constant(tiles));
    V m0 = b.CreateMul(b.CreateURem(rest, constant(blocks)), constant(abi::kMatmulTileM));
    V n0 = b.CreateMul(b.CreateUDiv(rest, constant(blocks)), constant(width));
    V m1 = upto(m0, abi::kMatmulTileM, m), n1 = upto(n0, width, n);
    // Index `i` over dims [lo, hi] as one index of each, the last fastest.
    auto split = [&](V i, size_t lo, size_t hi, std::vector<BoxDim> &dims) {
      for (size_t d = hi + 1; d-- > lo;) {
        V extent = constant(shape[d]);
        dims.push_back(one(d == lo ? i : b.CreateURem(i, extent), d));
        if (d > lo) i = b.CreateUDiv(i, extent);
      }
    };
    std::vector<BoxDim> dims; // the task's matrix among the leading dims
    if (first > 0) split(b.CreateUDiv(task, constant(tiles)), 0, first - 1, dims);
    std::vector<BoxDim> rows = whole_dims(b, shape, first, row_dim + 1, views);
    std::vector<BoxDim> columns = whole_dims(b, shape, row_dim + 1, shape.size(), views);
    if (rows.size() > 1) { // rows over dims some view does not walk as one: one at a time
      if (columns.size() != 1)
        fail("internal error: tiles over {} columns that do not merge", to_string(shape));
      return emit_for(b, m0, m1, [&](V r) {
        std::vector<BoxDim> row = dims;
        split(r, first, row_dim, row);
        row.push_back({n0, n1, columns[0].strides});
        emit_box(b, row, views, at);
      });
    }
    dims.push_back({m0, m1, rows[0].strides});
    if (columns.size() == 1) { // one dim, or dims every view walks as one
      dims.push_back({n0, n1, columns[0].strides});
      return emit_box(b, dims, views, at);
    }
    // A convolution's [N, C, H, W] with a view that does not walk H and W as
    // one: the columns [n0, n1) row by row, each row's part of [0, W).
    if (shape.size() != row_dim + 3)
      fail("internal error: tiles over {} columns that do not merge", to_string(shape));
    V w = constant(shape[row_dim + 2]);
    V last_row = b.CreateUDiv(b.CreateSub(n1, constant(1)), w);
    emit_for(b, b.CreateUDiv(n0, w), b.CreateAdd(last_row, constant(1)), [&](V h) {
      V row_start = b.CreateMul(h, w);
      V lo =
          b.CreateBinaryIntrinsic(llvm::Intrinsic::smax, b.CreateSub(n0, row_start), constant(0));
      V hi = b.CreateBinaryIntrinsic(llvm::Intrinsic::smin, b.CreateSub(n1, row_start), w);
      std::vector<BoxDim> row = dims;
      row.push_back(one(h, row_dim + 1));
      row.push_back({lo, hi, strides_of(row_dim + 2)});
      emit_box(b, row, views, at);
    });
    return;
  }
  }
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
    emit_task_box(b, task, *lowered.box, out.shape, views, [&](const std::vector<V> &at) {
      auto address = [&](size_t v, DType t) {
        return b.CreateInBoundsGEP(memory_type(c, t), bases[v], at[v]);
      };
      size_t v = 1;
      std::vector<V> inputs =
          load_operands(b, operands, [&](size_t k) { return address(v++, operands[k].dtype); });
      V anchor_value = b.CreateLoad(memory_type(c, out.dtype), address(0, out.dtype));
      V result = evaluate(b, e.module(), body, inputs, anchor.id, anchor_value).back();
      b.CreateStore(result, address(0, out.dtype));
    });
  });
  b.CreateRetVoid();
}

} // namespace kiln::compiler
