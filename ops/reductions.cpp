// Reductions over a set of axes (sum, mean, max, min) and over one axis
// (argmax, argmin), with keepdims.
#include "ops/reductions.h"

#include "ir/error.h"
#include "kernels/kernel_abi.h"
#include "ops/grad.h"
#include "ops/lowering.h"
#include "ops/op_util.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace kiln::ops {

namespace {

using compiler::KernelArg;

// The normalized, sorted set of reduced axes; empty `axes` means all of them.
std::vector<bool> reduced_axes(const Node &node, size_t rank) {
  const std::vector<int64_t> &axes = node.attr_ints("axes");
  std::vector<bool> reduced(rank, axes.empty());
  for (int64_t a : axes) {
    auto axis = static_cast<size_t>(normalize_axis(a, static_cast<int64_t>(rank), "reduction"));
    if (reduced[axis]) fail("axis {} is listed twice", a);
    reduced[axis] = true;
  }
  return reduced;
}

Shape reduced_shape(const Shape &in, const std::vector<bool> &reduced, bool keepdims) {
  Shape out;
  for (size_t d = 0; d < in.size(); ++d) {
    if (!reduced[d])
      out.push_back(in[d]);
    else if (keepdims)
      out.push_back(1);
  }
  return out;
}

enum class Kind { sum, mean, max, min };

// A reduction's output (or its gradient) with the reduced axes kept as size 1.
Value keep_reduced_dims(const GradContext &c, Value v) {
  const Node &n = c.node();
  if (n.attr_bool("keepdims")) return v;
  Shape in = c.x(0).shape();
  std::vector<bool> reduced = reduced_axes(n, in.size());
  Shape kept;
  for (size_t d = 0; d < in.size(); ++d) kept.push_back(reduced[d] ? 1 : in[d]);
  return reshape(v, kept);
}

// The number of elements each output element reduces, as a scalar: a
// constant, unless the batch dim is reduced (then known only at run time).
Value reduced_count(const GradContext &c) {
  Shape in = c.x(0).shape();
  std::vector<bool> reduced = reduced_axes(c.node(), in.size());
  std::vector<int64_t> axes;
  int64_t count = 1;
  bool batch_reduced = false;
  for (size_t d = 0; d < in.size(); ++d) {
    if (!reduced[d]) continue;
    axes.push_back(int64_t(d));
    batch_reduced = batch_reduced || is_batch(in[d]);
    count *= is_batch(in[d]) ? 1 : in[d];
  }
  if (batch_reduced) return size(c.x(0), axes, c.x(0).dtype());
  return constant(*c.dy.graph, double(count), c.x(0).dtype());
}

Value reduce_grad(Kind kind, const GradContext &c) {
  Value x = c.x(0), dy = keep_reduced_dims(c, c.dy);
  if (kind == Kind::sum) return broadcast_like(dy, x);
  if (kind == Kind::mean) return broadcast_like(dy / reduced_count(c), x);
  // max/min: shared equally among the elements that attain the extreme.
  Value hits = cast(equal(x, broadcast_like(keep_reduced_dims(c, c.output), x)), x.dtype());
  Value count = sum(hits, c.node().attr_ints("axes"), /*keepdims=*/true);
  return hits * broadcast_like(dy / count, x);
}

double reduce_init(Kind k) { return k == Kind::max ? -INFINITY : k == Kind::min ? INFINITY : 0.0; }

double reduce_step(Kind k, double acc, double x) {
  if (std::isnan(acc) || std::isnan(x)) return k == Kind::sum || k == Kind::mean ? acc + x : NAN;
  switch (k) {
  case Kind::sum:
  case Kind::mean: return acc + x;
  case Kind::max: return std::max(acc, x);
  case Kind::min: return std::min(acc, x);
  }
  return acc;
}

void reference_reduce(Kind kind, const Node &node, const Tensor &in, Tensor &out) {
  std::vector<bool> reduced = reduced_axes(node, in.shape().size());
  // Stride into the output for every input dim: 0 along reduced axes.
  std::vector<int64_t> kept_strides = contiguous_strides(reduced_shape(in.shape(), reduced, false));
  std::vector<int64_t> to_out(in.shape().size(), 0);
  for (size_t d = 0, k = 0; d < in.shape().size(); ++d)
    if (!reduced[d]) to_out[d] = kept_strides[k++];
  std::vector<double> acc(static_cast<size_t>(out.size()), reduce_init(kind));
  std::vector<std::vector<int64_t>> strides = {to_out};
  for_each_element(in.shape(), strides, [&](int64_t i, std::span<const int64_t> o) {
    acc[static_cast<size_t>(o[0])] = reduce_step(kind, acc[static_cast<size_t>(o[0])], in.get(i));
  });
  double count = double(in.size()) / double(std::max<int64_t>(out.size(), 1));
  for (int64_t i = 0; i < out.size(); ++i) {
    double v = acc[static_cast<size_t>(i)];
    if (kind == Kind::mean) v /= count;
    // Integer max/min of nothing: the type's lowest/highest, as the kernels do
    // (written directly: the extremes of i64 do not survive a trip through double).
    if (std::isinf(v) && is_int(out.dtype())) {
      visit_dtype(out.dtype(), [&](auto z) {
        using T = decltype(z);
        static_cast<T *>(out.raw())[i] =
            v > 0 ? std::numeric_limits<T>::max() : std::numeric_limits<T>::lowest();
      });
      continue;
    }
    out.set(i, v);
  }
}

// Dims merged into alternating kept/reduced groups, size-1 dims dropped.
struct Group {
  int64_t size;
  bool reduced;
};
std::vector<Group> reduction_groups(const Shape &shape, const std::vector<bool> &reduced) {
  std::vector<Group> groups;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    if (!groups.empty() && groups.back().reduced == reduced[d])
      groups.back().size *= shape[d];
    else
      groups.push_back({shape[d], reduced[d]});
  }
  return groups;
}

