#include "passes/rewrite.h"

#include "ir/error.h"

namespace kiln {

Rewriter::Rewriter(const RootedGraph &in) : in_(in), map_(in.graph.size(), -1) {
  out_.reserve(in.graph.size()); // most passes keep most nodes
}

NodeId Rewriter::copy(const Node &n) {
  NodeId id = out_.add_node(n.op->name, n.name, mapped_inputs(n), n.attrs);
  replace(n.id, id);
  return id;
}

NodeId Rewriter::operator[](NodeId old) const {
  NodeId now = map_[size_t(old)];
  if (now < 0)
    fail("internal error: a pass dropped {}, which is still used", in_.graph.node(old).describe());
  return now;
}

std::vector<NodeId> Rewriter::mapped_inputs(const Node &n) const {
  std::vector<NodeId> inputs;
  for (NodeId in : n.inputs) inputs.push_back((*this)[in]);
  return inputs;
}

RootedGraph Rewriter::finish() && {
  RootedGraph out{std::move(out_), {}};
  for (NodeId r : in_.roots) out.roots.push_back((*this)[r]);
  return out;
}

std::vector<std::vector<NodeId>> users_of(const Graph &g) {
  std::vector<std::vector<NodeId>> users(g.size());
  for (const Node &n : g.nodes())
    for (NodeId in : n.inputs) users[size_t(in)].push_back(n.id);
  return users;
}

std::vector<bool> root_mask(const RootedGraph &in) {
  std::vector<bool> mask(in.graph.size(), false);
  for (NodeId r : in.roots) mask[size_t(r)] = true;
  return mask;
}

bool aliases_variable(const Node &n) {
  return n.op->source == Source::variable || n.op->updates_variable;
}

std::vector<NodeId> variable_storage(const Graph &g) {
  std::vector<NodeId> storage(g.size(), -1);
  for (const Node &n : g.nodes()) {
    if (n.op->source == Source::variable) storage[size_t(n.id)] = n.id;
    if (n.op->updates_variable) storage[size_t(n.id)] = storage[size_t(n.inputs[0])];
  }
  return storage;
}

std::vector<NodeId> variables_written(const Node &n, std::span<const NodeId> storage) {
  if (!n.op->updates_variable) return {};
  std::vector<NodeId> written = {storage[size_t(n.id)]};
  auto body = n.attrs.find("body");
  if (body == n.attrs.end()) return written;
  const Graph &b = *std::get<std::shared_ptr<const Graph>>(body->second);
  std::vector<NodeId> outer(b.size(), -1); // a body node's outer storage node
  for (const Node &m : b.nodes()) {
    if (m.op->name == "parameter") outer[size_t(m.id)] = n.inputs[size_t(m.attr_int("index"))];
    if (!m.op->updates_variable) continue;
    outer[size_t(m.id)] = outer[size_t(m.inputs[0])];
    NodeId v = storage[size_t(outer[size_t(m.id)])];
    if (std::find(written.begin(), written.end(), v) == written.end()) written.push_back(v);
  }
  return written;
}

std::vector<NodeId> variables_read(const Node &n, std::span<const NodeId> storage) {
  std::vector<NodeId> read;
  for (NodeId in : n.inputs)
    if (storage[size_t(in)] >= 0) read.push_back(storage[size_t(in)]);
  return read;
}

std::vector<int> updates_before(const Graph &g) {
  std::vector<int> count(g.size() + 1, 0);
  for (const Node &n : g.nodes())
    count[size_t(n.id) + 1] = count[size_t(n.id)] + (n.op->updates_variable ? 1 : 0);
  return count;
}

} // namespace kiln
