// How passes build their output: a Rewriter walks the input graph in order
// and adds to a new graph the nodes it keeps (copied with their inputs
// mapped) or their replacements; finish() maps the roots.
#pragma once

#include "passes/pass.h"

#include <span>
#include <vector>

namespace kiln {

class Rewriter {
public:
  explicit Rewriter(const RootedGraph &in);

  const Graph &input() const { return in_.graph; }
  Graph &output() { return out_; }

  // Adds input node `n` to the output, same op, name and attributes, its
  // inputs mapped; records and returns its new id.
  NodeId copy(const Node &n);
  // Records that output node `now` stands for input node `old`.
  void replace(NodeId old, NodeId now) { map_[size_t(old)] = now; }
  // The output node that stands for input node `old`: fails when it was dropped.
  NodeId operator[](NodeId old) const;
  bool kept(NodeId old) const { return map_[size_t(old)] >= 0; }
  std::vector<NodeId> mapped_inputs(const Node &n) const;

  RootedGraph finish() &&;

private:
  const RootedGraph &in_;
  Graph out_;
  std::vector<NodeId> map_;
};

// users[i]: the nodes that take node i as an input (once per use), in order.
std::vector<std::vector<NodeId>> users_of(const Graph &g);

// Whether node i is a root, by id.
std::vector<bool> root_mask(const RootedGraph &in);

// Whether a node's output is a variable's storage: the variable itself and
// its updates (ir/op.h). Updates rewrite that storage in place as the graph
// runs in order, so a node that takes such a value as an input reads it as of
// its own position: two reads agree only when no update runs between them.
bool aliases_variable(const Node &n);

// storage[i]: the variable whose storage node i's output is (the variable
// itself, or the one an update writes), -1 for other nodes.
std::vector<NodeId> variable_storage(const Graph &g);

// The variables node `n` writes: an update's, and for a fused update (a
// node with a body) the variable of every member update as well.
std::vector<NodeId> variables_written(const Node &n, std::span<const NodeId> storage);

// The variables node `n` reads: those whose storage its inputs are.
std::vector<NodeId> variables_read(const Node &n, std::span<const NodeId> storage);

// updates_before[i]: how many updates_variable nodes come before node i; the
// extra last entry is their total.
std::vector<int> updates_before(const Graph &g);

} // namespace kiln
