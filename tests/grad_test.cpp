// Every gradient against central finite differences in double precision.
//
// A case builds one op from f64 placeholders. The test differentiates
// loss = sum(y * w), w a fed random weight shaped like y, symbolically
// (compiled, in a Session) and numerically (the reference interpreter on
// perturbed inputs), and compares. The test "every op has a gradient case"
// keeps the table complete.
#include "finite_difference.h"
#include "frontends/losses.h"
#include "frontends/nn.h"
#include "frontends/normalization.h"
#include "ir/error.h"
#include "passes/autodiff.h"
#include "runtime/reference.h"
#include "session/session.h"
#include "test_util.h"

#include <fmt/format.h>

#include <functional>
#include <set>

using namespace kiln;

namespace {

constexpr int64_t kBatch = 3; // what a kiln::batch dim is fed as

struct Input {
  Shape shape;
  double lo = -2, hi = 2;
  // Values in [lo, hi] with random signs: keeps |x| >= lo away from kinks (abs, relu).
  bool signed_magnitude = false;
  bool differentiate = true; // false: an input autodiff must not need (conditions)
};

struct GradCase {
  std::string label;
  std::string op; // the op whose gradient rule this covers
  std::function<Value(const std::vector<Value> &)> build;
  std::vector<Input> inputs;
};

GradCase unary(std::string op, Value (*f)(Value, std::string), Input in = {{2, 3}}) {
  return {op, op, [f](const std::vector<Value> &v) { return f(v[0], {}); }, {in}};
}

GradCase binary(std::string op, Value (*f)(Operand, Operand, std::string), Shape a, Shape b,
                double lo = -2, double hi = 2) {
  return {fmt::format("{} {} {}", op, to_string(a), to_string(b)),
          op,
          [f](const std::vector<Value> &v) { return f(v[0], v[1], {}); },
          {{a, lo, hi}, {b, lo, hi}}};
}

GradCase with(std::string label, std::string op, std::function<Value(const std::vector<Value> &)> f,
              std::vector<Input> inputs) {
  return {std::move(label), std::move(op), std::move(f), std::move(inputs)};
}

std::vector<GradCase> cases() {
  constexpr int64_t B = batch;
  Input away{{2, 3}, 0.2, 2, true};
  std::vector<GradCase> c = {
      binary("add", add, {2, 3}, {3}),
      binary("add", add, {B, 4}, {1, 4}),
      binary("sub", sub, {2, 3}, {2, 1}),
      binary("mul", mul, {B, 3}, {3}),
      binary("mul", mul, {2, 1, 3}, {4, 1}),
      binary("div", div, {2, 3}, {3}, 0.5, 2),
      binary("maximum", maximum, {3, 4}, {3, 4}),
      binary("minimum", minimum, {3, 4}, {4}),
      binary("pow", pow, {2, 3}, {2, 3}, 0.5, 2),
      unary("neg", neg),
      unary("abs", abs, away),
      unary("square", square),
      unary("sign", sign, away),
      unary("exp", exp),
      unary("log", log, {{2, 3}, 0.2, 3}),
      unary("sqrt", sqrt, {{2, 3}, 0.2, 3}),
      unary("rsqrt", rsqrt, {{2, 3}, 0.2, 3}),
      unary("erf", erf),
      unary("sin", sin),
      unary("cos", cos),
      unary("sigmoid", sigmoid),
      unary("tanh", tanh),
      unary("relu", relu, away),
      unary("softplus", softplus),
      unary("gelu", gelu),
      with("leaky_relu", "leaky_relu", [](auto &v) { return leaky_relu(v[0], 0.2); }, {away}),
      with("elu", "elu", [](auto &v) { return elu(v[0], 0.7); }, {away}),
      with("clip", "clip", [](auto &v) { return clip(v[0], -1, 1); }, {{{3, 4}, -3, 3}}),
      with("select", "select", [](auto &v) { return select(greater(v[0], 0.0), v[1], v[2]); },
           {{{3, 4}, -1, 1, false, false}, {{3, 4}}, {{4}}}),
      with("cast f64 -> f64", "cast", [](auto &v) { return cast(v[0], f64); }, {{{5}}}),
      with("softmax axis -1", "softmax", [](auto &v) { return softmax(v[0]); }, {{{B, 5}}}),
      with("softmax axis 0", "softmax", [](auto &v) { return softmax(v[0], 0); }, {{{4, 3}}}),
      with("log_softmax", "log_softmax", [](auto &v) { return log_softmax(v[0], 1); },
           {{{2, 4, 3}}}),
      with("sum axis 1", "sum", [](auto &v) { return sum(v[0], {1}); }, {{{B, 4, 2}}}),
      with("sum all", "sum", [](auto &v) { return sum(v[0]); }, {{{B, 4}}}),
      with("sum keepdims", "sum",
           [](auto &v) {
             return sum(v[0], {0, 2}, true);
           },
           {{{3, 4, 2}}}),
      with("mean over batch", "mean", [](auto &v) { return mean(v[0], {0}); }, {{{B, 4}}}),
      with("mean all", "mean", [](auto &v) { return mean(v[0]); }, {{{B, 2, 2}}}),
      with("mean axis 1", "mean", [](auto &v) { return mean(v[0], {1}, true); }, {{{B, 5}}}),
      with("max axis 1", "max", [](auto &v) { return max(v[0], {1}); }, {{{3, 5}}}),
      with("min all", "min", [](auto &v) { return min(v[0]); }, {{{B, 4}}}),
      with("matmul", "matmul", [](auto &v) { return matmul(v[0], v[1]); }, {{{B, 4}}, {{4, 5}}}),
      with("matmul ta", "matmul",
           [](auto &v) {
             return matmul(v[0], v[1], {true, false});
           },
           {{{4, 3}}, {{4, 5}}}),
      with("matmul tb", "matmul",
           [](auto &v) {
             return matmul(v[0], v[1], {false, true});
           },
           {{{B, 4}}, {{5, 4}}}),
      with("matmul ta tb", "matmul",
           [](auto &v) {
             return matmul(v[0], v[1], {true, true});
           },
           {{{4, 3}}, {{5, 4}}}),
      with("matmul batched", "matmul", [](auto &v) { return matmul(v[0], v[1]); },
           {{{2, 3, 4}}, {{2, 4, 5}}}),
      with("matmul broadcast batch", "matmul", [](auto &v) { return matmul(v[0], v[1]); },
           {{{1, 3, 4}}, {{2, 4, 5}}}),
      with("matmul shared rhs", "matmul", [](auto &v) { return matmul(v[0], v[1]); },
           {{{2, 3, 4}}, {{4, 5}}}),
      with("matmul sum_batch", "matmul",
           [](auto &v) { return matmul(v[0], v[1], {.transpose_a = true, .sum_batch = true}); },
           {{{B, 3, 4}}, {{B, 3, 5}}}),
      with("reshape", "reshape",
           [](auto &v) {
             return reshape(v[0], {3, 4});
           },
           {{{2, 6}}}),
      with("reshape batch", "reshape",
           [](auto &v) {
             return reshape(v[0], {-1, 2, 3});
           },
           {{{B, 6}}}),
      with("flatten", "flatten", [](auto &v) { return flatten(v[0]); }, {{{B, 3, 2}}}),
      with("transpose", "transpose",
           [](auto &v) {
             return transpose(v[0], {1, 2, 0});
           },
           {{{2, 3, 4}}}),
      with("transpose reverse", "transpose", [](auto &v) { return transpose(v[0]); }, {{{2, 5}}}),
      with("concat", "concat",
           [](auto &v) {
             return concat({v[0], v[1], v[0]}, 1);
           },
           {{{B, 2}}, {{B, 3}}}),
      // In a job of one (the Session has no communicator); its rule,
      // allreduce_mean(dy), is the mean over ranks of what each rank's
      // output sends back.
      with("allreduce_mean", "allreduce_mean", [](auto &v) { return allreduce_mean(v[0] * v[0]); },
           {{{3, 2}}}),
      with("slice", "slice",
           [](auto &v) {
             return slice(v[0], {1, -4}, {to_end, -1}, {2, 1});
           },
           {{{7, 6}}}),
      with("slice batch", "slice",
           [](auto &v) {
             return slice(v[0], {0, 1}, {to_end, 3});
           },
           {{{B, 4}}}),
      with("broadcast_to", "broadcast_to",
           [](auto &v) {
             return broadcast_to(v[0], {2, 3, 4});
           },
           {{{3, 1}}}),
      with("broadcast_like", "broadcast_like", [](auto &v) { return broadcast_like(v[0], v[1]); },
           {{{1, 4}}, {{B, 4}, -1, 1, false, false}}),
      with("slice_grad", "slice_grad",
           [](auto &v) {
             return apply("slice_grad", {v[0], v[1]},
                          {{"begin", std::vector<int64_t>{1}},
                           {"end", std::vector<int64_t>{to_end}},
                           {"steps", std::vector<int64_t>{2}}});
           },
           {{{3, 2}}, {{6, 2}, -1, 1, false, false}}),
  };
  // Indices: inputs in [0, 4.9) truncated, within 5 rows (outside, a run
  // fails: indexing_test.cpp); for gather_grad within 4, as its gradient
  // gathers with them.
  c.push_back(with("gather", "gather", [](auto &v) { return gather(v[0], cast(v[1], i32)); },
                   {{{5, 3}}, {{B, 4}, 0, 4.9, false, false}}));
  c.push_back(with("gather_grad", "gather_grad",
                   [](auto &v) {
                     return apply("gather_grad", {v[0], cast(v[1], i64), v[2]});
                   },
                   {{{B, 2}}, {{B}, 0, 3.9, false, false}, {{4, 2}, -1, 1, false, false}}));
  c.push_back(with("pad", "pad", [](auto &v) { return pad(v[0], {0, 0, 2, 1}, 0.5); }, {{{B, 3}}}));
  c.push_back(with("pad 3d", "pad",
                   [](auto &v) {
                     return pad(v[0], {1, 0, 0, 2, 1, 1});
                   },
                   {{{2, 3, 2}}}));
  // Composite layers and losses: their gradients come from the ops', but the
  // compositions are where a wrong rule would show.
  auto labels = [](Value like) {
    return constant(*like.graph, Tensor::from<int32_t>({3}, {2, 0, 1}));
  };
  std::vector<GradCase> composites = {
      with("layer_norm", "layer_norm (composite)",
           [](auto &v) { return nn::layer_norm(*v[0].graph, v[0]); }, {{{3, 5}}}),
      with("batch_norm in training", "batch_norm (composite)",
           [](auto &v) { return nn::batch_norm(*v[0].graph, v[0], constant(*v[0].graph, true)); },
           {{{4, 2, 2, 3}}}),
      with("softmax_cross_entropy", "softmax_cross_entropy (composite)",
           [=](auto &v) { return nn::softmax_cross_entropy(v[0], labels(v[0])); }, {{{3, 4}}}),
      with("sigmoid_cross_entropy", "sigmoid_cross_entropy (composite)",
           [](auto &v) { return nn::sigmoid_cross_entropy(v[0], v[1]); },
           {{{3, 4}}, {{3, 4}, 0, 1}}),
      with("mse", "mse (composite)", [](auto &v) { return nn::mse(v[0], v[1]); },
           {{{3, 4}}, {{4}}}),
      // Stride 2 and 2 -> 3 channels: the projected shortcut.
      with("residual_block", "residual_block (composite)",
           [](auto &v) {
             Graph &g = *v[0].graph;
             return nn::residual_block(g, v[0], 3, constant(g, true), 2, 1);
           },
           {{{2, 2, 4, 4}}}),
  };
  c.insert(c.end(), composites.begin(), composites.end());
  // conv2d: strides, padding valid/same/explicit, dilation, groups, 1x1.
  auto conv = [](Conv2dOptions o) {
    return [o](const std::vector<Value> &v) { return conv2d(v[0], v[1], o); };
  };
  c.push_back(with("conv2d valid", "conv2d", conv({}), {{{B, 2, 5, 5}}, {{3, 2, 3, 3}}}));
  c.push_back(with("conv2d stride 2 same", "conv2d", conv({.strides = {2, 2}, .padding = "same"}),
                   {{{2, 2, 6, 5}}, {{2, 2, 3, 3}}}));
  c.push_back(with("conv2d pads dilation 2", "conv2d",
                   conv({.dilations = {2, 2}, .pads = {1, 0, 0, 1}}),
                   {{{1, 2, 6, 6}}, {{2, 2, 2, 2}}}));
  c.push_back(with("conv2d groups 2", "conv2d", conv({.padding = "same", .groups = 2}),
                   {{{2, 4, 4, 4}}, {{4, 2, 3, 3}}}));
  c.push_back(with("conv2d depthwise stride 2", "conv2d", conv({.strides = {2, 2}, .groups = 3}),
                   {{{1, 3, 5, 5}}, {{3, 1, 3, 3}}}));
  c.push_back(with("conv2d 1x1", "conv2d", conv({}), {{{B, 3, 3, 3}}, {{2, 3, 1, 1}}}));
  // The gradient ops are linear in their first two inputs; the third only
  // gives a shape. They take conv2d's attributes.
  auto backprop = [](std::string op, Conv2dOptions o) {
    return [op, o](const std::vector<Value> &v) {
      Value x = op == "conv2d_backprop_input" ? v[2] : v[0];
      Value w = op == "conv2d_backprop_input" ? v[1] : v[2];
      return apply(op, v, conv2d(x, w, o).node().attrs);
    };
  };
  Input like_x{{B, 2, 5, 4}, -1, 1, false, false};
  c.push_back(with("conv2d_backprop_input same", "conv2d_backprop_input",
                   backprop("conv2d_backprop_input", {.strides = {2, 1}, .padding = "same"}),
                   {{{B, 3, 3, 4}}, {{3, 2, 3, 3}}, like_x}));
  c.push_back(with("conv2d_backprop_input groups", "conv2d_backprop_input",
                   backprop("conv2d_backprop_input", {.dilations = {2, 1}, .groups = 2}),
                   {{{1, 2, 1, 2}}, {{2, 2, 3, 3}}, {{1, 4, 5, 4}, -1, 1, false, false}}));
  c.push_back(with("conv2d_backprop_filter same", "conv2d_backprop_filter",
                   backprop("conv2d_backprop_filter", {.strides = {2, 1}, .padding = "same"}),
                   {{{B, 2, 5, 4}}, {{B, 3, 3, 4}}, {{3, 2, 3, 3}, -1, 1, false, false}}));
  c.push_back(with("conv2d_backprop_filter pads", "conv2d_backprop_filter",
                   backprop("conv2d_backprop_filter", {.pads = {0, 1, 1, 0}, .groups = 2}),
                   {{{2, 4, 3, 3}}, {{2, 2, 2, 2}}, {{2, 2, 3, 3}, -1, 1, false, false}}));
  // Pooling: non-overlapping, overlapping and padded windows.
  auto pool = [](Value (*f)(Value, Pool2dOptions, std::string), Pool2dOptions o) {
    return [f, o](const std::vector<Value> &v) { return f(v[0], o, {}); };
  };
  Pool2dOptions overlap{.kernel = {3, 3}, .strides = {2, 2}, .padding = "same"};
  Pool2dOptions padded{.kernel = {2, 3}, .strides = {1, 2}, .pads = {1, 0, 1, 1}};
  c.push_back(with("max_pool2d 2x2", "max_pool2d", pool(max_pool2d, {}), {{{B, 2, 4, 4}}}));
  c.push_back(
      with("max_pool2d overlap", "max_pool2d", pool(max_pool2d, overlap), {{{1, 2, 5, 6}}}));
  c.push_back(with("max_pool2d padded", "max_pool2d", pool(max_pool2d, padded), {{{1, 2, 4, 5}}}));
  c.push_back(with("avg_pool2d 2x2", "avg_pool2d", pool(avg_pool2d, {}), {{{B, 2, 4, 4}}}));
  c.push_back(
      with("avg_pool2d overlap", "avg_pool2d", pool(avg_pool2d, overlap), {{{1, 2, 5, 6}}}));
  c.push_back(with("avg_pool2d padded", "avg_pool2d", pool(avg_pool2d, padded), {{{1, 2, 4, 5}}}));
  c.push_back(with("avg_pool2d_grad", "avg_pool2d_grad",
                   [overlap](auto &v) {
                     return apply("avg_pool2d_grad", v, avg_pool2d(v[1], overlap).node().attrs);
                   },
                   {{{B, 2, 3, 3}}, {{B, 2, 5, 6}, -1, 1, false, false}}));
  return c;
}

// Ops that take no gradient, by design: sources, comparisons, logic, indices.
// max_pool2d_grad: piecewise constant in x, and its gradient in dy would
// gather at each window's maximum, an op of its own that nothing needs yet
// (second derivatives through max pooling).
const std::set<std::string> kNoGradient = {
    "placeholder", "constant", "variable", "equal", "not_equal", "less", "less_equal", "greater",
    "greater_equal", "logical_and", "logical_or", "logical_not", "argmax", "argmin", "size",
    "one_hot", "random_uniform", "random_normal",
    // State changes are effects, not functions to differentiate.
    "assign", "assign_add", "assign_sub", "moving_average", "momentum_accumulate", "sgd_update",
    "momentum_update", "rmsprop_update", "adam_update", "group", "max_pool2d_grad",
    // Fused nodes and gradient buckets are made by the optimizing passes,
    // which run after autodiff.
    "parameter", "fusion", "fused_update", "gradient_bucket", "bucket_part", "allreduce_mean_start",
    "allreduce_mean_finish"};

Tensor random_input(const Input &in, std::mt19937 &rng) {
  Tensor t = test::random_tensor(f64, bind_batch(in.shape, kBatch), rng, in.lo, in.hi);
  if (in.signed_magnitude)
    for (int64_t i = 0; i < t.size(); ++i) t.set(i, rng() % 2 ? t.get(i) : -t.get(i));
  return t;
}

void check_gradient(const GradCase &c, std::mt19937 &rng) {
  INFO(c.label);
  Graph g;
  std::vector<Value> inputs, wrt;
  Feeds feeds;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    inputs.push_back(placeholder(g, fmt::format("x{}", i), f64, c.inputs[i].shape));
    feeds.emplace_back(inputs.back().id, random_input(c.inputs[i], rng));
    if (c.inputs[i].differentiate) wrt.push_back(inputs.back());
  }
  Value y = c.build(inputs);
  Value weight = placeholder(g, "weight", f64, y.shape());
  feeds.emplace_back(weight.id, test::random_tensor(f64, bind_batch(y.shape(), kBatch), rng));
  Value loss = sum(y * weight);
  std::vector<Value> grads = gradients(loss, wrt);