// Emits one [outer, reduce, inner] kernel per reduced group, last group first,
// through scratch buffers; the last step writes the node's output.
void lower_reduce(Kind kind, compiler::Lowering &l) {
  static constexpr const char *kNames[] = {"sum", "mean", "max", "min"};
  const TensorType &in = l.input_type(0);
  std::vector<Group> groups = reduction_groups(in.shape, reduced_axes(l.node(), in.shape.size()));
  int64_t total_out = num_elements(l.output_type().shape);
  int64_t reductions =
      std::count_if(groups.begin(), groups.end(), [](Group g) { return g.reduced; });
  if (reductions == 0 || num_elements(in.shape) == 0) {
    // Nothing to reduce (all reduced dims have size 1), or an empty input
    // whose output is all initial values: a kernel still handles both.
    groups = {{1, false},
              {num_elements(in.shape) / std::max<int64_t>(total_out, 1), true},
              {total_out, false}};
    if (num_elements(in.shape) == 0) groups[1].size = 0;
    reductions = 1;
  }
  compiler::Buffer src = l.input(0);
  std::string fn = std::string("kiln_reduce_") + kNames[static_cast<int>(kind)] + "_" +
                   compiler::kernel_suffix(in.dtype);
  while (reductions-- > 0) {
    size_t r = groups.size();
    while (!groups[--r].reduced) {
    }
    int64_t outer = 1, inner = 1;
    for (size_t g = 0; g < r; ++g) outer *= groups[g].size;
    for (size_t g = r + 1; g < groups.size(); ++g) inner *= groups[g].size;
    compiler::Buffer dst = reductions == 0 ? l.output() : l.scratch(in.dtype, outer * inner);
    l.call(fn,
           {KernelArg::buf(src), KernelArg::buf(dst), KernelArg::int64(outer),
            KernelArg::int64(groups[r].size), KernelArg::int64(inner)},
           abi::kiln_reduce_tasks(outer, inner), abi::kiln_reduce_task_cost(groups[r].size, inner));
    src = dst;
    groups.erase(groups.begin() + static_cast<long>(r));
  }
}

OpDef reduce_op(std::string name, Kind kind) {
  OpDef def;
  def.name = std::move(name);
  def.min_inputs = def.max_inputs = 1;
  def.attrs = {{"axes", AttrKind::ints, std::vector<int64_t>{}}, {"keepdims", AttrKind::b, false}};
  def.infer = [kind](const Node &node, std::span<const TensorType> in) {
    check_same_dtype(in, kind == Kind::mean ? DTypes::floats : DTypes::numeric);
    std::vector<bool> reduced = reduced_axes(node, in[0].shape.size());
    return TensorType{in[0].dtype, reduced_shape(in[0].shape, reduced, node.attr_bool("keepdims"))};
  };
  def.reference = [kind](const Node &node, std::span<const Tensor> in, Tensor &out) {
    reference_reduce(kind, node, in[0], out);
  };
  def.lower = [kind](compiler::Lowering &l) { lower_reduce(kind, l); };
  // One reduced group: one call (a batch dim counts as more than 1, which
  // can only add groups).
  def.takes_prologue = [](const Node &node, const TensorType &input) {
    Shape shape = bind_batch(input.shape, 2);
    std::vector<Group> groups = reduction_groups(shape, reduced_axes(node, shape.size()));
    return std::count_if(groups.begin(), groups.end(), [](Group g) { return g.reduced; }) <= 1;
  };
  def.grad = [kind](const GradContext &c, size_t) { return reduce_grad(kind, c); };
  return def;
}

