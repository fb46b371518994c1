// How host code names a node when running a session: by id, by name, or by
// a builder handle (anything with an `id` member, like kiln::Value).
#pragma once

#include "ir/graph.h"

#include <concepts>
#include <string>
#include <utility>
#include <vector>

namespace kiln {

class NodeRef {
public:
  NodeRef(NodeId id) : id_(id) {}
  NodeRef(std::string name) : name_(std::move(name)), by_name_(true) {}
  NodeRef(const char *name) : name_(name), by_name_(true) {}
  template <typename V>
  requires requires(const V &v) {
    { v.id } -> std::convertible_to<NodeId>;
  }
  NodeRef(const V &v) : id_(v.id) {}

  // What the name is for, in the error for an unknown one: a feed lists
  // the placeholders, a fetch the outputs (nodes nothing consumes); each
  // suggests the closest name ("no fetch named 'prediction'; did you mean
  // 'predicted'? outputs: loss, accuracy, predicted").
  enum class Role { node, feed, fetch };

  // Fails naming the missing node (or id) when the graph has no such node.
  NodeId resolve(const Graph &g, Role role = Role::node) const;

private:
  NodeId id_ = -1;
  std::string name_;
  bool by_name_ = false; // an empty name is a name too (and names no node)
};

using Feeds = std::vector<std::pair<NodeRef, Tensor>>;

// Feeds checked against their placeholders: ids, and the batch size that
// the feeds agree on (1 when no fed placeholder has a batch dim).
struct BoundFeeds {
  std::vector<std::pair<NodeId, Tensor>> feeds;
  int64_t batch_size = 1;
};
BoundFeeds bind_feeds(const Graph &g, const Feeds &feeds);

// The nodes that `roots` need, in graph (topological) order, stopping at fed
// placeholders; fails naming a placeholder that is needed but not fed.
std::vector<NodeId> needed_nodes(const Graph &g, const std::vector<NodeId> &roots,
                                 const BoundFeeds &feeds);

} // namespace kiln
