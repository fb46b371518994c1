// How the fusion passes build a fused node (ops/fusion.h): members are added
// in order, values from outside become the body's parameters (the fused
// node's inputs, in order of first use), and a loop fusion added as a member
// is inlined, its own parameters mapped to what they stand for.
#pragma once

#include "passes/rewrite.h"

#include <memory>
#include <unordered_map>

namespace kiln {

class FusedBody {
public:
  explicit FusedBody(const Graph &g) : g_(g), body_(std::make_shared<Graph>()) {}

  // The body node standing for outer node `id`: the member, or a parameter
  // (added the first time).
  NodeId value(NodeId id);
  // Adds outer node `n` (all its inputs become values).
  NodeId add(const Node &n);
  // Adds the fused node to `r`'s output and maps every member to it.
  NodeId finish(Rewriter &r, const std::string &op, const std::string &name,
                const std::string &kind);

private:
  const Graph &g_;
  std::shared_ptr<Graph> body_;
  std::vector<NodeId> inputs_; // outer ids, one per parameter
  std::vector<NodeId> members_;
  std::unordered_map<NodeId, NodeId> map_; // outer id -> body id
};

} // namespace kiln
