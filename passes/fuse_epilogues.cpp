// Epilogue fusion: a matmul or conv2d whose only user is an elementwise node
// (or a loop fusion) of its type joins it as the anchor of an output fusion
// (ops/fusion.h): the bias add and activation then run in the anchor's
// kernel, on each tile as it is finished, and its result never makes a
// round trip through memory.
#include "passes/passes.h"
#include "passes/rewrite.h"

#include <memory>

namespace kiln {

namespace {

bool loop_fusion(const Node &n) {
  return n.op->name == "fusion" && n.attr_string("kind") == "loop";
}

bool elementwise(const Node &n) { return (n.op->scalar && !n.op->stateful) || loop_fusion(n); }

class EpilogueFusion {
public:
  explicit EpilogueFusion(const RootedGraph &in)
      : in_(in), g_(in.graph), users_(users_of(g_)), is_root_(root_mask(in)),
        updates_(updates_before(g_)), anchor_(g_.size(), -1), absorbed_(g_.size(), false) {}

  RootedGraph run() {
    for (const Node &n : g_.nodes()) {
      if (!elementwise(n)) continue;
      for (NodeId in : n.inputs)
        if (can_anchor(g_.node(in), n)) {
          anchor_[size_t(n.id)] = in;
          absorbed_[size_t(in)] = true;
          break;
        }
    }
    Rewriter r(in_);
    for (const Node &n : g_.nodes()) {
      if (absorbed_[size_t(n.id)]) continue; // emitted with its epilogue
      if (anchor_[size_t(n.id)] < 0)
        r.copy(n);
      else
        r.replace(n.id, add_fused(r, g_.node(anchor_[size_t(n.id)]), n));
    }
    return std::move(r).finish();
  }

private:
  bool can_anchor(const Node &a, const Node &user) const {
    if (!a.op->takes_epilogue || !a.op->takes_epilogue(a) || is_root_[size_t(a.id)] ||
        absorbed_[size_t(a.id)] || !(a.type == user.type))
      return false;
    if (users_[size_t(a.id)] != std::vector<NodeId>{user.id}) return false;
    // The anchor moves to its user: no update may run in between (it may
    // read the variable the update writes).
    return updates_[size_t(a.id)] == updates_[size_t(user.id)];
  }

  NodeId add_fused(Rewriter &r, const Node &anchor, const Node &user) {
    auto body = std::make_shared<Graph>();
    std::vector<NodeId> inputs; // outer ids, one per parameter
    std::vector<NodeId> param;  // outer id -> body id
    param.assign(g_.size(), -1);
    auto parameter = [&](NodeId outer) {
      if (param[size_t(outer)] >= 0) return param[size_t(outer)];
      const Node &in = g_.node(outer);
      param[size_t(outer)] = body->add_node(
          "parameter", in.name, {},
          {{"index", int64_t(inputs.size())}, {"dtype", in.type.dtype}, {"shape", in.type.shape}});
      inputs.push_back(outer);
      return param[size_t(outer)];
    };
    // Parameters first, the anchor's, then the epilogue's.
    for (NodeId in : anchor.inputs) parameter(in);
    for (NodeId in : user.inputs)
      if (in != anchor.id) parameter(in);
    std::vector<NodeId> anchor_inputs;
    for (NodeId in : anchor.inputs) anchor_inputs.push_back(param[size_t(in)]);
    NodeId a = body->add_node(anchor.op->name, anchor.name, anchor_inputs, anchor.attrs);
    auto outer_to_body = [&](NodeId outer) {
      return outer == anchor.id ? a : param[size_t(outer)];
    };
    if (!loop_fusion(user)) {
      std::vector<NodeId> args;
      for (NodeId in : user.inputs) args.push_back(outer_to_body(in));
      body->add_node(user.op->name, user.name, args, user.attrs);
    } else { // the loop's members, its parameters mapped to the new ones
      const Graph &loop = *std::get<std::shared_ptr<const Graph>>(user.attr("body"));
      std::vector<NodeId> map(loop.size(), -1);
      for (const Node &m : loop.nodes()) {
        if (m.op->source != Source::none) {
          map[size_t(m.id)] = outer_to_body(user.inputs[size_t(m.attr_int("index"))]);
          continue;
        }
        std::vector<NodeId> args;
        for (NodeId in : m.inputs) args.push_back(map[size_t(in)]);
        map[size_t(m.id)] = body->add_node(m.op->name, m.name, args, m.attrs);
      }
    }
    std::vector<NodeId> outer_inputs;
    for (NodeId in : inputs) outer_inputs.push_back(r[in]);
    return r.output().add_node(
        "fusion", user.name, std::move(outer_inputs),
        {{"kind", std::string("output")}, {"body", std::shared_ptr<const Graph>(std::move(body))}});
  }

  const RootedGraph &in_;
  const Graph &g_;
  std::vector<std::vector<NodeId>> users_;
  std::vector<bool> is_root_;
  std::vector<int> updates_;
  std::vector<NodeId> anchor_; // per epilogue node: its anchor
  std::vector<bool> absorbed_; // anchors, emitted with their epilogue
};

} // namespace

RootedGraph fuse_epilogues(const RootedGraph &in) { return EpilogueFusion(in).run(); }

} // namespace kiln
