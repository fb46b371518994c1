// Data movement: reshape, flatten, transpose, concat, slice, broadcast_to,
// and the gradient helpers slice_grad and broadcast_like. Each lowers to
// strided copies; the reference kernels index explicitly.
#include "ops/shape_ops.h"

#include "ir/error.h"
#include "ops/grad.h"
#include "ops/lowering.h"
#include "ops/op_util.h"

#include <algorithm>
#include <limits>
#include <numeric>

namespace kiln::ops {

namespace {

using compiler::View;

// Same elements, new shape: reference and lowering are plain copies, which
// do nothing where the memory plan gives the output its input's storage.
void set_contiguous_copy(OpDef &def) {
  def.output_reuses_input = true;
  def.reference = [](const Node &, std::span<const Tensor> in, Tensor &out) {
    std::memcpy(out.raw(), in[0].raw(), in[0].bytes());
  };
  def.grad = [](const GradContext &c, size_t) { return reshape(c.dy, c.x(0).shape()); };
  def.lower = [](compiler::Lowering &l) {
    const TensorType &t = l.output_type();
    l.copy(t.dtype, t.shape, compiler::contiguous(l.output(), t.shape),
           compiler::contiguous(l.input(0), t.shape));
  };
}

// reshape: `shape` may hold one -1, inferred from the element count. A tensor
// with the symbolic batch dim keeps it: the -1 must stand for exactly it.
Shape reshape_shape(const Shape &in, const std::vector<int64_t> &target) {
  auto unknown = std::count(target.begin(), target.end(), -1);
  if (unknown > 1) fail("shape {} has more than one -1", int_list(target));
  int64_t known = 1;
  for (int64_t d : target) {
    if (d < -1) fail("shape {} has a negative dim", int_list(target));
    // Overflow-checked: a hand-written shape may hold any int64.
    if (d != -1 && (__builtin_mul_overflow(known, d, &known) || known > kMaxElements))
      fail("shape {} has too many elements", int_list(target));
  }
  Shape out = target;
  auto infer_at = std::find(out.begin(), out.end(), -1);
  if (has_batch(in)) {
    int64_t rest = 1;
    for (int64_t d : in) rest *= is_batch(d) ? 1 : d;
    if (std::count(in.begin(), in.end(), batch) > 1 || unknown == 0 || rest != known)
      fail("cannot reshape {} to {}: -1 must stand for the batch dim exactly", to_string(in),
           int_list(target));
    return out; // the -1 is kiln::batch
  }
  int64_t total = num_elements(in);
  if (unknown) {
    if (known == 0 || total % known != 0)
      fail("cannot reshape {} ({} elements) to {}", to_string(in), total, int_list(target));
    *infer_at = total / known;
  } else if (known != total) {
    fail("cannot reshape {} ({} elements) to {}", to_string(in), total, int_list(target));
  }
  return out;
}

OpDef reshape_op() {
  OpDef def = fixed_arity_op("reshape", 1, {{"shape", AttrKind::ints, std::nullopt}});
  def.infer = [](const Node &node, std::span<const TensorType> in) {
    return TensorType{in[0].dtype, reshape_shape(in[0].shape, node.attr_ints("shape"))};
  };
  set_contiguous_copy(def);
  return def;
}

// flatten: dims before `axis` stay, the rest become one.
OpDef flatten_op() {
  OpDef def = fixed_arity_op("flatten", 1, {{"axis", AttrKind::i, int64_t{1}}});
  def.infer = [](const Node &node, std::span<const TensorType> in) {
    const Shape &s = in[0].shape;
    int64_t rank = static_cast<int64_t>(s.size());
    int64_t axis = node.attr_int("axis");
    if (axis < 0 || axis > rank) fail("axis {} is out of range for rank {}", axis, rank);
    Shape out(s.begin(), s.begin() + axis);
    int64_t rest = 1;
    for (int64_t d = axis; d < rank; ++d) {
      if (is_batch(s[static_cast<size_t>(d)])) fail("cannot flatten the batch dim into others");
      rest *= s[static_cast<size_t>(d)];
    }
    out.push_back(rest);
    return TensorType{in[0].dtype, out};
  };
  set_contiguous_copy(def);
  return def;
}

std::vector<int64_t> transpose_perm(const Node &node, size_t rank) {
  std::vector<int64_t> perm = node.attr_ints("perm");
  if (perm.empty()) {
    perm.resize(rank);
    std::iota(perm.rbegin(), perm.rend(), 0);
  }
  std::vector<int64_t> sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> identity(rank);
  std::iota(identity.begin(), identity.end(), 0);
  if (sorted != identity) fail("perm {} is not a permutation of {} axes", int_list(perm), rank);
  return perm;
}

OpDef transpose_op() {
  OpDef def = fixed_arity_op("transpose", 1, {{"perm", AttrKind::ints, std::vector<int64_t>{}}});
  def.infer = [](const Node &node, std::span<const TensorType> in) {
    Shape out;
    for (int64_t p : transpose_perm(node, in[0].shape.size()))
      out.push_back(in[0].shape[static_cast<size_t>(p)]);
    return TensorType{in[0].dtype, out};
  };
  // out[i0, i1, ...] = in at strides permuted: one view serves both.
  auto permuted_strides = [](const Node &node, const Shape &in) {
    std::vector<int64_t> in_strides = contiguous_strides(in), strides;
    for (int64_t p : transpose_perm(node, in.size()))
      strides.push_back(in_strides[static_cast<size_t>(p)]);
    return strides;
  };
  def.reference = [permuted_strides](const Node &node, std::span<const Tensor> in, Tensor &out) {
    std::vector<std::vector<int64_t>> strides = {permuted_strides(node, in[0].shape())};
    for_each_element(out.shape(), strides,
                     [&](int64_t i, std::span<const int64_t> o) { out.set(i, in[0].get(o[0])); });
  };
  def.lower = [permuted_strides](compiler::Lowering &l) {
    const TensorType &t = l.output_type();
    l.copy(t.dtype, t.shape, compiler::contiguous(l.output(), t.shape),
           View{l.input(0), 0, permuted_strides(l.node(), l.input_type(0).shape)});
  };
  def.grad = [](const GradContext &c, size_t) {
    std::vector<int64_t> perm = transpose_perm(c.node(), size_t(c.x(0).rank())),
                         inverse(perm.size());
    for (size_t d = 0; d < perm.size(); ++d) inverse[size_t(perm[d])] = int64_t(d);
    return transpose(c.dy, inverse);
  };
  return def;
}

// Inputs of one shape, each its own buffer and not the output's: one kernel
// copies them all (Lowering::copy_pieces).
bool equal_distinct_pieces(const compiler::Lowering &l, std::vector<compiler::Buffer> pieces) {
  for (size_t i = 1; i < pieces.size(); ++i)
    if (l.input_type(i).shape != l.input_type(0).shape) return false;
  pieces.push_back(l.output());
  std::sort(pieces.begin(), pieces.end(),
            [](compiler::Buffer a, compiler::Buffer b) { return a.index < b.index; });
  return pieces.size() > 2 && std::adjacent_find(pieces.begin(), pieces.end(),
                                                 [](compiler::Buffer a, compiler::Buffer b) {
                                                   return a.index == b.index;
                                                 }) == pieces.end();
}

OpDef concat_op() {
  OpDef def = fixed_arity_op("concat", 1, {{"axis", AttrKind::i, int64_t{0}}});
  def.max_inputs = -1;
  def.infer = [](const Node &node, std::span<const TensorType> in) {
    DType t = check_same_dtype(in, DTypes::any);
    Shape out = in[0].shape;
    auto axis = static_cast<size_t>(
        normalize_axis(node.attr_int("axis"), static_cast<int64_t>(out.size()), "concat"));
    if (is_batch(out[axis])) fail("cannot concatenate along the batch dim");
    for (size_t i = 1; i < in.size(); ++i) {
      Shape s = in[i].shape;
      if (s.size() != out.size() || is_batch(s[axis]))
        fail("input {} has shape {}, incompatible with input 0's {}", i, to_string(s),
             to_string(in[0].shape));
      int64_t along = s[axis];
      s[axis] = out[axis];
      if (s != out)
        fail("input {} has shape {}, incompatible with input 0's {}", i, to_string(in[i].shape),
             to_string(in[0].shape));
      out[axis] += along;
    }
    return TensorType{t, out};
  };
  def.reference = [](const Node &node, std::span<const Tensor> in, Tensor &out) {
    AxisSplit o = split_at_axis(out.shape(), node.attr_int("axis"), node.describe());
    int64_t start = 0;
    for (const Tensor &t : in) {
      AxisSplit s = split_at_axis(t.shape(), node.attr_int("axis"), node.describe());
      for (int64_t a = 0; a < s.outer; ++a)
        for (int64_t b = 0; b < s.axis * s.inner; ++b)
          out.set((a * o.axis + start) * o.inner + b, t.get(a * s.axis * s.inner + b));
      start += s.axis;
    }
  };
  def.lower = [](compiler::Lowering &l) {
    const TensorType &out = l.output_type();
    auto axis = static_cast<size_t>(normalize_axis(
        l.node().attr_int("axis"), static_cast<int64_t>(out.shape.size()), "concat"));
    View dst = compiler::contiguous(l.output(), out.shape);
    const std::vector<NodeId> &inputs = l.node().inputs;
    std::vector<compiler::Buffer> pieces;
    for (size_t i = 0; i < inputs.size(); ++i) pieces.push_back(l.input(i));
    if (equal_distinct_pieces(l, pieces)) {
      const Shape &s = l.input_type(0).shape;
      l.copy_pieces(out.dtype, s, dst, s[axis] * dst.strides[axis], pieces);
      return;
    }
    for (size_t i = 0; i < inputs.size(); ++i) {
      const Shape &s = l.input_type(i).shape;
      l.copy(out.dtype, s, dst, compiler::contiguous(l.input(i), s));
      dst.offset += s[axis] * dst.strides[axis];
    }
  };
  def.grad = [](const GradContext &c, size_t i) {
    int64_t rank = c.dy.rank();
    auto axis = size_t(normalize_axis(c.node().attr_int("axis"), rank, "concat"));
    int64_t start = 0;
    for (size_t k = 0; k < i; ++k) start += c.x(k).shape()[axis];
    std::vector<int64_t> begin(axis + 1, 0), end(axis + 1, to_end);
    begin[axis] = start;
    end[axis] = start + c.x(i).shape()[axis];
    return slice(c.dy, begin, end);
  };
  return def;
}

// slice: Python semantics per dim: begin/end may be negative (from the end)
// and are clamped; steps are positive. Missing trailing dims are whole.
struct SliceDim {
  int64_t begin, size, step;
};

std::vector<SliceDim> slice_dims(const Node &node, const Shape &in) {
  const auto &begin = node.attr_ints("begin"), &end = node.attr_ints("end");
  std::vector<int64_t> steps = node.attr_ints("steps");
  if (begin.size() != end.size() || begin.size() > in.size() ||
      (!steps.empty() && steps.size() != begin.size()))
    fail("begin {}, end {} and steps {} must have one entry per sliced dim (rank {})",
         int_list(begin), int_list(end), int_list(steps), in.size());
  std::vector<SliceDim> dims;
  for (size_t d = 0; d < in.size(); ++d) {
    if (d >= begin.size()) {
      dims.push_back({0, in[d], 1});
      continue;
    }
    int64_t step = steps.empty() ? 1 : steps[d];
    if (step < 1) fail("step {} of dim {} must be positive", step, d);
    if (is_batch(in[d])) {
      if (begin[d] != 0 || end[d] < std::numeric_limits<int64_t>::max() || step != 1)
        fail("the batch dim {} can only be sliced whole", d);
      dims.push_back({0, batch, 1});
      continue;
    }
    auto clamp = [&](int64_t i) { return std::clamp(i < 0 ? i + in[d] : i, int64_t{0}, in[d]); };
    int64_t b = clamp(begin[d]), e = clamp(end[d]);
    dims.push_back({b, e > b ? (e - b - 1) / step + 1 : 0, step});
  }
  return dims;
}

InputView slice_view(const Node &node, const Shape &in) {
  InputView v{0, contiguous_strides(in)};
  std::vector<SliceDim> dims = slice_dims(node, in);
  for (size_t d = 0; d < in.size(); ++d) {
    v.offset += dims[d].begin * v.strides[d];
    v.strides[d] *= dims[d].step;
  }
  return v;
}

View slice_source(const Node &node, compiler::Buffer buffer, const Shape &in) {
  InputView v = slice_view(node, in);
  return {buffer, v.offset, std::move(v.strides)};
}

OpDef slice_op() {
  OpDef def = fixed_arity_op("slice", 1,
                             {{"begin", AttrKind::ints, std::nullopt},
                              {"end", AttrKind::ints, std::nullopt},
                              {"steps", AttrKind::ints, std::vector<int64_t>{}}});
  def.infer = [](const Node &node, std::span<const TensorType> in) {
    Shape out;
    for (const SliceDim &d : slice_dims(node, in[0].shape)) out.push_back(d.size);
    return TensorType{in[0].dtype, out};
  };
  def.reference = [](const Node &node, std::span<const Tensor> in, Tensor &out) {
    View v = slice_source(node, {}, in[0].shape());
    std::vector<std::vector<int64_t>> strides = {v.strides};
    for_each_element(out.shape(), strides, [&](int64_t i, std::span<const int64_t> o) {
      out.set(i, in[0].get(v.offset + o[0]));
    });
  };
  def.lower = [](compiler::Lowering &l) {
    const TensorType &t = l.output_type();
    l.copy(t.dtype, t.shape, compiler::contiguous(l.output(), t.shape),
           slice_source(l.node(), l.input(0), l.input_type(0).shape));
  };
  def.input_view = slice_view;
  def.grad = [](const GradContext &c, size_t) {
    const Node &n = c.node();
    Attrs attrs = {{"begin", n.attr("begin")}, {"end", n.attr("end")}, {"steps", n.attr("steps")}};
    return apply("slice_grad", {c.dy, c.x(0)}, std::move(attrs));
  };
  return def;
}

// slice_grad(dy, like): zeros shaped like `like`, with dy placed where
// slice(like, begin, end, steps) reads: the gradient of slice.
OpDef slice_grad_op() {
  OpDef def = fixed_arity_op("slice_grad", 2,
                             {{"begin", AttrKind::ints, std::nullopt},
                              {"end", AttrKind::ints, std::nullopt},
                              {"steps", AttrKind::ints, std::vector<int64_t>{}}});
  def.infer = [](const Node &node, std::span<const TensorType> in) {
    Shape sliced;
    for (const SliceDim &d : slice_dims(node, in[1].shape)) sliced.push_back(d.size);
    if (in[0].shape != sliced)
      fail("dy is {}, expected {} (the slice of {})", to_string(in[0].shape), to_string(sliced),
           to_string(in[1].shape));
    if (in[0].dtype != in[1].dtype)
      fail("dy is {}, like is {}", to_string(in[0].dtype), to_string(in[1].dtype));
    return in[1];
  };
  def.reference = [](const Node &node, std::span<const Tensor> in, Tensor &out) {
    for (int64_t i = 0; i < out.size(); ++i) out.set(i, 0.0);
    View v = slice_source(node, {}, out.shape());
    std::vector<std::vector<int64_t>> strides = {v.strides};
    for_each_element(in[0].shape(), strides, [&](int64_t i, std::span<const int64_t> o) {
      out.set(v.offset + o[0], in[0].get(i));
    });
  };
  def.lower = [](compiler::Lowering &l) {
    const TensorType &t = l.output_type();
    l.fill(t.dtype, t.shape, compiler::contiguous(l.output(), t.shape), 0.0);
    const Shape &dy = l.input_type(0).shape;
    l.copy(t.dtype, dy, slice_source(l.node(), l.output(), t.shape),
           compiler::contiguous(l.input(0), dy));
  };
  def.grad = [](const GradContext &c, size_t i) {
    if (i == 1) return Value{};
    const Node &n = c.node();
    return slice(c.dy, n.attr_ints("begin"), n.attr_ints("end"), n.attr_ints("steps"));
  };
  return def;
}

OpDef broadcast_to_op() {
  OpDef def = fixed_arity_op("broadcast_to", 1, {{"shape", AttrKind::ints, std::nullopt}});
  def.infer = [](const Node &node, std::span<const TensorType> in) {
    const Shape &target = node.attr_ints("shape");
    check_dims(target, /*allow_batch=*/true);
    // The batch dim cannot be created, only kept where the input has it.
    for (size_t d = 0; d < target.size(); ++d) {
      size_t lead = target.size() - in[0].shape.size();
      if (is_batch(target[d]) && (d < lead || !is_batch(in[0].shape[d - lead])))
        fail("cannot broadcast {} to {}: the batch dim must come from the input",
             to_string(in[0].shape), int_list(target));
    }
    if (broadcast_shapes(in[0].shape, target) != target)
      fail("cannot broadcast {} to {}", to_string(in[0].shape), int_list(target));
    return TensorType{in[0].dtype, target};
  };
  def.reference = [](const Node &, std::span<const Tensor> in, Tensor &out) {
    reference_elementwise(in, out, [](std::span<const double> x) { return x[0]; });
  };
  def.lower = [](compiler::Lowering &l) {
    const TensorType &t = l.output_type();
    l.copy(t.dtype, t.shape, compiler::contiguous(l.output(), t.shape),
           View{l.input(0), 0, broadcast_strides(l.input_type(0).shape, t.shape)});
  };
  def.grad = [](const GradContext &c, size_t) { return unbroadcast(c.dy, c.x(0).shape()); };
  return def;
}

// broadcast_like(x, like): x broadcast to like's shape, which may hold the
// batch dim where x has 1 (broadcast_to cannot name a shape it does not know).
OpDef broadcast_like_op() {
  OpDef def = fixed_arity_op("broadcast_like", 2, {});
  def.shape_only_inputs = {1};
  def.infer = [](const Node &, std::span<const TensorType> in) {
    if (broadcast_shapes(in[0].shape, in[1].shape) != in[1].shape)
      fail("cannot broadcast {} to {}", to_string(in[0].shape), to_string(in[1].shape));
    return TensorType{in[0].dtype, in[1].shape};
  };
  def.reference = [](const Node &, std::span<const Tensor> in, Tensor &out) {
    reference_elementwise(in.first(1), out, [](std::span<const double> x) { return x[0]; });
  };
  // Elementwise (input 0 broadcast, `like` never loaded), so it fuses.
  def.scalar = [](compiler::ScalarBuilder &, std::span<llvm::Value *const> args) {
    return args[0];
  };
  def.grad = [](const GradContext &c, size_t i) {
    return i == 0 ? unbroadcast(c.dy, c.x(0).shape()) : Value{};
  };
  return def;
}

} // namespace

void register_shape_ops(OpRegistry &registry) {
  registry.add(reshape_op());
  registry.add(flatten_op());
  registry.add(transpose_op());
  registry.add(concat_op());
  registry.add(slice_op());
  registry.add(broadcast_to_op());
  registry.add(slice_grad_op());
  registry.add(broadcast_like_op());
}

} // namespace kiln::ops
