// Activation functions: elementwise rows (sigmoid ... gelu) and the
// softmax family, which normalizes along an axis with a library kernel.
#include "ops/activations.h"

#include "ir/error.h"
#include "kernels/kernel_abi.h"
#include "ops/elementwise.h"
#include "ops/grad.h"
#include "ops/lowering.h"
#include "ops/scalar_builder.h"

#include <cmath>

namespace kiln::ops {

using compiler::ScalarBuilder;
using V = ScalarBuilder::V;
using Cmp = ScalarBuilder::Cmp;

namespace {

// An activation with gradient `grad(c)`.
ElementwiseSpec activation(std::string name, std::vector<AttrSpec> attrs,
                           double (*ref)(const Node &, double), V (*emit)(ScalarBuilder &, V),
                           Value (*grad)(const GradContext &c)) {
  return {name,
          1,
          DTypes::floats,
          std::move(attrs),
          [ref](const Node &n, std::span<const double> x) {
            return std::isnan(x[0]) ? x[0] : ref(n, x[0]);
          },
          [emit](ScalarBuilder &b, std::span<V const> a) { return emit(b, a[0]); },
          nullptr,
          [grad](const GradContext &c, size_t) { return grad(c); }};
}

std::vector<ElementwiseSpec> activations() {
  AttrSpec alpha_leaky{"alpha", AttrKind::f, 0.01};
  AttrSpec alpha_elu{"alpha", AttrKind::f, 1.0};
  return {
      activation(
          "sigmoid", {}, [](const Node &, double x) { return 1 / (1 + std::exp(-x)); },
          [](ScalarBuilder &b, V x) {
            V one = b.constant(1, x);
            return b.div(one, b.add(one, b.math("exp", b.neg(x))));
          },
          [](const GradContext &c) { return c.dy * c.output * (1.0 - c.output); }),
      activation(
          "tanh", {}, [](const Node &, double x) { return std::tanh(x); },
          [](ScalarBuilder &b, V x) { return b.math("tanh", x); },
          [](const GradContext &c) { return c.dy * (1.0 - square(c.output)); }),
      activation(
          "relu", {}, [](const Node &, double x) { return x > 0 ? x : 0.0; },
          [](ScalarBuilder &b, V x) { return b.max(x, b.constant(0, x)); },
          // From the output (relu(x) > 0 exactly when x > 0): the input
          // then has no user but relu, which fusion can absorb.
          [](const GradContext &c) { return select(greater(c.output, 0.0), c.dy, 0.0); }),
      activation(
          "leaky_relu", {alpha_leaky},
          [](const Node &n, double x) { return x > 0 ? x : n.attr_float("alpha") * x; },
          [](ScalarBuilder &b, V x) {
            V scaled = b.mul(x, b.constant(b.node().attr_float("alpha"), x));
            return b.select(b.compare(Cmp::gt, x, b.constant(0, x)), x, scaled);
          },
          [](const GradContext &c) {
            return select(greater(c.x(0), 0.0), c.dy, c.dy * c.node().attr_float("alpha"));
          }),
      activation(
          "elu", {alpha_elu},
          [](const Node &n, double x) { return x > 0 ? x : n.attr_float("alpha") * std::expm1(x); },
          [](ScalarBuilder &b, V x) {
            V neg = b.mul(b.constant(b.node().attr_float("alpha"), x), b.math("expm1", x));
            return b.select(b.compare(Cmp::gt, x, b.constant(0, x)), x, neg);
          },
          [](const GradContext &c) {
            double alpha = c.node().attr_float("alpha");
            return select(greater(c.x(0), 0.0), c.dy, c.dy * (c.output + alpha));
          }),
      // softplus(x) = max(x, 0) + log1p(exp(-|x|)): no overflow for large x.
      activation(
          "softplus", {},
          [](const Node &, double x) {
            return std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x)));
          },
          [](ScalarBuilder &b, V x) {
            V tail = b.math("log1p", b.math("exp", b.neg(b.abs(x))));
            return b.add(b.max(x, b.constant(0, x)), tail);
          },
          [](const GradContext &c) { return c.dy * sigmoid(c.x(0)); }),
      // The exact GELU, x * Phi(x), as PyTorch's default.
      activation(
          "gelu", {},
          [](const Node &, double x) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); },
          [](ScalarBuilder &b, V x) {
            V phi = b.add(b.constant(1, x), b.math("erf", b.mul(x, b.constant(M_SQRT1_2, x))));
            return b.mul(b.mul(b.constant(0.5, x), x), phi);
          },
          // gelu'(x) = Phi(x) + x phi(x).
          [](const GradContext &c) {
            Value x = c.x(0);
            Value cdf = (erf(x * M_SQRT1_2) + 1.0) * 0.5;
            Value pdf = exp(square(x) * -0.5) * (0.5 * M_2_SQRTPI * M_SQRT1_2);
            return c.dy * (cdf + x * pdf);
          }),
  };
}

