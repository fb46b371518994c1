// Dead-code elimination: keeps what the roots need, transitively.
#include "passes/passes.h"
#include "passes/rewrite.h"

namespace kiln {

RootedGraph eliminate_dead_code(const RootedGraph &in) {
  const Graph &g = in.graph;
  std::vector<bool> live = root_mask(in);
  for (NodeId id = NodeId(g.size()); id-- > 0;)
    if (live[size_t(id)])
      for (NodeId input : g.node(id).inputs) live[size_t(input)] = true;
  Rewriter r(in);
  for (const Node &n : g.nodes())
    if (live[size_t(n.id)]) r.copy(n);
  return std::move(r).finish();
}

} // namespace kiln
