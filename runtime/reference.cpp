#include "runtime/reference.h"

#include "ir/error.h"

namespace kiln {

std::vector<Tensor> run_reference(const Graph &g, const Feeds &feeds,
                                  const std::vector<NodeRef> &fetches) {
  BoundFeeds bound = bind_feeds(g, feeds);
  std::vector<NodeId> roots;
  for (const NodeRef &f : fetches) roots.push_back(f.resolve(g));
  std::vector<TensorType> types = bind_types(g, bound.batch_size);
  std::vector<Tensor> values(g.size());
  for (const auto &[id, tensor] : bound.feeds) values[size_t(id)] = tensor;
  for (NodeId id : needed_nodes(g, roots, bound)) {
    const Node &n = g.node(id);
    if (n.op->source == Source::placeholder) continue;
    std::vector<Tensor> inputs;
    for (NodeId in : n.inputs) inputs.push_back(values[size_t(in)]);
    Tensor out(types[size_t(id)].dtype, types[size_t(id)].shape);
    n.op->reference(n, inputs, out);
    // Later readers of an updated variable see its new value, as compiled code does.
    if (n.op->updates_variable) values[size_t(n.inputs[0])] = out;
    values[size_t(id)] = std::move(out);
  }
  std::vector<Tensor> results;
  for (NodeId id : roots) results.push_back(values[size_t(id)]);
  return results;
}

} // namespace kiln
