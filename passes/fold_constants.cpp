// Constant folding: a node computed from constants alone becomes a constant
// of the same name holding its value, computed here once with the op's
// reference kernel instead of on every run. The value has the node's dtype:
// the kernels compute in double where it matters and store into a tensor of
// the node's type.
//
// Not folded: stateful and updating ops (a random draw or an assignment is
// an effect, not just a value), results with the symbolic batch dim (not
// known before a run) and results over kMaxFoldedElements.
#include "passes/passes.h"
#include "passes/rewrite.h"

#include <algorithm>

namespace kiln {

namespace {

// A folded result is stored in the graph, so in every compiled program and
// saved model, while the node it replaces costs only its (small) inputs: a
// broadcast of a scalar to [4096, 4096] would trade a cheap kernel for 64 MB
// of data. Up to 1M elements (4 MB of f32) the stored value is a fair price
// for the work saved on every run.
constexpr int64_t kMaxFoldedElements = int64_t{1} << 20;

bool foldable(const Graph &out, const Node &n, const std::vector<NodeId> &inputs) {
  const OpDef &op = *n.op;
  if (op.source != Source::none || op.stateful || op.updates_variable || !op.reference)
    return false;
  if (has_batch(n.type.shape) || num_elements(n.type.shape) > kMaxFoldedElements) return false;
  return std::all_of(inputs.begin(), inputs.end(),
                     [&](NodeId in) { return out.node(in).op->source == Source::constant; });
}

Tensor evaluate(const Graph &out, const Node &n, const std::vector<NodeId> &inputs) {
  std::vector<Tensor> values;
  for (NodeId in : inputs) values.push_back(out.node(in).attr_tensor("value"));
  Tensor result(n.type.dtype, n.type.shape);
  n.op->reference(n, values, result);
  return result;
}

} // namespace

RootedGraph fold_constants(const RootedGraph &in) {
  Rewriter r(in);
  for (const Node &n : in.graph.nodes()) {
    std::vector<NodeId> inputs = r.mapped_inputs(n);
    if (!foldable(r.output(), n, inputs)) {
      r.copy(n);
      continue;
    }
    Tensor value = evaluate(r.output(), n, inputs);
    r.replace(n.id, r.output().add_node("constant", n.name, {}, {{"value", std::move(value)}}));
  }
  return std::move(r).finish();
}

} // namespace kiln
