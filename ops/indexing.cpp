// Ops that place values by index or offset: gather (embeddings) and its
// gradient gather_grad, one_hot, and constant padding. Indices are i32 or
// i64; an index outside its range fails the run of gather and one_hot (a
// typo in a label file must not train a wrong model quietly), naming the
// node, the position and the value. gather_grad drops such a row: its
// indices are its gather's, checked there.
#include "ops/indexing.h"

#include "ir/error.h"
#include "kernels/kernel_abi.h"
#include "ops/grad.h"
#include "ops/lowering.h"
#include "ops/op_util.h"

namespace kiln::ops {

namespace {

using compiler::KernelArg;
using compiler::View;

OpDef op(std::string name, int inputs) {
  OpDef def;
  def.name = std::move(name);
  def.min_inputs = def.max_inputs = inputs;
  return def;
}

void check_indices(const TensorType &t) {
  if (!is_int(t.dtype)) fail("indices must be i32 or i64, got {}", to_string(t.dtype));
}

// A fill value for an integer or bool dtype must survive the conversion
// (kernels convert with C++ casts, undefined for an integer that does not fit).
void check_representable(const char *what, double value, DType dtype) {
  if (is_float(dtype)) return;
  Tensor t(dtype, {});
  t.set(0, value);
  if (t.get(0) != value) fail("{} {} is not representable as {}", what, value, to_string(dtype));
}

// The element at flat index k of an integer tensor, exactly.
int64_t index_at(const Tensor &indices, int64_t k) {
  return ops::index_at(indices.raw(), indices.dtype(), k);
}

// Fails for the first index of `indices` outside [0, limit), as the
// compiled kernels report it.
void check_range(const Node &node, const Tensor &indices, int64_t limit) {
  for (int64_t k = 0; k < indices.size(); ++k)
    if (int64_t index = index_at(indices, k); index < 0 || index >= limit)
      fail("{}: {}", node.describe(),
           bad_index_message(index, k, indices.shape(), "its indices", limit));
}

// params [rows, ...] seen as rows of `width` elements.
struct Rows {
  int64_t rows, width;
};
Rows rows_of(const Shape &params) {
  return {params[0], num_elements(Shape(params.begin() + 1, params.end()))};
}

// indices.shape + params.shape[1:].
Shape gathered_shape(const Shape &indices, const Shape &params) {
  if (params.empty()) fail("params must have rank >= 1 (rows to pick), got a scalar");
  Shape out = indices;
  out.insert(out.end(), params.begin() + 1, params.end());
  check_dims(out, /*allow_batch=*/true);
  return out;
}

// gather(params, indices): out[k, ...] = params[indices[k], ...].
OpDef gather_op() {
  OpDef def = op("gather", 2);
  def.infer = [](const Node &, std::span<const TensorType> in) {
    check_indices(in[1]);
    return TensorType{in[0].dtype, gathered_shape(in[1].shape, in[0].shape)};
  };
  def.reference = [](const Node &node, std::span<const Tensor> in, Tensor &out) {
    auto [rows, width] = rows_of(in[0].shape());
    check_range(node, in[1], rows);
    size_t row_bytes = size_t(width) * byte_size(out.dtype());
    auto *dst = static_cast<std::byte *>(out.raw());
    const auto *src = static_cast<const std::byte *>(in[0].raw());
    for (int64_t k = 0; k < in[1].size(); ++k) {
      int64_t index = index_at(in[1], k);
      std::memcpy(dst + size_t(k) * row_bytes, src + size_t(index) * row_bytes, row_bytes);
    }
  };
  def.lower = [](compiler::Lowering &l) {
    auto [rows, width] = rows_of(l.input_type(0).shape);
    int64_t n = num_elements(l.input_type(1).shape);
    int64_t row_bytes = width * int64_t(byte_size(l.output_type().dtype));
    compiler::Buffer first_bad = l.check_indices(1, rows);
    l.call("kiln_gather_" + compiler::kernel_suffix(l.input_type(1).dtype),
           {KernelArg::buf(l.input(0)), KernelArg::buf(l.input(1)), KernelArg::buf(l.output()),
            KernelArg::int64(rows), KernelArg::int64(row_bytes), KernelArg::int64(n),
            KernelArg::buf(first_bad)},
           n, double(width)); // every index checked, even of empty rows
  };
  def.grad = [](const GradContext &c, size_t i) {
    return i == 0 ? apply("gather_grad", {c.dy, c.x(1), c.x(0)}) : Value{};
  };
  return def;
}

// gather_grad(dy, indices, params_like): zeros shaped like params, plus each
// row of dy added at its index (scatter-add); repeated indices accumulate.
OpDef gather_grad_op() {
  OpDef def = op("gather_grad", 3);
  def.infer = [](const Node &, std::span<const TensorType> in) {
    check_indices(in[1]);
    Shape expected = gathered_shape(in[1].shape, in[2].shape);
    if (in[0].shape != expected)
      fail("dy is {}, expected {} (indices {} gathering from {})", to_string(in[0].shape),
           to_string(expected), to_string(in[1].shape), to_string(in[2].shape));
    if (in[0].dtype != in[2].dtype || !is_float(in[0].dtype))
      fail("dy is {} and params_like {}: both must be the same float type", to_string(in[0].dtype),
           to_string(in[2].dtype));
    return in[2];
  };
  // Accumulates in the output's type, in index order, as the kernel does.
  def.reference = [](const Node &, std::span<const Tensor> in, Tensor &out) {
    auto [rows, width] = rows_of(out.shape());
    for (int64_t k = 0; k < in[1].size(); ++k) {
      int64_t index = index_at(in[1], k);
      if (index < 0 || index >= rows) continue;
      for (int64_t c = 0; c < width; ++c)
        out.set(index * width + c, out.get(index * width + c) + in[0].get(k * width + c));
    }
  };
  def.lower = [](compiler::Lowering &l) {
    auto [rows, width] = rows_of(l.output_type().shape);
    int64_t n = num_elements(l.input_type(1).shape);
    l.call("kiln_scatter_add_" + compiler::kernel_suffix(l.output_type().dtype) + "_" +
               compiler::kernel_suffix(l.input_type(1).dtype),
           {KernelArg::buf(l.input(0)), KernelArg::buf(l.input(1)), KernelArg::buf(l.output()),
            KernelArg::int64(rows), KernelArg::int64(width), KernelArg::int64(n)},
           abi::kiln_scatter_tasks(rows, width),
           double(abi::kiln_scatter_task_cost(rows, width, n)));
  };
  def.grad = [](const GradContext &c, size_t i) { return i == 0 ? gather(c.dy, c.x(1)) : Value{}; };
  return def;
}

// one_hot(indices): indices.shape + [depth], `on` where the last index equals
// the index, `off` elsewhere.
OpDef one_hot_op() {
  OpDef def = op("one_hot", 1);
  def.attrs = {{"depth", AttrKind::i, std::nullopt},
               {"dtype", AttrKind::dtype, DType::f32},
               {"on", AttrKind::f, 1.0},
               {"off", AttrKind::f, 0.0}};
  def.infer = [](const Node &node, std::span<const TensorType> in) {
    check_indices(in[0]);
    DType dtype = node.attr_dtype("dtype");
    check_representable("on", node.attr_float("on"), dtype);
    check_representable("off", node.attr_float("off"), dtype);
    Shape out = in[0].shape;
    out.push_back(node.attr_int("depth"));
    check_dims(out, /*allow_batch=*/true);
    if (out.back() < 0) fail("depth must be >= 0, got {}", out.back());
    return TensorType{dtype, out};
  };
  def.reference = [](const Node &node, std::span<const Tensor> in, Tensor &out) {
    int64_t depth = node.attr_int("depth");
    double on = node.attr_float("on"), off = node.attr_float("off");
    check_range(node, in[0], depth);
    for (int64_t k = 0; k < in[0].size(); ++k)
      for (int64_t d = 0; d < depth; ++d)
        out.set(k * depth + d, d == index_at(in[0], k) ? on : off);
  };
  def.lower = [](compiler::Lowering &l) {
    const Node &node = l.node();
    int64_t depth = node.attr_int("depth"), n = num_elements(l.input_type(0).shape);
    compiler::Buffer first_bad = l.check_indices(0, depth);
    l.call("kiln_one_hot_" + compiler::kernel_suffix(l.output_type().dtype) + "_" +
               compiler::kernel_suffix(l.input_type(0).dtype),
           {KernelArg::buf(l.input(0)), KernelArg::buf(l.output()), KernelArg::int64(n),
            KernelArg::int64(depth), KernelArg::int64(abi::kiln_f64_bits(node.attr_float("on"))),
            KernelArg::int64(abi::kiln_f64_bits(node.attr_float("off"))),
            KernelArg::buf(first_bad)},
           n, double(depth));
  };
  return def;
}

} // namespace

int64_t index_at(const void *indices, DType dtype, int64_t k) {
  return dtype == DType::i32 ? static_cast<const int32_t *>(indices)[k]
                             : static_cast<const int64_t *>(indices)[k];
}

std::string bad_index_message(int64_t value, int64_t position, const Shape &shape,
                              std::string_view input, int64_t limit) {
  std::string at;
  if (shape.size() == 1) at = fmt::format(" at row {}", position);
  if (shape.size() > 1) {
    Shape index(shape.size());
    for (size_t d = shape.size(); d-- > 0; position /= shape[d]) index[d] = position % shape[d];
    at = fmt::format(" at {}", int_list(index));
  }
  return fmt::format("index {}{} of {} is outside [0, {})", value, at, input, limit);
}

namespace {

// pad: `pads` holds (before, after) per dim, none negative; the batch dim
// cannot grow, so its pads are 0.
struct PadDim {
  int64_t before, after;
};

std::vector<PadDim> pad_dims(const Node &node, const Shape &in) {
  const std::vector<int64_t> &pads = node.attr_ints("pads");
  if (pads.size() != 2 * in.size())
    fail("pads {} must hold two entries (before, after) per dim of {}", int_list(pads),
         to_string(in));
  std::vector<PadDim> dims;
  for (size_t d = 0; d < in.size(); ++d) {
    PadDim p{pads[2 * d], pads[2 * d + 1]};
    if (p.before < 0 || p.after < 0 || p.before > kMaxElements || p.after > kMaxElements)
      fail("pads {} must be between 0 and 2^48", int_list(pads));
    if (is_batch(in[d]) && (p.before || p.after)) fail("cannot pad the batch dim {}", d);
    dims.push_back(p);
  }
  return dims;
}

// The offset of x's first element inside the padded output.
int64_t interior_offset(const std::vector<PadDim> &dims, const std::vector<int64_t> &strides) {
  int64_t offset = 0;
  for (size_t d = 0; d < dims.size(); ++d) offset += dims[d].before * strides[d];
  return offset;
}

OpDef pad_op() {
  OpDef def = op("pad", 1);
  def.attrs = {{"pads", AttrKind::ints, std::nullopt}, {"value", AttrKind::f, 0.0}};
  def.infer = [](const Node &node, std::span<const TensorType> in) {
    check_representable("value", node.attr_float("value"), in[0].dtype);
    std::vector<PadDim> dims = pad_dims(node, in[0].shape);
    Shape out = in[0].shape;
    for (size_t d = 0; d < out.size(); ++d)
      if (!is_batch(out[d])) out[d] += dims[d].before + dims[d].after;
    check_dims(out, /*allow_batch=*/true);
    return TensorType{in[0].dtype, out};
  };
  def.reference = [](const Node &node, std::span<const Tensor> in, Tensor &out) {
    for (int64_t i = 0; i < out.size(); ++i) out.set(i, node.attr_float("value"));
    std::vector<std::vector<int64_t>> strides = {contiguous_strides(out.shape())};
    int64_t offset = interior_offset(pad_dims(node, in[0].shape()), strides[0]);
    for_each_element(in[0].shape(), strides, [&](int64_t i, std::span<const int64_t> o) {
      out.set(offset + o[0], in[0].get(i));
    });
  };
  // The border as 2 * rank disjoint slabs (slab d: dims before d inside x,
  // dim d in its before or after pad, dims after d whole), then x copied in.
  def.lower = [](compiler::Lowering &l) {
    const TensorType &t = l.output_type();
    const Shape &in = l.input_type(0).shape;
    std::vector<PadDim> dims = pad_dims(l.node(), in);
    std::vector<int64_t> strides = contiguous_strides(t.shape);
    auto fill = [&](const Shape &slab, int64_t offset) {
      if (num_elements(slab) > 0)
        l.fill(t.dtype, slab, View{l.output(), offset, strides}, l.node().attr_float("value"));
    };
    Shape slab = t.shape;
    int64_t offset = 0;
    for (size_t d = 0; d < in.size(); ++d) {
      slab[d] = dims[d].before;
      fill(slab, offset);
      slab[d] = dims[d].after;
      fill(slab, offset + (dims[d].before + in[d]) * strides[d]);
      slab[d] = in[d];
      offset += dims[d].before * strides[d];
    }
    l.copy(t.dtype, in, View{l.output(), offset, strides}, compiler::contiguous(l.input(0), in));
  };
  def.grad = [](const GradContext &c, size_t) {
    Shape in = c.x(0).shape();
    std::vector<PadDim> dims = pad_dims(c.node(), in);
    std::vector<int64_t> begin, end;
    for (size_t d = 0; d < in.size(); ++d) {
      begin.push_back(dims[d].before);
      end.push_back(is_batch(in[d]) ? to_end : dims[d].before + in[d]);
    }
    return slice(c.dy, begin, end);
  };
  return def;
}

} // namespace

void register_indexing_ops(OpRegistry &registry) {
  registry.add(gather_op());
  registry.add(gather_grad_op());
  registry.add(one_hot_op());
  registry.add(pad_op());
}

} // namespace kiln::ops
