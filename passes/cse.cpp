// Common-subexpression elimination: a node that computes what an earlier one
// computes (same op, same inputs after merging, equal attributes) becomes
// that node. Constants merge by value, so the many 1s and 0s autodiff makes
// become one each.
//
// Never merged: placeholders and variables (each is its own value), stateful
// and updating ops (each random draw and assignment is its own effect), and
// roots, which keep their names (a later node may still merge into a root).
// A node that takes a variable's storage as an input (aliases_variable)
// reads it as of its own position, so it merges only with a node that has
// no update between them.
#include "passes/passes.h"
#include "passes/rewrite.h"

#include <string_view>
#include <unordered_map>

namespace kiln {

namespace {

struct Key {
  const Node *node; // of the input graph: its op and attributes
  std::vector<NodeId> inputs;
  int updates_before = -1; // -1 unless the node reads a variable's storage

  bool operator==(const Key &other) const {
    return node->op == other.node->op && inputs == other.inputs &&
           updates_before == other.updates_before && attrs_equal(node->attrs, other.node->attrs);
  }
};

void mix(size_t &h, size_t value) { h ^= value + 0x9e3779b97f4a7c15 + (h << 6) + (h >> 2); }

size_t hash_attr(const AttrValue &v) {
  // Printed attributes are exact except for tensors over 8 elements.
  size_t h = std::hash<std::string>{}(to_string(v));
  if (const Tensor *t = std::get_if<Tensor>(&v))
    mix(h, std::hash<std::string_view>{}({static_cast<const char *>(t->raw()), t->bytes()}));
  return h;
}

struct KeyHash {
  size_t operator()(const Key &k) const {
    size_t h = std::hash<const OpDef *>{}(k.node->op);
    for (NodeId in : k.inputs) mix(h, std::hash<NodeId>{}(in));
    mix(h, std::hash<int>{}(k.updates_before));
    for (const auto &[name, value] : k.node->attrs) {
      mix(h, std::hash<std::string>{}(name));
      mix(h, hash_attr(value));
    }
    return h;
  }
};

bool mergeable(const Node &n) {
  const OpDef &op = *n.op;
  return !op.stateful && !op.updates_variable && op.source != Source::placeholder &&
         op.source != Source::variable;
}

} // namespace

RootedGraph eliminate_common_subexpressions(const RootedGraph &in) {
  const Graph &g = in.graph;
  std::vector<bool> is_root = root_mask(in);
  std::vector<int> updates = updates_before(g);
  std::unordered_map<Key, NodeId, KeyHash> first; // output node per key
  Rewriter r(in);
  for (const Node &n : g.nodes()) {
    if (!mergeable(n)) {
      r.copy(n);
      continue;
    }
    Key key{&n, r.mapped_inputs(n)};
    for (NodeId input : key.inputs)
      if (aliases_variable(r.output().node(input))) key.updates_before = updates[size_t(n.id)];
    auto found = first.find(key);
    if (found == first.end())
      first.emplace(std::move(key), r.copy(n));
    else if (is_root[size_t(n.id)])
      r.copy(n);
    else
      r.replace(n.id, found->second);
  }
  return std::move(r).finish();
}

} // namespace kiln
