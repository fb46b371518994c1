// An input read only for its shape (OpDef::shape_only_inputs) still keeps its
// producer alive and gives it one more user, which stops fusion: autodiff's
// mean gradient reads the shape of the loss terms, so the terms would be
// stored just for that. This pass points such an input at a node of the
// same shape that costs nothing to keep: a source, or a node read after this
// one anyway.
#include "passes/passes.h"
#include "passes/rewrite.h"

#include <map>

namespace kiln {

RootedGraph retarget_shape_inputs(const RootedGraph &in) {
  const Graph &g = in.graph;
  std::vector<NodeId> last_use(g.size(), -1);
  for (const Node &n : g.nodes())
    for (NodeId input : n.inputs) last_use[size_t(input)] = n.id;
  std::map<Shape, std::vector<NodeId>> by_shape; // in graph order
  Rewriter r(in);
  for (const Node &n : g.nodes()) {
    std::vector<NodeId> inputs = r.mapped_inputs(n);
    for (size_t i : n.op->shape_only_inputs) {
      for (NodeId c : by_shape[g.node(n.inputs[i]).type.shape]) {
        if (g.node(c).op->source != Source::none || last_use[size_t(c)] > n.id) {
          inputs[i] = r[c];
          break;
        }
      }
    }
    r.replace(n.id, r.output().add_node(n.op->name, n.name, std::move(inputs), n.attrs));
    by_shape[n.type.shape].push_back(n.id);
  }
  return std::move(r).finish();
}

} // namespace kiln
