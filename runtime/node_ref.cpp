#include "runtime/node_ref.h"

#include "ir/error.h"
#include "ir/suggest.h"

#include <algorithm>
#include <functional>

namespace kiln {

namespace {

std::vector<std::string> names_where(const Graph &g,
                                     const std::function<bool(const Node &)> &keep) {
  std::vector<std::string> names;
  for (const Node &n : g.nodes())
    if (keep(n)) names.push_back(n.name);
  return names;
}

std::vector<std::string> output_names(const Graph &g) {
  std::vector<std::string> names;
  for (NodeId id : sink_nodes(g)) names.push_back(g.node(id).name);
  return names;
}

[[noreturn]] void unknown(const Graph &g, const std::string &name, NodeRef::Role role) {
  std::vector<std::string> all = names_where(g, [](const Node &) { return true; });
  switch (role) {
  case NodeRef::Role::feed: {
    auto placeholders =
        names_where(g, [](const Node &n) { return n.op->source == Source::placeholder; });
    fail("{}", unknown_name("placeholder", name, placeholders, "placeholders", placeholders));
  }
  case NodeRef::Role::fetch: // any node can be fetched, the outputs usually are
    fail("{}", unknown_name("fetch", name, all, "outputs", output_names(g)));
  case NodeRef::Role::node: break;
  }
  fail("{}", unknown_name("node", name, all, "", {}));
}

} // namespace

NodeId NodeRef::resolve(const Graph &g, Role role) const {
  constexpr std::string_view kWhat[] = {"node", "feed", "fetch"};
  if (by_name_) {
    if (name_.empty()) fail("a {} name is empty", kWhat[int(role)]);
    if (std::optional<NodeId> id = g.find(name_)) return *id;
    unknown(g, name_, role);
  }
  if (id_ < 0 || static_cast<size_t>(id_) >= g.size()) fail("no node with id {}", id_);
  return id_;
}

BoundFeeds bind_feeds(const Graph &g, const Feeds &feeds) {
  BoundFeeds bound;
  std::string batch_from;
  bool have_batch = false;
  for (const auto &[ref, tensor] : feeds) {
    const Node &n = g.node(ref.resolve(g, NodeRef::Role::feed));
    if (n.op->source != Source::placeholder)
      fail("feed '{}': only placeholders can be fed, this is a {} node", n.name, n.op->name);
    for (const auto &[id, t] : bound.feeds)
      if (id == n.id) fail("feed '{}': fed twice", n.name);
    if (tensor.empty_handle()) fail("feed '{}': the tensor is empty (default-constructed)", n.name);
    const TensorType &want = n.type;
    if (tensor.dtype() != want.dtype)
      fail("feed '{}': expected dtype {}, got {}", n.name, to_string(want.dtype),
           to_string(tensor.dtype()));
    bool shape_ok = tensor.shape().size() == want.shape.size();
    for (size_t d = 0; shape_ok && d < want.shape.size(); ++d) {
      if (!is_batch(want.shape[d])) {
        shape_ok = want.shape[d] == tensor.shape()[d];
      } else if (!have_batch) {
        bound.batch_size = tensor.shape()[d];
        batch_from = n.name;
        have_batch = true;
      } else if (bound.batch_size != tensor.shape()[d]) {
        fail("feed '{}': batch size {} differs from feed '{}''s {}", n.name, tensor.shape()[d],
             batch_from, bound.batch_size);
      }
    }
    if (!shape_ok)
      fail("feed '{}': expected shape {}, got {}", n.name, to_string(want.shape),
           to_string(tensor.shape()));
    bound.feeds.emplace_back(n.id, tensor);
  }
  return bound;
}

std::vector<NodeId> needed_nodes(const Graph &g, const std::vector<NodeId> &roots,
                                 const BoundFeeds &feeds) {
  std::vector<bool> needed(g.size(), false), fed(g.size(), false);
  std::vector<NodeId> needed_by(g.size(), -1);
  for (const auto &[id, t] : feeds.feeds) fed[size_t(id)] = true;
  std::vector<NodeId> stack;
  for (NodeId r : roots) {
    stack.push_back(r);
    needed_by[size_t(r)] = r;
  }
  while (!stack.empty()) {
    NodeId id = stack.back();
    stack.pop_back();
    if (needed[size_t(id)]) continue;
    needed[size_t(id)] = true;
    const Node &n = g.node(id);
    if (n.op->source == Source::placeholder && !fed[size_t(id)])
      fail("placeholder '{}' must be fed: '{}' needs it", n.name,
           g.node(needed_by[size_t(id)]).name);
    for (NodeId in : n.inputs) {
      if (needed_by[size_t(in)] < 0) needed_by[size_t(in)] = needed_by[size_t(id)];
      stack.push_back(in);
    }
  }
  std::vector<NodeId> order;
  for (const Node &n : g.nodes())
    if (needed[size_t(n.id)]) order.push_back(n.id);
  return order;
}

} // namespace kiln