// Reference softmax along one axis, in double precision.
void reference_softmax(const Node &node, const Tensor &in, Tensor &out, bool log) {
  AxisSplit s = split_at_axis(in.shape(), node.attr_int("axis"), node.describe());
  for (int64_t o = 0; o < s.outer; ++o)
    for (int64_t i = 0; i < s.inner; ++i) {
      auto at = [&](int64_t a) { return (o * s.axis + a) * s.inner + i; };
      double m = -INFINITY, sum = 0;
      for (int64_t a = 0; a < s.axis; ++a) m = std::max(m, in.get(at(a)));
      for (int64_t a = 0; a < s.axis; ++a) sum += std::exp(in.get(at(a)) - m);
      for (int64_t a = 0; a < s.axis; ++a) {
        double z = in.get(at(a)) - m;
        out.set(at(a), log ? z - std::log(sum) : std::exp(z) / sum);
      }
    }
}

OpDef softmax_op(std::string name, bool log) {
  OpDef def;
  def.name = std::move(name);
  def.min_inputs = def.max_inputs = 1;
  def.attrs = {{"axis", AttrKind::i, int64_t{-1}}};
  def.infer = [](const Node &node, std::span<const TensorType> in) {
    check_same_dtype(in, DTypes::floats);
    normalize_axis(node.attr_int("axis"), static_cast<int64_t>(in[0].shape.size()), node.op->name);
    return in[0];
  };
  def.reference = [log](const Node &node, std::span<const Tensor> in, Tensor &out) {
    reference_softmax(node, in[0], out, log);
  };
  def.grad = [log](const GradContext &c, size_t) {
    int64_t axis = c.node().attr_int("axis");
    if (log) return c.dy - exp(c.output) * sum(c.dy, {axis}, /*keepdims=*/true);
    return c.output * (c.dy - sum(c.dy * c.output, {axis}, /*keepdims=*/true));
  };
  def.lower = [log](compiler::Lowering &l) {
    const TensorType &t = l.input_type(0);
    AxisSplit s = split_at_axis(t.shape, l.node().attr_int("axis"), l.node().describe());
    std::string fn =
        std::string(log ? "kiln_log_softmax_" : "kiln_softmax_") + compiler::kernel_suffix(t.dtype);
    using compiler::KernelArg;
    l.call(fn,
           {KernelArg::buf(l.input(0)), KernelArg::buf(l.output()), KernelArg::int64(s.outer),
            KernelArg::int64(s.axis), KernelArg::int64(s.inner)},
           abi::kiln_softmax_tasks(s.outer, s.inner), abi::kiln_softmax_task_cost(s.axis, s.inner));
  };
  return def;
}

} // namespace

void register_activation_ops(OpRegistry &registry) {
  for (const ElementwiseSpec &s : activations()) registry.add(elementwise_op(s));
  registry.add(softmax_op("softmax", false));
  registry.add(softmax_op("log_softmax", true));
}

} // namespace kiln::ops
