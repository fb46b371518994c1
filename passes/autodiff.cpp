#include "passes/autodiff.h"

#include "ir/error.h"

namespace kiln {

namespace {

Value ones_like(Value y) {
  Tensor t(y.dtype(), y.shape());
  for (int64_t i = 0; i < t.size(); ++i) t.set(i, 1.0);
  return constant(*y.graph, std::move(t));
}

Value seed_gradient(Value y, std::optional<Value> dy) {
  if (dy) {
    if (dy->graph != y.graph) fail("gradients: dy belongs to another graph");
    if (dy->type() != y.type())
      fail("gradients: dy is {}, the gradient of '{}' must be {}", to_string(dy->type()), y.name(),
           to_string(y.type()));
    return *dy;
  }
  if (has_batch(y.shape()) || num_elements(y.shape()) != 1)
    fail("gradients: '{}' is {}, not a scalar: pass dy, the gradient of the loss with respect "
         "to it",
         y.name(), to_string(y.type()));
  return ones_like(y);
}

// The first node after `x` on a path from x to y that stops gradients:
// one with an integer or bool output, or one whose op has no gradient.
std::string blocker(const Graph &g, NodeId x, NodeId y, const std::vector<bool> &reaches_y) {
  std::vector<bool> from_x(size_t(y) + 1, false);
  from_x[size_t(x)] = true;
  for (NodeId id = x + 1; id <= y; ++id) {
    const Node &n = g.node(id);
    for (NodeId in : n.inputs) from_x[size_t(id)] = from_x[size_t(id)] || from_x[size_t(in)];
    if (!from_x[size_t(id)] || !reaches_y[size_t(id)]) continue;
    if (!is_float(n.type.dtype))
      return fmt::format("{} is not differentiable (its output is {})", n.describe(),
                         to_string(n.type.dtype));
    if (!n.op->grad) return fmt::format("{} has no gradient", n.describe());
  }
  return "no differentiable path";
}

} // namespace

std::vector<Value> gradients(Value y, const std::vector<Value> &xs, std::optional<Value> dy) {
  Graph &g = *y.graph;
  if (!is_float(y.node().type.dtype))
    fail("gradients: '{}' is {}; only float values have gradients", y.name(), to_string(y.dtype()));
  for (const Value &x : xs) {
    if (x.graph != &g) fail("gradients: '{}' belongs to another graph", x.name());
    if (!is_float(x.dtype()))
      fail("gradients: '{}' is {}; only float values have gradients", x.name(),
           to_string(x.dtype()));
  }

  auto n = size_t(y.id) + 1;
  std::vector<bool> reaches_y(n, false), from_xs(n, false);
  reaches_y[size_t(y.id)] = true;
  for (NodeId id = y.id; id >= 0; --id)
    if (reaches_y[size_t(id)])
      for (NodeId in : g.node(id).inputs) reaches_y[size_t(in)] = true;
  for (const Value &x : xs)
    if (x.id <= y.id) from_xs[size_t(x.id)] = true;
  for (NodeId id = 0; id <= y.id; ++id)
    for (NodeId in : g.node(id).inputs)
      from_xs[size_t(id)] = from_xs[size_t(id)] || from_xs[size_t(in)];
  auto carries_gradient = [&](NodeId id) {
    return reaches_y[size_t(id)] && from_xs[size_t(id)] && is_float(g.node(id).type.dtype);
  };

  Value seed = seed_gradient(y, dy);
  std::vector<Value> grads(n); // empty: no gradient (yet)
  grads[size_t(y.id)] = seed;
  Scope scope(g, unique_scope(g, "gradients"));
  for (NodeId id = y.id; id >= 0; --id) {
    if (!grads[size_t(id)].graph || !carries_gradient(id)) continue;
    // Copies: rules add nodes, which may move the node storage.
    const OpDef *op = g.node(id).op;
    std::vector<NodeId> input_ids = g.node(id).inputs;
    if (!op->grad) continue; // reported below if some x gets nothing
    Scope node_scope(g, g.node(id).name);
    GradContext c{{}, Value{&g, id}, grads[size_t(id)]};
    for (NodeId in : input_ids) c.inputs.push_back(Value{&g, in});
    for (size_t i = 0; i < input_ids.size(); ++i) {
      NodeId in = input_ids[i];
      if (!carries_gradient(in)) continue;
      Value gi = op->grad(c, i);
      if (!gi.graph) continue;
      if (gi.type() != g.node(in).type)
        fail("gradients: the gradient rule of {} gives {} for input {}, expected {}",
             g.node(id).describe(), to_string(gi.type()), i, to_string(g.node(in).type));
      Value &acc = grads[size_t(in)];
      acc = acc.graph ? add(acc, gi) : gi;
    }
  }

  std::vector<Value> result;
  for (const Value &x : xs) {
    if (x.id <= y.id && grads[size_t(x.id)].graph) {
      result.push_back(grads[size_t(x.id)]);
      continue;
    }
    if (x.id > y.id || !reaches_y[size_t(x.id)])
      fail("gradients: '{}' does not depend on '{}'", y.name(), x.name());
    fail("gradients: no gradient flows from '{}' to '{}': {}", x.name(), y.name(),
         blocker(g, x.id, y.id, reaches_y));
  }
  return result;
}

} // namespace kiln