  Session session(g);
  std::vector<Tensor> symbolic = session.run(feeds, {grads.begin(), grads.end()});
  size_t k = 0;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    if (!c.inputs[i].differentiate) continue;
    Tensor numeric = test::numeric_gradient(g, feeds, i, loss);
    INFO("gradient of input " << i);
    // Central differences with h = 1e-6 carry ~1e-10 truncation and rounding
    // error on these O(1) functions; 1e-6 leaves room for a few ulp of loss.
    CHECK(test::compare(symbolic[k++], numeric, 1e-6) == "");
  }
}

} // namespace

TEST_CASE("every op has a gradient case or takes no gradient by design", "[grad]") {
  std::set<std::string> covered = kNoGradient;
  for (const GradCase &c : cases()) covered.insert(c.op);
  for (const OpDef &op : OpRegistry::get().all()) {
    INFO("op " << op.name);
    CHECK(covered.count(op.name) == 1);
    CHECK(bool(op.grad) == (kNoGradient.count(op.name) == 0));
  }
}

TEST_CASE("gradients match finite differences", "[grad]") {
  std::mt19937 rng(7);
  const char *only = std::getenv("KILN_CASE");
  for (const GradCase &c : cases())
    if (!only || c.op == only) check_gradient(c, rng);
}

TEST_CASE("a second derivative matches finite differences of the first", "[grad]") {
  // y = sum(tanh(x) * x^2); dy/dx is symbolic, d2y/dx2 is its gradient.
  Graph g;
  Value x = placeholder(g, "x", f64, {4});
  Value y = sum(tanh(x) * square(x));
  Value dx = gradients(y, {x})[0];
  Value w = placeholder(g, "w", f64, {4});
  Value ddx = gradients(sum(dx * w), {x})[0];

  std::mt19937 rng(3);
  Tensor xv = test::random_tensor(f64, {4}, rng), wv = test::random_tensor(f64, {4}, rng);
  Session s(g);
  Tensor symbolic = s.run({{x, xv}, {w, wv}}, {ddx})[0];
  Tensor numeric(f64, {4});
  for (int64_t e = 0; e < 4; ++e) {
    double x0 = xv.get(e), h = 1e-6;
    auto at = [&](double v) {
      xv.set(e, v);
      return run_reference(g, {{x, xv}, {w, wv}}, {dx})[0];
    };
    Tensor up = at(x0 + h), down = at(x0 - h);
    xv.set(e, x0);
    double d = 0;
    for (int64_t j = 0; j < 4; ++j) d += wv.get(j) * (up.get(j) - down.get(j)) / (2 * h);
    numeric.set(e, d);
  }
  CHECK(test::compare(symbolic, numeric, 1e-6) == "");
}