// argmax/argmin: the index (i64) of the first extreme element along `axis`;
// NaN counts as the extreme, as in NumPy.
OpDef arg_op(std::string name, bool is_max) {
  OpDef def;
  def.name = name;
  def.min_inputs = def.max_inputs = 1;
  def.attrs = {{"axis", AttrKind::i, int64_t{-1}}, {"keepdims", AttrKind::b, false}};
  def.infer = [](const Node &node, std::span<const TensorType> in) {
    check_same_dtype(in, DTypes::numeric);
    size_t rank = in[0].shape.size();
    std::vector<bool> reduced(rank, false);
    reduced[static_cast<size_t>(
        normalize_axis(node.attr_int("axis"), static_cast<int64_t>(rank), node.op->name))] = true;
    return TensorType{DType::i64, reduced_shape(in[0].shape, reduced, node.attr_bool("keepdims"))};
  };
  def.reference = [is_max](const Node &node, std::span<const Tensor> in, Tensor &out) {
    AxisSplit s = split_at_axis(in[0].shape(), node.attr_int("axis"), node.describe());
    for (int64_t o = 0; o < s.outer; ++o)
      for (int64_t i = 0; i < s.inner; ++i) {
        int64_t best = 0;
        for (int64_t a = 1; a < s.axis; ++a) {
          double x = in[0].get((o * s.axis + a) * s.inner + i);
          double y = in[0].get((o * s.axis + best) * s.inner + i);
          if (std::isnan(y)) break;
          if (std::isnan(x) || (is_max ? x > y : x < y)) best = a;
        }
        out.set(o * s.inner + i, double(best));
      }
  };
  def.lower = [name](compiler::Lowering &l) {
    const TensorType &in = l.input_type(0);
    AxisSplit s = split_at_axis(in.shape, l.node().attr_int("axis"), l.node().describe());
    l.call("kiln_" + name + "_" + compiler::kernel_suffix(in.dtype),
           {KernelArg::buf(l.input(0)), KernelArg::buf(l.output()), KernelArg::int64(s.outer),
            KernelArg::int64(s.axis), KernelArg::int64(s.inner)},
           abi::kiln_reduce_tasks(s.outer, s.inner), abi::kiln_reduce_task_cost(s.axis, s.inner));
  };
  return def;
}

// size(x): the number of elements along `axes` (all when empty) as a scalar
// of `dtype`; known when the program is compiled, so it is filled in then.
OpDef size_op() {
  OpDef def;
  def.name = "size";
  def.min_inputs = def.max_inputs = 1;
  def.shape_only_inputs = {0};
  def.attrs = {{"axes", AttrKind::ints, std::vector<int64_t>{}},
               {"dtype", AttrKind::dtype, DType::i64}};
  def.infer = [](const Node &node, std::span<const TensorType> in) {
    reduced_axes(node, in[0].shape.size());
    return TensorType{node.attr_dtype("dtype"), {}};
  };
  auto count = [](const Node &node, const Shape &in) {
    std::vector<bool> reduced = reduced_axes(node, in.size());
    int64_t n = 1;
    for (size_t d = 0; d < in.size(); ++d) n *= reduced[d] ? in[d] : 1;
    return n;
  };
  def.reference = [count](const Node &node, std::span<const Tensor> in, Tensor &out) {
    out.set(0, double(count(node, in[0].shape())));
  };
  def.lower = [count](compiler::Lowering &l) {
    const TensorType &t = l.output_type();
    l.fill(t.dtype, t.shape, compiler::contiguous(l.output(), t.shape),
           double(count(l.node(), l.input_type(0).shape)));
  };
  return def;
}

} // namespace

void register_reduction_ops(OpRegistry &registry) {
  registry.add(size_op());
  registry.add(reduce_op("sum", Kind::sum));
  registry.add(reduce_op("mean", Kind::mean));
  registry.add(reduce_op("max", Kind::max));
  registry.add(reduce_op("min", Kind::min));
  registry.add(arg_op("argmax", true));
  registry.add(arg_op("argmin", false));
}

} // namespace kiln::ops
