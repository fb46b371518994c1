#include "ir/graph.h"

#include "ir/error.h"
#include "ir/suggest.h"
#include "ir/utf8.h"

#include <algorithm>
#include <fmt/format.h>

namespace kiln {

std::string to_string(const TensorType &t) {
  return std::string(to_string(t.dtype)) + to_string(t.shape);
}

const AttrValue &Node::attr(std::string_view key) const {
  auto it = attrs.find(key);
  if (it == attrs.end()) fail("{}: has no attribute '{}'", describe(), key);
  return it->second;
}

std::string Node::describe() const {
  return fmt::format("node '{}' ({})", name, op ? op->name : "?");
}

namespace {

// Fills defaults and checks that every attribute is known and of its kind.
void check_attrs(const Node &node, Attrs &attrs) {
  const OpDef &op = *node.op;
  for (const auto &[key, value] : attrs) {
    auto spec = std::find_if(op.attrs.begin(), op.attrs.end(),
                             [&](const AttrSpec &s) { return s.name == key; });
    if (spec == op.attrs.end()) {
      std::vector<std::string> known;
      for (const AttrSpec &s : op.attrs) known.push_back(s.name);
      fail("{}: unknown attribute '{}'{}", node.describe(), escaped(key), did_you_mean(key, known));
    }
    if (kind_of(value) != spec->kind)
      fail("{}: attribute '{}' must be {}, got {}", node.describe(), key, to_string(spec->kind),
           to_string(kind_of(value)));
    // Strings are saved as protobuf strings, which must be UTF-8.
    if (auto *text = std::get_if<std::string>(&value); text && !is_valid_utf8(*text))
      fail("{}: attribute '{}' is not valid UTF-8: '{}'", node.describe(), key, escaped(*text));
  }
  for (const AttrSpec &spec : op.attrs) {
    if (attrs.count(spec.name)) continue;
    if (!spec.default_value)
      fail("{}: missing required attribute '{}'", node.describe(), spec.name);
    attrs.emplace(spec.name, *spec.default_value);
  }
}

TensorType infer_checked(const Node &node, std::span<const TensorType> inputs) {
  try {
    // An inferred shape is held to the rules of any other (2^48 elements at
    // most, so that the next node's shape arithmetic cannot overflow).
    TensorType type = node.op->infer(node, inputs);
    check_dims(type.shape, /*allow_batch=*/true);
    return type;
  } catch (const Error &e) {
    fail("{}: {}", node.describe(), e.what());
  }
}

void check_bound(const Node &node, const Shape &shape, int64_t batch_size) {
  try {
    check_dims(shape, /*allow_batch=*/false);
  } catch (const Error &e) {
    fail("{}: {} at batch size {}", node.describe(), e.what(), batch_size);
  }
}

} // namespace

NodeId Graph::add_node(std::string_view op_name, std::string name, std::vector<NodeId> inputs,
                       Attrs attrs) {
  Node node;
  node.name = std::move(name);
  node.op = OpRegistry::get().find(op_name);
  if (node.name.empty()) fail("a node of op '{}' has an empty name", escaped(op_name));
  // A saved graph must be readable back, and protobuf strings are UTF-8.
  if (!is_valid_utf8(node.name)) fail("node '{}': the name is not valid UTF-8", escaped(node.name));
  if (!node.op) {
    std::vector<std::string> ops;
    for (const OpDef &def : OpRegistry::get().all()) ops.push_back(def.name);
    fail("node '{}': unknown op '{}'{}", node.name, escaped(op_name), did_you_mean(op_name, ops));
  }
  // Described only to fail: a pass adds every node of the graph again.
  auto who = [&] { return node.describe(); };
  if (by_name_.count(node.name)) fail("{}: duplicate node name", who());

  int count = static_cast<int>(inputs.size());
  const OpDef &op = *node.op;
  if (count < op.min_inputs || (op.max_inputs >= 0 && count > op.max_inputs)) {
    if (op.min_inputs == op.max_inputs)
      fail("{}: expected {} inputs, got {}", who(), op.min_inputs, count);
    if (count < op.min_inputs)
      fail("{}: expected at least {} inputs, got {}", who(), op.min_inputs, count);
    fail("{}: expected at most {} inputs, got {}", who(), op.max_inputs, count);
  }
  std::vector<TensorType> input_types;
  for (NodeId in : inputs) {
    if (in < 0 || static_cast<size_t>(in) >= nodes_.size())
      fail("{}: input id {} is not in the graph", who(), in);
    input_types.push_back(nodes_[static_cast<size_t>(in)].type);
  }
  check_attrs(node, attrs);
  if (op.updates_variable) {
    const Node &target = nodes_[static_cast<size_t>(inputs.at(0))];
    // In a fused body (ops/fusion.h), a parameter stands for the variable.
    if (target.op->source != Source::variable && !target.op->updates_variable &&
        target.op->name != "parameter")
      fail("{}: input 0 must be a variable, got {}", who(), target.describe());
  }

  node.id = static_cast<NodeId>(nodes_.size());
  node.inputs = std::move(inputs);
  node.attrs = std::move(attrs);
  node.type = infer_checked(node, input_types);
  by_name_.emplace(node.name, node.id);
  nodes_.push_back(std::move(node));
  return nodes_.back().id;
}

void Graph::reserve(size_t nodes) {
  nodes_.reserve(nodes);
  by_name_.reserve(nodes);
}

std::optional<NodeId> Graph::find(std::string_view name) const {
  auto it = by_name_.find(std::string(name));
  if (it == by_name_.end()) return std::nullopt;
  return it->second;
}

NodeId Graph::at(std::string_view name) const {
  if (auto id = find(name)) return *id;
  fail("no node named '{}'", name);
}

void Graph::push_scope(std::string_view scope) { scopes_.emplace_back(scope); }

void Graph::pop_scope() { scopes_.pop_back(); }

std::string Graph::scope_prefix() const {
  std::string prefix;
  for (const std::string &s : scopes_) prefix += s + "/";
  return prefix;
}

std::string Graph::unique_name(std::string_view base) const {
  std::string prefix = scope_prefix();
  std::string name = prefix + std::string(base);
  if (!by_name_.count(name)) return name;
  int &next = next_suffix_[name];
  for (int i = std::max(next, 1);; ++i) {
    std::string candidate = fmt::format("{}{}_{}", prefix, base, i);
    if (!by_name_.count(candidate)) {
      next = i;
      return candidate;
    }
  }
}

bool Graph::operator==(const Graph &other) const {
  if (nodes_.size() != other.nodes_.size()) return false;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const Node &a = nodes_[i], &b = other.nodes_[i];
    if (a.name != b.name || a.op != b.op || a.inputs != b.inputs || !(a.type == b.type) ||
        !attrs_equal(a.attrs, b.attrs))
      return false;
  }
  return true;
}

std::vector<TensorType> bind_types(const Graph &g, int64_t batch_size) {
  std::vector<TensorType> types;
  types.reserve(g.size());
  for (const Node &node : g.nodes()) {
    types.push_back({node.type.dtype, bind_batch(node.type.shape, batch_size)});
    // Within 2^48 elements with the batch dim symbolic, not always once bound.
    if (has_batch(node.type.shape)) check_bound(node, types.back().shape, batch_size);
  }
  return types;
}

std::vector<NodeId> sink_nodes(const Graph &g) {
  std::vector<bool> used(g.size(), false);
  for (const Node &n : g.nodes())
    for (NodeId in : n.inputs) used[size_t(in)] = true;
  std::vector<NodeId> sinks;
  for (const Node &n : g.nodes())
    if (!used[size_t(n.id)]) sinks.push_back(n.id);
  return sinks;
}

} // namespace kiln