TEST_CASE("shared subterms are differentiated once", "[grad]") {
  // tanh(x) feeds three uses; its rule must still run once, adding as many
  // nodes as it does when tanh has a single use.
  auto tanh_gradient_nodes = [](bool shared) {
    Graph g;
    Value x = placeholder(g, "x", f32, {3});
    Value h = tanh(x, "t");
    Value y = shared ? sum(h * h + h) : sum(h);
    size_t before = g.size();
    gradients(y, {x});
    size_t count = 0;
    for (size_t i = before; i < g.size(); ++i)
      count += g.nodes()[i].name.starts_with("gradients/t/");
    return count;
  };
  CHECK(tanh_gradient_nodes(false) > 0);
  CHECK(tanh_gradient_nodes(true) == tanh_gradient_nodes(false));
}

TEST_CASE("a given upstream gradient differentiates a non-scalar", "[grad]") {
  Graph g;
  Value x = placeholder(g, "x", f32, {batch, 2});
  Value y = x * x;
  Value dy = placeholder(g, "dy", f32, {batch, 2});
  Value dx = gradients(y, {x}, dy)[0];
  Session s(g);
  Tensor xv = Tensor::from<float>({2, 2}, {1, 2, 3, 4});
  Tensor dyv = Tensor::from<float>({2, 2}, {1, 1, 0.5, -1});
  CHECK(test::compare(s.run({{x, xv}, {dy, dyv}}, {dx})[0],
                      Tensor::from<float>({2, 2}, {2, 4, 3, -8}), 0) == "");
}

