// conv2d(x [N, C, H, W], w [O, C / groups, KH, KW]) -> [N, O, OH, OW] (NCHW,
// no bias: add one with broadcasting) and its gradients
//   conv2d_backprop_input(dy, w, x_like)  -> x's type (the adjoint in x)
//   conv2d_backprop_filter(x, dy, w_like) -> w's type (the adjoint in w)
// sharing conv2d's attributes: strides [2] and dilations [2] (default 1, 1),
// padding "valid" | "same" | "explicit" with pads [top, bottom, left, right]
// (ops/window.h), groups. The like-inputs only give the result's shape.
// Kernels: kernels/conv.cpp (im2col + GEMM; depthwise by planes) and
// kernels/conv_direct.cpp (few output channels; the input gradient where x
// has few channels, as a convolution of dy).
#include "ops/conv.h"

#include "ir/error.h"
#include "kernels/kernel_abi.h"
#include "ops/grad.h"
#include "ops/lowering.h"
#include "ops/op_util.h"
#include "ops/window.h"

#include <optional>
#include <utility>

namespace kiln::ops {

namespace {

using compiler::KernelArg;

enum class Kind { forward, input, filter };

// Which inputs hold x's and w's types, by op.
struct Roles {
  size_t x, w, dy;
};
constexpr Roles roles(Kind k) {
  return k == Kind::forward ? Roles{0, 1, 0} : k == Kind::input ? Roles{2, 1, 0} : Roles{0, 2, 1};
}

struct ConvGeometry {
  int64_t n, c, o, groups, kh, kw;
  Window2d win;

