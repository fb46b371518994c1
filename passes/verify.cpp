// verify_pass_output (passes/pass.h): what `kiln dump --verify-each` checks
// after every pass. Graphs are checked as they are built (Graph::add_node), so
// building each node again in a fresh graph checks it again: its op, inputs
// in order, attributes and type.
#include "ir/error.h"
#include "passes/pass.h"

namespace kiln {

namespace {

void verify_graph(const Graph &g) {
  Graph rebuilt;
  for (const Node &n : g.nodes()) {
    if (n.id != NodeId(rebuilt.size()))
      fail("{} has id {} at position {}", n.describe(), n.id, rebuilt.size());
    NodeId id = rebuilt.add_node(n.op->name, n.name, n.inputs, n.attrs);
    const TensorType &inferred = rebuilt.node(id).type;
    if (!(inferred == n.type))
      fail("{} holds type {}, its op infers {}", n.describe(), to_string(n.type),
           to_string(inferred));
    for (const auto &[key, value] : n.attrs)
      if (auto *body = std::get_if<std::shared_ptr<const Graph>>(&value)) {
        try {
          verify_graph(**body);
        } catch (const Error &e) {
          fail("{}, attribute '{}': {}", n.describe(), key, e.what());
        }
      }
  }
}

} // namespace

void verify_pass_output(const RootedGraph &before, const RootedGraph &after) {
  verify_graph(after.graph);
  if (after.roots.size() != before.roots.size())
    fail("{} roots, the graph it took has {}", after.roots.size(), before.roots.size());
  for (size_t i = 0; i < after.roots.size(); ++i) {
    NodeId root = after.roots[i];
    if (root < 0 || size_t(root) >= after.graph.size())
      fail("root {} is node id {}, the graph has {} nodes", i, root, after.graph.size());
    const Node &was = before.graph.node(before.roots[i]), &now = after.graph.node(root);
    if (was.name != now.name) fail("root {} was '{}', is '{}'", i, was.name, now.name);
    if (!(was.type == now.type))
      fail("root {} '{}' was {}, is {}", i, now.name, to_string(was.type), to_string(now.type));
  }
}

} // namespace kiln