TEST_CASE("gradients explain what they cannot do", "[grad][errors]") {
  Graph g;
  Value x = placeholder(g, "x", f32, {batch, 4});
  Value W = variable(g, "W", f32, {4, 3});
  Value unused = variable(g, "unused", f32, {3});
  Value logits = matmul(x, W, {}, "logits");
  auto message = [](auto f) {
    try {
      f();
    } catch (const Error &e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(message([&] { gradients(logits, {W}); }) ==
        "gradients: 'logits' is f32[?, 3], not a scalar: pass dy, the gradient of the loss with "
        "respect to it");
  Value through_argmax = sum(cast(argmax(logits, 1, false, "pick"), f32), {}, false, "loss");
  CHECK(message([&] { gradients(through_argmax, {W}); }) ==
        "gradients: no gradient flows from 'W' to 'loss': node 'pick' (argmax) is not "
        "differentiable (its output is i64)");
  Value through_compare = sum(cast(greater(logits, 0.0, "positive"), f32), {}, false, "loss2");
  CHECK(message([&] { gradients(through_compare, {W}); }) ==
        "gradients: no gradient flows from 'W' to 'loss2': node 'positive' (greater) is not "
        "differentiable (its output is bool)");
  CHECK(message([&] { gradients(sum(logits, {}, false, "total"), {unused}); }) ==
        "gradients: 'total' does not depend on 'unused'");
}
