#include "passes/autodiff.h"

#include "ir/error.h"

#include <algorithm>
#include <optional>

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

// The offset of slice_grad node `n` along `axis` of its output: its begin
// attribute as slice resolves it (negative from the end, clamped).
int64_t slice_offset(const Node &n, size_t axis) {
  const std::vector<int64_t> &begin = n.attr_ints("begin");
  int64_t dim = n.type.shape[axis], b = axis < begin.size() ? begin[axis] : 0;
  if (b < 0) b += dim;
  return std::clamp<int64_t>(b, 0, dim);
}

// The gradient of a value read by slices (split, an unrolled sequence's
// steps) is the sum of its slices' slice_grads, each a full-size tensor of
// zeros around its dy: O(slices^2) work. When the slices are step 1, along
// one axis, and tile it, the sum is the concatenation of their dys, built
// here instead. Empty when they do not tile.
Value concat_slice_grads(const Graph &g, const std::vector<Value> &parts) {
  if (parts.size() < 2) return {};
  const Shape &full = parts[0].shape();
  std::optional<size_t> axis;
  std::vector<std::pair<int64_t, Value>> pieces; // (offset, dy)
  for (const Value &p : parts) {
    const Node &n = p.node();
    const std::vector<int64_t> &steps = n.attr_ints("steps");
    if (std::any_of(steps.begin(), steps.end(), [](int64_t s) { return s != 1; })) return {};
    Shape dy = g.node(n.inputs[0]).type.shape;
    for (size_t d = 0; d < full.size(); ++d) {
      if (dy[d] == full[d]) continue;
      if (axis && *axis != d) return {};
      axis = d;
    }
    if (!axis) return {};
    pieces.emplace_back(slice_offset(n, *axis), Value{p.graph, n.inputs[0]});
  }
  std::sort(pieces.begin(), pieces.end(),
            [](const auto &a, const auto &b) { return a.first < b.first; });
  int64_t covered = 0;
  std::vector<Value> dys;
  for (const auto &[offset, dy] : pieces) {
    if (offset != covered) return {};
    covered += dy.shape()[*axis];
    dys.push_back(dy);
  }
  if (covered != full[*axis]) return {};
  return concat(dys, int64_t(*axis), {});
}

// Adds the slice_grads kept aside for a node to its gradient `acc`: as one
// concat when they tile it, else one by one.
void add_slice_grads(Graph &g, Value &acc, const std::vector<Value> &parts) {
  if (parts.empty()) return;
  Value tiled = concat_slice_grads(g, parts);
  if (tiled.graph) {
    acc = acc.graph ? add(acc, tiled) : tiled;
    return;
  }
  for (const Value &p : parts) acc = acc.graph ? add(acc, p) : p;
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
  // Slice gradients of each node, summed when all its users are done.
  std::vector<std::vector<Value>> slice_grads(n);
  grads[size_t(y.id)] = seed;
  Scope scope(g, unique_scope(g, "gradients"));
  for (NodeId id = y.id; id >= 0; --id) {
    if (!slice_grads[size_t(id)].empty()) {
      Scope node_scope(g, g.node(id).name);
      add_slice_grads(g, grads[size_t(id)], slice_grads[size_t(id)]);
    }
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
      if (gi.node().op->name == "slice_grad" && gi.node().inputs[1] == in) {
        slice_grads[size_t(in)].push_back(gi);
        continue;
      }
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
