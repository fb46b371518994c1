// Ops that change variables in place: assign, assign_add, assign_sub, the
// moving averages behind batch norm and Adam, and the optimizers' parameter
// updates. Each is an elementwise row whose input 0 is the variable it
// rewrites, so one update is one loop over the variable, and `group`
// bundles updates into one training target.
//
// The optimizers' rules follow PyTorch's (torch.optim) so that a recipe
// means the same thing in both; weight decay is decoupled (AdamW-style):
// var *= 1 - lr * weight_decay, then the step.
#include "ops/state_ops.h"

#include "ir/error.h"
#include "ops/elementwise.h"
#include "ops/lowering.h"
#include "ops/scalar_builder.h"

#include <cmath>

namespace kiln::ops {

namespace {

using compiler::ScalarBuilder;
using V = ScalarBuilder::V;

OpDef update_op(ElementwiseSpec spec) {
  OpDef def = elementwise_op(spec);
  def.updates_variable = true;
  def.stateful = true;
  auto infer = def.infer;
  def.infer = [infer](const Node &node, std::span<const TensorType> in) {
    TensorType t = infer(node, in);
    if (t.shape != in[0].shape)
      fail("the update has shape {}, the variable {}", to_string(t.shape), to_string(in[0].shape));
    return t;
  };
  return def;
}

double attr(const Node &n, const char *name) { return n.attr_float(name); }
V attr(ScalarBuilder &b, const char *name, V like) {
  return b.constant(b.node().attr_float(name), like);
}

AttrSpec f(const char *name, double value) { return {name, AttrKind::f, value}; }

std::vector<ElementwiseSpec> updates() {
  return {
      {"assign",
       2,
       DTypes::any,
       {},
       [](const Node &, std::span<const double> x) { return x[1]; },
       [](ScalarBuilder &, std::span<V const> a) { return a[1]; }},
      {"assign_add",
       2,
       DTypes::numeric,
       {},
       [](const Node &, std::span<const double> x) { return x[0] + x[1]; },
       [](ScalarBuilder &b, std::span<V const> a) { return b.add(a[0], a[1]); }},
      {"assign_sub",
       2,
       DTypes::numeric,
       {},
       [](const Node &, std::span<const double> x) { return x[0] - x[1]; },
       [](ScalarBuilder &b, std::span<V const> a) { return b.sub(a[0], a[1]); }},
      // avg = decay * avg + (1 - decay) * x (or x^2): running statistics, Adam's moments.
      {"moving_average",
       2,
       DTypes::floats,
       {f("decay", 0.9), {"squared", AttrKind::b, false}},
       [](const Node &n, std::span<const double> x) {
         double v = n.attr_bool("squared") ? x[1] * x[1] : x[1];
         return attr(n, "decay") * x[0] + (1 - attr(n, "decay")) * v;
       },
       [](ScalarBuilder &b, std::span<V const> a) {
         V decay = attr(b, "decay", a[0]);
         V v = b.node().attr_bool("squared") ? b.mul(a[1], a[1]) : a[1];
         return b.add(b.mul(decay, a[0]), b.mul(b.sub(b.constant(1, a[0]), decay), v));
       }},
      // accum = momentum * accum + grad (PyTorch's momentum buffer).
      {"momentum_accumulate",
       2,
       DTypes::floats,
       {f("momentum", 0.9)},
       [](const Node &n, std::span<const double> x) { return attr(n, "momentum") * x[0] + x[1]; },
       [](ScalarBuilder &b, std::span<V const> a) {
         return b.add(b.mul(attr(b, "momentum", a[0]), a[0]), a[1]);
       }},
      // (var, grad, lr): var * (1 - lr * wd) - lr * grad.
      {"sgd_update",
       3,
       DTypes::floats,
       {f("weight_decay", 0)},
       [](const Node &n, std::span<const double> x) {
         return x[0] * (1 - x[2] * attr(n, "weight_decay")) - x[2] * x[1];
       },
       [](ScalarBuilder &b, std::span<V const> a) {
         V keep = b.sub(b.constant(1, a[0]), b.mul(a[2], attr(b, "weight_decay", a[0])));
         return b.sub(b.mul(a[0], keep), b.mul(a[2], a[1]));
       }},
      // (var, accum, grad, lr): the step is accum, or grad + momentum * accum (Nesterov).
      {"momentum_update",
       4,
       DTypes::floats,
       {f("momentum", 0.9), {"nesterov", AttrKind::b, false}, f("weight_decay", 0)},
       [](const Node &n, std::span<const double> x) {
         double step = n.attr_bool("nesterov") ? x[2] + attr(n, "momentum") * x[1] : x[1];
         return x[0] * (1 - x[3] * attr(n, "weight_decay")) - x[3] * step;
       },
       [](ScalarBuilder &b, std::span<V const> a) {
         V step = b.node().attr_bool("nesterov")
                      ? b.add(a[2], b.mul(attr(b, "momentum", a[0]), a[1]))
                      : a[1];
         V keep = b.sub(b.constant(1, a[0]), b.mul(a[3], attr(b, "weight_decay", a[0])));
         return b.sub(b.mul(a[0], keep), b.mul(a[3], step));
       }},
      // (var, mean_square, grad, lr): var - lr * grad / (sqrt(mean_square) + eps).
      {"rmsprop_update",
       4,
       DTypes::floats,
       {f("epsilon", 1e-8), f("weight_decay", 0)},
       [](const Node &n, std::span<const double> x) {
         double keep = 1 - x[3] * attr(n, "weight_decay");
         return x[0] * keep - x[3] * x[2] / (std::sqrt(x[1]) + attr(n, "epsilon"));
       },
       [](ScalarBuilder &b, std::span<V const> a) {
         V keep = b.sub(b.constant(1, a[0]), b.mul(a[3], attr(b, "weight_decay", a[0])));
         V denom = b.add(b.sqrt(a[1]), attr(b, "epsilon", a[0]));
         return b.sub(b.mul(a[0], keep), b.div(b.mul(a[3], a[2]), denom));
       }},
      // (var, m, v, step_size, denom_scale, keep) with the bias corrections in
      // the scalars: var * keep - step_size * m / (sqrt(v) * denom_scale + eps),
      // step_size = lr / (1 - beta1^t), denom_scale = 1 / sqrt(1 - beta2^t).
      {"adam_update",
       6,
       DTypes::floats,
       {f("epsilon", 1e-8)},
       [](const Node &n, std::span<const double> x) {
         return x[0] * x[5] - x[3] * x[1] / (std::sqrt(x[2]) * x[4] + attr(n, "epsilon"));
       },
       [](ScalarBuilder &b, std::span<V const> a) {
         V denom = b.add(b.mul(b.sqrt(a[2]), a[4]), attr(b, "epsilon", a[0]));
         return b.sub(b.mul(a[0], a[5]), b.div(b.mul(a[3], a[1]), denom));
       }},
  };
}

// group(inputs...): a target that runs its inputs; its value is true.
OpDef group_op() {
  OpDef def;
  def.name = "group";
  def.max_inputs = -1;
  def.infer = [](const Node &, std::span<const TensorType>) {
    return TensorType{DType::boolean, {}};
  };
  def.reference = [](const Node &, std::span<const Tensor>, Tensor &out) { out.set(0, 1); };
  def.lower = [](compiler::Lowering &l) {
    l.fill(DType::boolean, {}, compiler::contiguous(l.output(), {}), 1);
  };
  return def;
}

} // namespace

void register_state_ops(OpRegistry &registry) {
  for (ElementwiseSpec &s : updates()) registry.add(update_op(std::move(s)));
  registry.add(group_op());
}

} // namespace kiln::ops
