// Epilogue fusion: a matmul or conv2d whose only user is an elementwise node
// (or a loop fusion) of its type joins it as the anchor of an output fusion
// (ops/fusion.h): the bias add and activation then run in the anchor's
// kernel, on each tile as it is finished, and its result never makes a
// round trip through memory.
#include "ops/fusion.h"
#include "passes/fused_body.h"
#include "passes/passes.h"

namespace kiln {

namespace {

class EpilogueFusion {
public:
  explicit EpilogueFusion(const RootedGraph &in)
      : in_(in), g_(in.graph), users_(users_of(g_)), is_root_(root_mask(in)),
        updates_(updates_before(g_)), anchor_(g_.size(), -1), absorbed_(g_.size(), false) {}

  RootedGraph run() {
    for (const Node &n : g_.nodes()) {
      if (!ops::is_pure_elementwise(n)) continue;
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
        add_fused(r, g_.node(anchor_[size_t(n.id)]), n);
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

  void add_fused(Rewriter &r, const Node &anchor, const Node &user) {
    FusedBody body(g_);
    // Parameters first, so that the anchor is the body's first member.
    for (NodeId in : anchor.inputs) body.value(in);
    for (NodeId in : user.inputs)
      if (in != anchor.id) body.value(in);
    body.add(anchor);
    body.add(user);
    body.finish(r, "fusion", user.name, "output");
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
