// Reduction fusion: a sum, mean, max or min absorbs the elementwise node (or
// loop fusion) that computes its input, when that is its only use: each task
// of the reduction computes the slab it reduces and reduces it at once, and
// the input never exists whole (ops/fusion.h, kind "reduce").
#include "ops/fusion.h"
#include "passes/fused_body.h"
#include "passes/passes.h"

namespace kiln {

namespace {

// The slab is computed index by index over the producer's shape: inputs must
// have that shape or be single elements, read whole (no member a view).
bool slab_computable(const Graph &g, const Node &producer) {
  for (NodeId in : producer.inputs) {
    const Shape &s = g.node(in).type.shape;
    if (s != producer.type.shape && !(num_elements(s) == 1 && !has_batch(s))) return false;
  }
  if (!ops::is_loop_fusion(producer)) return true;
  const Graph &body = *std::get<std::shared_ptr<const Graph>>(producer.attr("body"));
  return std::none_of(body.nodes().begin(), body.nodes().end(), ops::is_view_member);
}

} // namespace

RootedGraph fuse_reductions(const RootedGraph &in) {
  const Graph &g = in.graph;
  std::vector<std::vector<NodeId>> users = users_of(g);
  std::vector<bool> is_root = root_mask(in);
  std::vector<int> updates = updates_before(g);
  std::vector<NodeId> producer(g.size(), -1);
  std::vector<bool> absorbed(g.size(), false);
  for (const Node &n : g.nodes()) {
    if (!n.op->takes_prologue || n.inputs.size() != 1) continue;
    const Node &p = g.node(n.inputs[0]);
    if (!ops::is_pure_elementwise(p) || is_root[size_t(p.id)] || users[size_t(p.id)].size() != 1 ||
        !n.op->takes_prologue(n, p.type) || !slab_computable(g, p) ||
        updates[size_t(p.id)] != updates[size_t(n.id)]) // p moves to n
      continue;
    producer[size_t(n.id)] = p.id;
    absorbed[size_t(p.id)] = true;
  }
  Rewriter r(in);
  for (const Node &n : g.nodes()) {
    if (absorbed[size_t(n.id)]) continue; // emitted with its reduction
    if (producer[size_t(n.id)] < 0) {
      r.copy(n);
      continue;
    }
    FusedBody body(g);
    body.add(g.node(producer[size_t(n.id)]));
    body.add(n);
    body.finish(r, "fusion", n.name, "reduce");
  }
  return std::move(r).finish();
}

} // namespace kiln
