#include "passes/fused_body.h"

#include "ops/fusion.h"

namespace kiln {

NodeId FusedBody::value(NodeId id) {
  if (auto it = map_.find(id); it != map_.end()) return it->second;
  const Node &n = g_.node(id);
  NodeId p = body_->add_node(
      "parameter", n.name, {},
      {{"index", int64_t(inputs_.size())}, {"dtype", n.type.dtype}, {"shape", n.type.shape}});
  inputs_.push_back(id);
  return map_[id] = p;
}

NodeId FusedBody::add(const Node &n) {
  members_.push_back(n.id);
  if (!ops::is_loop_fusion(n)) {
    std::vector<NodeId> args;
    for (NodeId in : n.inputs) args.push_back(value(in));
    return map_[n.id] = body_->add_node(n.op->name, n.name, std::move(args), n.attrs);
  }
  const Graph &loop = *std::get<std::shared_ptr<const Graph>>(n.attr("body"));
  std::vector<NodeId> inner(loop.size(), -1);
  for (const Node &m : loop.nodes()) {
    if (m.op->source != Source::none) {
      inner[size_t(m.id)] = value(n.inputs[size_t(m.attr_int("index"))]);
      continue;
    }
    std::vector<NodeId> args;
    for (NodeId in : m.inputs) args.push_back(inner[size_t(in)]);
    inner[size_t(m.id)] = body_->add_node(m.op->name, m.name, std::move(args), m.attrs);
  }
  return map_[n.id] = inner.back();
}

NodeId FusedBody::finish(Rewriter &r, const std::string &op, const std::string &name,
                         const std::string &kind) {
  std::vector<NodeId> inputs;
  for (NodeId in : inputs_) inputs.push_back(r[in]);
  NodeId fused = r.output().add_node(
      op, name, std::move(inputs),
      {{"kind", kind}, {"body", std::shared_ptr<const Graph>(std::move(body_))}});
  for (NodeId m : members_) r.replace(m, fused);
  return fused;
}

} // namespace kiln
