// max_pool2d(x) and avg_pool2d(x) over windows of one channel plane (NCHW),
// and their gradients max_pool2d_grad(x, dy) and avg_pool2d_grad(dy, x_like).
// Padded cells take no part: max ignores them, avg divides by the number of
// input cells in the window (PyTorch's count_include_pad=False), so explicit
// pads must be smaller than the kernel (no window of padding only). Max picks
// the first maximum of a window in row-major order, a NaN counting as the
// maximum (as argmax); its gradient goes to that cell alone.
// Attributes: kernel [2] and strides [2] (both required; the builder's
// strides default to the kernel), padding and pads as for conv2d.
// Kernels: kernels/pool.cpp.
#include "ops/pool.h"

#include "ir/error.h"
#include "kernels/kernel_abi.h"
#include "ops/grad.h"
#include "ops/lowering.h"
#include "ops/op_util.h"
#include "ops/window.h"

#include <cmath>

namespace kiln::ops {

namespace {

using compiler::KernelArg;

enum class Kind { max, avg, max_grad, avg_grad };

bool is_grad(Kind k) { return k == Kind::max_grad || k == Kind::avg_grad; }
// The input holding x's type (x or x_like) and the one holding dy.
size_t x_input(Kind k) { return k == Kind::avg_grad ? 1 : 0; }
size_t dy_input(Kind k) { return k == Kind::avg_grad ? 0 : 1; }

struct PoolGeometry {
  int64_t n, c;
  Window2d win;
  Shape output() const { return {n, c, win.h.out, win.w.out}; }
};

PoolGeometry pool_geometry(const Node &node, const TensorType &x) {
  const Shape &s = x.shape;
  if (s.size() != 4 || is_batch(s[1]) || is_batch(s[2]) || is_batch(s[3]))
    fail("the input must be [N, C, H, W] (only N may be the batch dim), got {}", to_string(x));
  const std::vector<int64_t> &kernel = node.attr_ints("kernel");
  if (kernel.size() != 2) fail("kernel must be two values, got {}", int_list(kernel));
  Window2d win = window2d(node, s[2], s[3], kernel[0], kernel[1]);
  for (const WindowDim *d : {&win.h, &win.w})
    if (d->pad_before >= d->kernel || d->pad_after >= d->kernel)
      fail("pads {} must be smaller than the kernel {}: a window would hold only padding",
           int_list(node.attr_ints("pads")), int_list(kernel));
  return {s[0], s[1], win};
}

TensorType infer_pool(Kind kind, const Node &node, std::span<const TensorType> in) {
  DType t = check_same_dtype(in, DTypes::floats);
  const TensorType &x = in[x_input(kind)];
  TensorType y{t, pool_geometry(node, x).output()};
  if (!is_grad(kind)) return y;
  const TensorType &dy = in[dy_input(kind)];
  if (dy != y) fail("dy is {}, but pooling {} gives {}", to_string(dy), to_string(x), to_string(y));
  return x;
}

// Calls f(output index, the flat indices of the window's input cells).
template <typename F> void for_each_window(const PoolGeometry &g, F f) {
  const WindowDim &H = g.win.h, &W = g.win.w;
  std::vector<int64_t> cells;
  for (int64_t p = 0; p < g.n * g.c; ++p)
    for (int64_t oh = 0; oh < H.out; ++oh)
      for (int64_t ow = 0; ow < W.out; ++ow) {
        cells.clear();
        for (int64_t kh = 0; kh < H.kernel; ++kh)
          for (int64_t kw = 0; kw < W.kernel; ++kw) {
            int64_t ih = H.position(oh, kh), iw = W.position(ow, kw);
            if (ih >= 0 && ih < H.in && iw >= 0 && iw < W.in)
              cells.push_back((p * H.in + ih) * W.in + iw);
          }
        f((p * H.out + oh) * W.out + ow, cells);
      }
}

// The first maximum; a NaN counts as the maximum.
int64_t first_max(const Tensor &x, const std::vector<int64_t> &cells) {
  int64_t best = cells[0];
  for (int64_t k : cells) {
    if (std::isnan(x.get(best))) break;
    if (std::isnan(x.get(k)) || x.get(k) > x.get(best)) best = k;
  }
  return best;
}

void reference_pool(Kind kind, const Node &node, std::span<const Tensor> in, Tensor &out) {
  const Tensor &x = in[x_input(kind)];
  PoolGeometry g = pool_geometry(node, {x.dtype(), x.shape()});
  std::vector<double> acc(static_cast<size_t>(out.size()), 0.0);
  for_each_window(g, [&](int64_t o, const std::vector<int64_t> &cells) {
    auto count = double(cells.size());
    switch (kind) {
    case Kind::max: acc[size_t(o)] = x.get(first_max(x, cells)); break;
    case Kind::avg:
      for (int64_t k : cells) acc[size_t(o)] += x.get(k) / count;
      break;
    case Kind::max_grad: acc[size_t(first_max(x, cells))] += in[1].get(o); break;
    case Kind::avg_grad:
      for (int64_t k : cells) acc[size_t(k)] += in[0].get(o) / count;
      break;
    }
  });
  for (int64_t i = 0; i < out.size(); ++i) out.set(i, acc[size_t(i)]);
}

void lower_pool(Kind kind, compiler::Lowering &l) {
  static constexpr const char *kNames[] = {"max_pool2d", "avg_pool2d", "max_pool2d_grad",
                                           "avg_pool2d_grad"};
  PoolGeometry g = pool_geometry(l.node(), l.input_type(x_input(kind)));
  const WindowDim &H = g.win.h, &W = g.win.w;
  std::vector<KernelArg> args;
  if (kind == Kind::max_grad) args.push_back(KernelArg::buf(l.input(0))); // x, then dy
  args.push_back(KernelArg::buf(l.input(kind == Kind::max_grad ? 1 : 0)));
  args.push_back(KernelArg::buf(l.output()));
  for (int64_t v : {g.n * g.c, H.in, W.in, H.out, W.out, H.kernel, W.kernel, H.stride, W.stride,
                    H.pad_before, W.pad_before})
    args.push_back(KernelArg::int64(v));
  l.call(
      fmt::format("kiln_{}_{}", kNames[int(kind)], compiler::kernel_suffix(l.output_type().dtype)),
      std::move(args), abi::kiln_pool2d_tasks(g.n * g.c),
      double(abi::kiln_pool2d_task_cost(H.out, W.out, H.kernel, W.kernel)));
}

// avg_pool2d_grad is avg_pool2d's adjoint (and so linear in dy): its own
// gradient is avg_pool2d. max_pool2d_grad takes none (see grad_test.cpp).
Value grad_pool(Kind kind, const GradContext &c, size_t i) {
  const Attrs &attrs = c.node().attrs;
  switch (kind) {
  case Kind::max: return apply("max_pool2d_grad", {c.x(0), c.dy}, attrs);
  case Kind::avg: return apply("avg_pool2d_grad", {c.dy, c.x(0)}, attrs);
  case Kind::avg_grad: return i == 0 ? apply("avg_pool2d", {c.dy}, attrs) : Value{};
  case Kind::max_grad: break;
  }
  return {};
}

OpDef pool_op(std::string name, Kind kind) {
  OpDef def;
  def.name = std::move(name);
  def.min_inputs = def.max_inputs = is_grad(kind) ? 2 : 1;
  def.attrs = window_attrs(/*default_strides=*/false, /*dilations=*/false);
  def.attrs.push_back({"kernel", AttrKind::ints, std::nullopt});
  def.infer = [kind](const Node &node, std::span<const TensorType> in) {
    return infer_pool(kind, node, in);
  };
  def.reference = [kind](const Node &node, std::span<const Tensor> in, Tensor &out) {
    reference_pool(kind, node, in, out);
  };
  def.lower = [kind](compiler::Lowering &l) { lower_pool(kind, l); };
  if (kind != Kind::max_grad)
    def.grad = [kind](const GradContext &c, size_t i) { return grad_pool(kind, c, i); };
  return def;
}

} // namespace

void register_pool_ops(OpRegistry &registry) {
  registry.add(pool_op("max_pool2d", Kind::max));
  registry.add(pool_op("avg_pool2d", Kind::avg));
  registry.add(pool_op("max_pool2d_grad", Kind::max_grad));
  registry.add(pool_op("avg_pool2d_grad", Kind::avg_grad));
}

} // namespace kiln::ops
