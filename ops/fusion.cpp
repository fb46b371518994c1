#include "ops/fusion.h"

#include "ir/error.h"
#include "ir/graph.h"
#include "ops/lowering.h"
#include "ops/op_util.h"

#include <cstring>

namespace kiln::ops {

namespace {

const Graph &body_of(const Node &node) {
  return *std::get<std::shared_ptr<const Graph>>(node.attr("body"));
}

// A fused body's stand-in for input `index` of its fused node.
OpDef parameter_op() {
  OpDef def;
  def.name = "parameter";
  def.source = Source::placeholder;
  def.attrs = {{"index", AttrKind::i, std::nullopt},
               {"dtype", AttrKind::dtype, std::nullopt},
               {"shape", AttrKind::ints, std::nullopt}};
  def.infer = [](const Node &node, std::span<const TensorType>) {
    check_dims(node.attr_ints("shape"), /*allow_batch=*/true);
    return TensorType{node.attr_dtype("dtype"), node.attr_ints("shape")};
  };
  return def;
}

TensorType infer_fused(const Node &node, std::span<const TensorType> in) {
  const Graph &body = body_of(node);
  size_t parameters = 0;
  for (const Node &n : body.nodes()) {
    if (n.op->name != "parameter") continue;
    size_t index = size_t(n.attr_int("index"));
    if (index >= in.size())
      fail("body parameter '{}' is input {}, the node has {} inputs", n.name, index, in.size());
    if (!(in[index] == n.type))
      fail("input {} is {}, its body parameter '{}' is {}", index, to_string(in[index]), n.name,
           to_string(n.type));
    ++parameters;
  }
  if (parameters != in.size())
    fail("the body has {} parameters for {} inputs", parameters, in.size());
  if (body.size() == parameters) fail("the body computes nothing");
  // An output fusion's first member is its anchor, a reduce fusion's last
  // its reduction; the rest are elementwise or views of parameters.
  const std::string &kind = node.attr_string("kind");
  bool anchored = kind == "output";
  const Node &last = body.nodes().back();
  if (kind == "reduce") {
    if (!last.op->takes_prologue || last.inputs.size() != 1 ||
        !last.op->takes_prologue(last, body.node(last.inputs[0]).type))
      fail("the last member of a reduce fusion, {}, is not a row reduction", last.describe());
    if (body.size() < parameters + 2) fail("a reduce fusion needs a member before its reduction");
  }
  for (const Node &n : body.nodes()) {
    if (n.op->source != Source::none && n.op->name != "parameter")
      fail("body member {} is a source: bodies take sources as inputs", n.describe());
    if (n.op->source != Source::none || n.op->scalar || (kind == "reduce" && &n == &last)) continue;
    if (is_view_member(n)) {
      if (kind == "reduce")
        fail("body member {} is a view: a reduce fusion reads its inputs whole", n.describe());
      if (body.node(n.inputs.at(0)).op->source == Source::none)
        fail("body member {} views member {}: a view's input must be a parameter", n.describe(),
             body.node(n.inputs[0]).describe());
      if (n.type.shape != last.type.shape)
        fail("body member {} is {}, the fused node {}: a view is read in a loop of its shape",
             n.describe(), to_string(n.type), to_string(last.type));
      continue;
    }
    if (!anchored || n.id != NodeId(parameters) || !n.op->takes_epilogue ||
        !n.op->takes_epilogue(n))
      fail("body member {} is not elementwise", n.describe());
    if (!(n.type == body.nodes().back().type))
      fail("the anchor {} is {}, the fused node {}", n.describe(), to_string(n.type),
           to_string(body.nodes().back().type));
  }
  return body.nodes().back().type;
}

// The batch size that binds the body's types: read off the first input with
// a batch dim.
int64_t batch_of(const Graph &body, std::span<const Tensor> in) {
  for (const Node &n : body.nodes()) {
    if (n.op->name != "parameter") continue;
    const Shape &s = n.type.shape;
    for (size_t d = 0; d < s.size(); ++d)
      if (is_batch(s[d])) return in[size_t(n.attr_int("index"))].shape()[d];
  }
  return 1;
}

// Runs the members' reference kernels in order. A member that updates a
// variable writes through to the tensor of the input it updates, as the
// compiled loop stores into the variable.
void reference_fused(const Node &node, std::span<const Tensor> in, Tensor &out) {
  const Graph &body = body_of(node);
  std::vector<TensorType> types = bind_types(body, batch_of(body, in));
  std::vector<Tensor> values(body.size());
  for (const Node &n : body.nodes()) {
    if (n.op->name == "parameter") {
      values[size_t(n.id)] = in[size_t(n.attr_int("index"))];
      continue;
    }
    std::vector<Tensor> args;
    for (NodeId i : n.inputs) args.push_back(values[size_t(i)]);
    bool last = size_t(n.id) + 1 == body.size();
    Tensor result = last ? out : Tensor(types[size_t(n.id)].dtype, types[size_t(n.id)].shape);
    n.op->reference(n, args, result);
    if (n.op->updates_variable) {
      Tensor target = values[size_t(n.inputs[0])];
      std::memcpy(target.raw(), result.raw(), result.bytes());
    }
    values[size_t(n.id)] = result;
  }
}

OpDef fused_op(std::string name, bool updates) {
  OpDef def;
  def.name = std::move(name);
  def.min_inputs = updates ? 1 : 0;
  def.max_inputs = -1;
  def.attrs = {{"kind", AttrKind::s, std::nullopt}, {"body", AttrKind::graph, std::nullopt}};
  def.stateful = updates;
  def.updates_variable = updates;
  def.infer = infer_fused;
  def.reference = reference_fused;
  def.lower = [](compiler::Lowering &l) { l.fused_loop(body_of(l.node())); };
  return def;
}

} // namespace

bool is_loop_fusion(const Node &n) {
  return n.op->name == "fusion" && n.attr_string("kind") == "loop";
}

bool is_pure_elementwise(const Node &n) {
  return (n.op->scalar && !n.op->stateful) || is_loop_fusion(n);
}

bool is_view_member(const Node &n) {
  return n.op->source == Source::none && !n.op->scalar && n.op->input_view;
}

void register_fusion_ops(OpRegistry &registry) {
  registry.add(parameter_op());
  registry.add(fused_op("fusion", false));
  registry.add(fused_op("fused_update", true));
}

} // namespace kiln::ops
