// Values, naming, sources and operands; the op wrappers are in builder_ops.cpp.
#include "ops/builder.h"

#include "ir/error.h"

#include <algorithm>

namespace kiln {

namespace {

std::string node_name(const Graph &g, std::string_view op, std::string name) {
  return name.empty() ? g.unique_name(op) : g.scope_prefix() + name;
}

void check_inputs(const Graph &g, std::string_view op, const std::string &name,
                  const std::vector<Value> &inputs) {
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].graph) fail("node '{}' ({}): input {} is an empty Value", name, op, i);
    if (inputs[i].graph != &g)
      fail("node '{}' ({}): input {} ('{}') belongs to another graph", name, op, i,
           inputs[i].name());
  }
}

} // namespace

const Node &Value::node() const {
  if (!graph) fail("an empty Value (one not returned by a builder function) was used");
  return graph->node(id);
}

std::string unique_scope(const Graph &g, std::string_view base) {
  std::string prefix = g.scope_prefix();
  auto taken = [&](const std::string &scope) {
    std::string full = prefix + scope, inside = full + "/";
    return g.find(full) || std::any_of(g.nodes().begin(), g.nodes().end(),
                                       [&](const Node &n) { return n.name.starts_with(inside); });
  };
  std::string scope(base);
  for (int i = 1; taken(scope); ++i) scope = fmt::format("{}_{}", base, i);
  return scope;
}

Value apply(Graph &g, std::string_view op, const std::vector<Value> &inputs, Attrs attrs,
            std::string name) {
  name = node_name(g, op, std::move(name));
  check_inputs(g, op, name, inputs);
  std::vector<NodeId> ids;
  for (Value v : inputs) ids.push_back(v.id);
  return {&g, g.add_node(op, std::move(name), std::move(ids), std::move(attrs))};
}

Value apply(std::string_view op, const std::vector<Value> &inputs, Attrs attrs, std::string name) {
  if (inputs.empty() || !inputs[0].graph)
    fail("op '{}' needs an input Value to know its graph", op);
  return apply(*inputs[0].graph, op, inputs, std::move(attrs), std::move(name));
}

Value placeholder(Graph &g, std::string name, DType dtype, Shape shape) {
  return apply(g, "placeholder", {}, {{"dtype", dtype}, {"shape", std::move(shape)}},
               std::move(name));
}

Value constant(Graph &g, Tensor value, std::string name) {
  return apply(g, "constant", {}, {{"value", std::move(value)}}, std::move(name));
}

Value constant(Graph &g, float value, std::string name) {
  return constant(g, Tensor::scalar(value), std::move(name));
}

Value constant(Graph &g, double value, std::string name) {
  return constant(g, Tensor::scalar(value), std::move(name));
}

Value constant(Graph &g, int32_t value, std::string name) {
  return constant(g, Tensor::scalar(value), std::move(name));
}

Value constant(Graph &g, int64_t value, std::string name) {
  return constant(g, Tensor::scalar(value), std::move(name));
}

Value constant(Graph &g, bool value, std::string name) {
  return constant(g, Tensor::scalar(uint8_t{value}), std::move(name));
}

Value constant(Graph &g, double value, DType dtype, std::string name) {
  Tensor t(dtype, {});
  t.set(0, value);
  // An integer or bool that cannot hold the scalar (0.5 as i32) would silently
  // change its meaning; floats round as usual.
  if (!is_float(dtype) && t.get(0) != value)
    fail("the scalar {} is not representable as {}; cast the tensor or the scalar", value,
         to_string(dtype));
  return constant(g, std::move(t), std::move(name));
}

Value variable(Graph &g, std::string name, DType dtype, Shape shape, Init init, bool trainable) {
  Attrs attrs = {{"trainable", trainable},    {"dtype", dtype},
                 {"shape", std::move(shape)}, {"initializer", std::move(init.initializer)},
                 {"scale", init.scale},       {"seed", init.seed_value}};
  return apply(g, "variable", {}, std::move(attrs), std::move(name));
}

bool is_trainable(const Node &n) {
  return n.op->source == Source::variable && n.attr_bool("trainable") && is_float(n.type.dtype);
}

Value Operand::to_value(Value like) const {
  return value ? *value : constant(*like.graph, scalar, like.dtype());
}

} // namespace kiln