  int64_t cg() const { return c / groups; }
  int64_t og() const { return o / groups; }
  int64_t taps() const { return cg() * kh * kw; }
  int64_t pixels() const { return win.h.out * win.w.out; }
  Shape output() const { return {n, o, win.h.out, win.w.out}; }
  // As the kernels take it (their shape arguments, in order).
  abi::ConvShape shape() const {
    const WindowDim &H = win.h, &W = win.w;
    return {n,     c,        H.in,     W.in,       o,          kh,           kw,           H.out,
            W.out, H.stride, W.stride, H.dilation, W.dilation, H.pad_before, W.pad_before, groups};
  }
  // 1x1, stride 1, no padding: the kernels use x as its own im2col matrix.
  bool direct() const { return shape().direct(); }
};

ConvGeometry conv_geometry(const Node &node, const TensorType &x, const TensorType &w) {
  const Shape &xs = x.shape, &ws = w.shape;
  if (xs.size() != 4 || is_batch(xs[1]) || is_batch(xs[2]) || is_batch(xs[3]))
    fail("the input must be [N, C, H, W] (only N may be the batch dim), got {}", to_string(x));
  if (ws.size() != 4 || has_batch(ws))
    fail("the filter must be [O, C / groups, KH, KW] without a batch dim, got {}", to_string(w));
  int64_t groups = node.attr_int("groups");
  if (groups < 1) fail("groups must be positive, got {}", groups);
  if (xs[1] % groups)
    fail("the input's {} channels are not divisible by groups = {}", xs[1], groups);
  if (ws[0] % groups)
    fail("the filter's {} output channels are not divisible by groups = {}", ws[0], groups);
  if (ws[1] != xs[1] / groups)
    fail("the filter {} takes {} channels per group, but the input has {} channels in {} "
         "group(s)",
         to_string(ws), ws[1], xs[1], groups);
  return {xs[0], xs[1], ws[0], groups, ws[2], ws[3], window2d(node, xs[2], xs[3], ws[2], ws[3])};
}

TensorType infer_conv(Kind kind, const Node &node, std::span<const TensorType> in) {
  DType t = check_same_dtype(in, DTypes::floats);
  Roles r = roles(kind);
  ConvGeometry g = conv_geometry(node, in[r.x], in[r.w]);
  TensorType y{t, g.output()};
  if (kind == Kind::forward) return y;
  if (in[r.dy] != y)
    fail("dy is {}, but conv2d of {} with {} gives {}", to_string(in[r.dy]), to_string(in[r.x]),
         to_string(in[r.w]), to_string(y));
  return kind == Kind::input ? in[r.x] : in[r.w];
}

// Calls f(y, x, w) with the flat indices of every product y += x * w of the
// convolution; taps in the padding have none.
template <typename F> void for_each_product(const ConvGeometry &g, F f) {
  const WindowDim &H = g.win.h, &W = g.win.w;
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t o = 0; o < g.o; ++o)
      for (int64_t oh = 0; oh < H.out; ++oh)
        for (int64_t ow = 0; ow < W.out; ++ow)
          for (int64_t cl = 0; cl < g.cg(); ++cl)
            for (int64_t kh = 0; kh < g.kh; ++kh)
              for (int64_t kw = 0; kw < g.kw; ++kw) {
                int64_t ih = H.position(oh, kh), iw = W.position(ow, kw);
                if (ih < 0 || ih >= H.in || iw < 0 || iw >= W.in) continue;
                int64_t c = o / g.og() * g.cg() + cl;
                f(((n * g.o + o) * H.out + oh) * W.out + ow,
                  ((n * g.c + c) * H.in + ih) * W.in + iw,
                  ((o * g.cg() + cl) * g.kh + kh) * g.kw + kw);
              }
}

std::vector<double> values(const Tensor &t) {
  std::vector<double> v(static_cast<size_t>(t.size()));
  for (int64_t i = 0; i < t.size(); ++i) v[size_t(i)] = t.get(i);
  return v;
}

void reference_conv(Kind kind, const Node &node, std::span<const Tensor> in, Tensor &out) {
  Roles r = roles(kind);
  ConvGeometry g =
      conv_geometry(node, {in[r.x].dtype(), in[r.x].shape()}, {in[r.w].dtype(), in[r.w].shape()});
  std::vector<double> acc(static_cast<size_t>(out.size()), 0.0);
  std::vector<double> a = values(in[0]), b = values(in[1]);
  auto at = [](std::vector<double> &v, int64_t i) -> double & { return v[size_t(i)]; };
  switch (kind) {
  case Kind::forward: // a = x, b = w
    for_each_product(g,
                     [&](int64_t y, int64_t x, int64_t w) { at(acc, y) += at(a, x) * at(b, w); });
    break;
  case Kind::input: // a = dy, b = w
    for_each_product(g,
                     [&](int64_t y, int64_t x, int64_t w) { at(acc, x) += at(a, y) * at(b, w); });
    break;
  case Kind::filter: // a = x, b = dy
    for_each_product(g,
                     [&](int64_t y, int64_t x, int64_t w) { at(acc, w) += at(b, y) * at(a, x); });
    break;
  }
  for (int64_t i = 0; i < out.size(); ++i) out.set(i, at(acc, i));
}

// A conv kernel's arguments (kernels/conv.cpp): its buffers, then the shape.
std::vector<KernelArg> conv_args(std::vector<compiler::Buffer> buffers, const abi::ConvShape &s) {
  std::vector<KernelArg> args;
  for (compiler::Buffer b : buffers) args.push_back(KernelArg::buf(b));
  for (int64_t v : {s.n, s.c, s.h, s.w, s.o, s.kh, s.kw, s.oh, s.ow, s.sh, s.sw, s.dh, s.dw, s.pt,
                    s.pl, s.groups})
    args.push_back(KernelArg::int64(v));
  return args;
}

// A forward convolution that image tasks would leave threads idle on, or
// one of the faster kernels: tiled (im2col, then one batched GEMM a task per
// tile) or depthwise (a task per plane). kernels/conv.cpp says why. False:
// the image tasks below.
bool lower_forward_by_tiles_or_planes(compiler::Lowering &l, const ConvGeometry &g) {
  DType t = l.output_type().dtype;
  std::string suffix = compiler::kernel_suffix(t);
  int64_t taps = g.kh * g.kw, pixels = g.pixels();
  if (g.groups == g.c && g.o == g.c) {
    l.call("kiln_depthwise_conv2d_" + suffix,
           conv_args({l.input(0), l.input(1), l.output()}, g.shape()),
           abi::kiln_depthwise_tasks(g.n, g.c), double(2 * taps * pixels));
    l.task_box({.kind = compiler::TaskBox::Kind::planes});
    return true;
  }
  if (!abi::kiln_conv2d_tiled(g.n, g.groups)) return false;
  compiler::Buffer col = l.input(0);
  if (!g.direct()) {
    col = l.scratch(t, g.n * g.c * taps * pixels);
    l.call("kiln_im2col_" + suffix, conv_args({l.input(0), col}, g.shape()),
           abi::kiln_im2col_tasks(g.n, g.c), double(taps * pixels));
  }
  // y[i] (O x P) = w (O x K) * col[i] (K x P), for every image i.
  int64_t k = g.taps();
  std::vector<KernelArg> args = {KernelArg::buf(l.input(1)), KernelArg::buf(col),
                                 KernelArg::buf(l.output())};
  for (int64_t v : {g.o, pixels, k, k, int64_t{1}, pixels, int64_t{1}, g.n, int64_t{0}, k * pixels,
                    g.o * pixels})
    args.push_back(KernelArg::int64(v));
  l.call("kiln_matmul_" + suffix, std::move(args), abi::kiln_matmul_tasks(g.n, g.o, pixels),
         double(abi::kiln_matmul_task_cost(g.o, pixels, k)));
  l.task_box({.kind = compiler::TaskBox::Kind::matrix_tiles, .first_row_dim = 1, .row_dim = 1});
  return true;
}

// The shape the direct kernel (conv_direct.cpp) runs this convolution as,
// if it runs it: the forward convolution itself where it has few output
// channels, or the input gradient as a forward convolution of dy, padded
// KH - 1 - pt above and KW - 1 - pl left, with the filter's channels swapped
// and its taps flipped:
//   dx[c, i, j] = sum over o, a, b of dy_padded[o, i + a, j + b] * w[o, c, KH-1-a, KW-1-b]
// where x has few channels (LeNet's 6). That form also multiplies the
// padding's zeros (within the kernel's limit on wasted pixels) but skips the
// GEMM's im2col-shaped result and its scatter back into dx.
std::optional<abi::ConvShape> direct_shape(Kind kind, const ConvGeometry &g, int64_t lanes) {
  const abi::ConvShape s = g.shape();
  std::optional<abi::ConvShape> run;
  if (kind == Kind::forward) run = s;
  if (kind == Kind::input && abi::kiln_conv2d_direct_fits(s)) {
    // Unit strides and dilations, groups 1: dy and dx take the places of x and y.
    run = s;
    std::swap(run->c, run->o);
    std::swap(run->h, run->oh);
    std::swap(run->w, run->ow);
    run->pt = s.kh - 1 - s.pt;
    run->pl = s.kw - 1 - s.pl;
  }
  if (run && abi::kiln_conv2d_direct(*run, lanes)) return run;
  return std::nullopt;
}

void lower_conv(Kind kind, compiler::Lowering &l) {
  Roles r = roles(kind);
  ConvGeometry g = conv_geometry(l.node(), l.input_type(r.x), l.input_type(r.w));
  DType t = l.output_type().dtype;
  std::string suffix = compiler::kernel_suffix(t);
  // Image tasks of the direct kernel where it runs, at every batch.
  int64_t lanes = abi::kVectorBytes / int64_t(byte_size(t));
  const std::optional<abi::ConvShape> direct = direct_shape(kind, g, lanes);
  if (kind == Kind::forward && !direct && lower_forward_by_tiles_or_planes(l, g)) return;
  bool filter = kind == Kind::filter;
  int64_t tasks = filter ? abi::kiln_conv2d_filter_tasks(g.n) : abi::kiln_conv2d_tasks(g.n);
  int64_t chunk = abi::kiln_conv_chunk(g.n, filter ? abi::kConvFilterChunks : abi::kConvChunks);
  const abi::ConvShape shape = direct ? *direct : g.shape();
  double cost = double(abi::kiln_conv2d_task_cost(chunk, shape.o, shape.taps(), shape.pixels()));
  // One im2col matrix per task (the direct kernel's padded planes instead).
  compiler::Buffer col =
      direct ? l.scratch(t, tasks * abi::kiln_direct_scratch(*direct, lanes))
             : l.scratch(t, g.direct() ? 0 : tasks * g.c * g.kh * g.kw * g.pixels());
  auto call = [&](const char *name, std::vector<compiler::Buffer> buffers) {
    l.call(fmt::format("kiln_{}_{}", name, suffix), conv_args(std::move(buffers), shape), tasks,
           cost);
  };
  if (kind == Kind::forward) {
    call(direct ? "conv2d_direct" : "conv2d", {l.input(0), l.input(1), l.output(), col});
    return l.task_box({.kind = compiler::TaskBox::Kind::leading_rows, .rows = chunk});
  }
  if (kind == Kind::input) {
    if (!direct) return call("conv2d_backprop_input", {l.input(0), l.input(1), l.output(), col});
    // w [O, C, KH, KW] read as [C, O, KH, KW] from its last tap backwards.
    const Shape flipped{g.c, g.o, g.kh, g.kw};
    compiler::Buffer w = l.scratch(t, num_elements(flipped));
    l.copy(t, flipped, compiler::contiguous(w, flipped),
           {l.input(1), g.kh * g.kw - 1, {g.kh * g.kw, g.c * g.kh * g.kw, -g.kw, -1}});
    return call("conv2d_direct", {l.input(0), w, l.output(), col});
  }
  const TensorType &w = l.output_type();
  int64_t size = num_elements(w.shape);
  if (tasks == 0) return l.fill(t, w.shape, compiler::contiguous(l.output(), w.shape), 0.0);
  // One partial filter per task (the output itself when there is one task),
  // summed in task order.
  compiler::Buffer partial = tasks == 1 ? l.output() : l.scratch(t, tasks * size);
  compiler::Buffer tmp = l.scratch(t, chunk > 1 ? tasks * size : 0);
  call("conv2d_backprop_filter", {l.input(0), l.input(1), partial, col, tmp});
  if (tasks > 1)
    l.call("kiln_reduce_sum_" + suffix,
           {KernelArg::buf(partial), KernelArg::buf(l.output()), KernelArg::int64(1),
            KernelArg::int64(tasks), KernelArg::int64(size)},
           abi::kiln_reduce_tasks(1, size), abi::kiln_reduce_task_cost(tasks, size));
}

// The gradients are each other's adjoints: with <a, b> the sum of a * b,
//   <dy, conv2d(x, w)> = <backprop_input(dy, w), x> = <backprop_filter(x, dy), w>.
Value grad_conv(Kind kind, const GradContext &c, size_t i) {
  const Attrs &attrs = c.node().attrs;
  Value g = c.dy;
  switch (kind) {
  case Kind::forward: // conv2d(x, w)
    return i == 0 ? apply("conv2d_backprop_input", {g, c.x(1), c.x(0)}, attrs)
                  : apply("conv2d_backprop_filter", {c.x(0), g, c.x(1)}, attrs);
  case Kind::input: // backprop_input(dy, w, x_like), linear in dy and in w
    if (i == 2) return {};
    return i == 0 ? apply("conv2d", {g, c.x(1)}, attrs)
                  : apply("conv2d_backprop_filter", {g, c.x(0), c.x(1)}, attrs);
  case Kind::filter: // backprop_filter(x, dy, w_like), linear in x and in dy
    if (i == 2) return {};
    return i == 0 ? apply("conv2d_backprop_input", {c.x(1), g, c.x(0)}, attrs)
                  : apply("conv2d", {c.x(0), g}, attrs);
  }
  return {};
}

OpDef conv_op(std::string name, Kind kind) {
  OpDef def;
  def.name = std::move(name);
  def.min_inputs = def.max_inputs = kind == Kind::forward ? 2 : 3;
  def.attrs = window_attrs(/*default_strides=*/true, /*dilations=*/true);
  def.attrs.push_back({"groups", AttrKind::i, int64_t{1}});
  def.infer = [kind](const Node &node, std::span<const TensorType> in) {
    return infer_conv(kind, node, in);
  };
  def.reference = [kind](const Node &node, std::span<const Tensor> in, Tensor &out) {
    reference_conv(kind, node, in, out);
  };
  def.lower = [kind](compiler::Lowering &l) { lower_conv(kind, l); };
  if (kind == Kind::forward) def.takes_epilogue = [](const Node &) { return true; };
  def.grad = [kind](const GradContext &c, size_t i) { return grad_conv(kind, c, i); };
  return def;
}

} // namespace

void register_conv_ops(OpRegistry &registry) {
  registry.add(conv_op("conv2d", Kind::forward));
  registry.add(conv_op("conv2d_backprop_input", Kind::input));
  registry.add(conv_op("conv2d_backprop_filter", Kind::filter));
}

} // namespace kiln::ops
