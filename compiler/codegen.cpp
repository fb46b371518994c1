#include "compiler/codegen.h"

#include "compiler/elementwise.h"
#include "compiler/emitter.h"

#include <llvm/TargetParser/Triple.h>

#include <algorithm>
#include <unordered_map>

namespace kiln::compiler {

namespace {

bool attrs_alike(const Attrs &a, const Attrs &b);

// Equal but for node names, which never reach the IR (a fused node's body:
// the same layer's fusion in another layer has other member names).
bool bodies_alike(const Graph &a, const Graph &b) {
  return a.size() == b.size() && std::equal(a.nodes().begin(), a.nodes().end(), b.nodes().begin(),
                                            [](const Node &x, const Node &y) {
                                              return x.op == y.op && x.inputs == y.inputs &&
                                                     x.type == y.type &&
                                                     attrs_alike(x.attrs, y.attrs);
                                            });
}

bool attrs_alike(const Attrs &a, const Attrs &b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](const auto &x, const auto &y) {
           if (x.first != y.first || kind_of(x.second) != kind_of(y.second)) return false;
           if (kind_of(x.second) != AttrKind::graph) return attr_equal(x.second, y.second);
           using Body = std::shared_ptr<const Graph>;
           return bodies_alike(*std::get<Body>(x.second), *std::get<Body>(y.second));
         });
}

// What a node's lowering reads besides buffer numbers: its op and attributes
// (a fused node's body among them, but for its names), its output and input
// types, which inputs are the same buffer, and the values of one-element
// constants (emitted as immediates, ModuleEmitter::operand). Two nodes alike
// in all of it lower to the same IR, so only the first is emitted: a chain of
// 100,000 equal nodes emits one unit, not 100,000 to print and key.
struct LoweringInputs {
  const Graph &g;
  std::span<const TensorType> types;

  const TensorType &type(NodeId id) const { return types[size_t(id)]; }

  const Tensor *immediate(NodeId id) const {
    const Node &n = g.node(id);
    return n.op->source == Source::constant && num_elements(type(id).shape) == 1
               ? &n.attr_tensor("value")
               : nullptr;
  }

  size_t hash(const Node &n) const {
    size_t h = std::hash<const void *>()(n.op);
    auto mix = [&h](const TensorType &t) {
      for (int64_t v : t.shape) h = h * 31 + size_t(v);
      h = h * 31 + size_t(t.dtype);
    };
    mix(type(n.id));
    for (NodeId id : n.inputs) mix(type(id));
    return h;
  }

  bool alike(const Node &a, const Node &b) const {
    if (a.op != b.op || a.inputs.size() != b.inputs.size() || type(a.id) != type(b.id) ||
        !attrs_alike(a.attrs, b.attrs))
      return false;
    for (size_t i = 0; i < a.inputs.size(); ++i) {
      if (type(a.inputs[i]) != type(b.inputs[i]) ||
          first_of(a, a.inputs[i]) != first_of(b, b.inputs[i]))
        return false;
      const Tensor *x = immediate(a.inputs[i]), *y = immediate(b.inputs[i]);
      if ((x == nullptr) != (y == nullptr) || (x && !attr_equal(*x, *y))) return false;
    }
    return true;
  }

  // The first input of `n` that is `id`.
  static size_t first_of(const Node &n, NodeId id) {
    return size_t(std::find(n.inputs.begin(), n.inputs.end(), id) - n.inputs.begin());
  }
};

// What emitting a node added to the program, to copy for a node alike.
struct EmittedNode {
  NodeId id;
  size_t kernels_begin, kernels_end, buffers_begin, buffers_end;
  std::optional<size_t> unit;
};

// Gives `to` the kernels and scratch buffers that emitting `from`, a node
// alike, added: the same calls over `to`'s buffers, sharing `from`'s unit.
// False (nothing added) when a kernel uses a buffer that is not the node's
// output, one of its inputs or its own scratch.
bool copy_emitted(const Graph &g, const EmittedNode &from, const Node &to, EmittedProgram &out) {
  const Node &source = g.node(from.id);
  auto buffer_of = [&](int32_t b) -> std::optional<int32_t> {
    if (b == from.id) return to.id;
    if (size_t(b) >= from.buffers_begin && size_t(b) < from.buffers_end)
      return int32_t(out.buffers.size() + (size_t(b) - from.buffers_begin));
    size_t i = LoweringInputs::first_of(source, b);
    if (i < source.inputs.size()) return to.inputs[i];
    return std::nullopt;
  };
  std::vector<Kernel> kernels(out.kernels.begin() + ptrdiff_t(from.kernels_begin),
                              out.kernels.begin() + ptrdiff_t(from.kernels_end));
  for (Kernel &k : kernels) {
    k.node = to.id;
    for (int32_t &b : k.buffers) {
      std::optional<int32_t> mapped = buffer_of(b);
      if (!mapped) return false;
      b = *mapped;
    }
    if (k.index_check) k.index_check->record = *buffer_of(k.index_check->record);
  }
  for (size_t b = from.buffers_begin; b < from.buffers_end; ++b) {
    BufferInfo scratch = out.buffers[b];
    scratch.owner = to.id;
    out.buffers.push_back(scratch);
  }
  EmittedUnit unit;
  unit.same_as = from.unit;
  for (Kernel &k : kernels) {
    if (k.collective == CollectiveStep::none) unit.kernels.push_back(out.kernels.size());
    out.kernels.push_back(std::move(k));
  }
  if (from.unit) out.units.push_back(std::move(unit));
  return true;
}

} // namespace

EmittedProgram emit_program(const Graph &g, std::span<const TensorType> types,
                            std::span<const NodeId> schedule, const llvm::DataLayout &layout,
                            const llvm::Triple &triple, bool share_alike) {
  EmittedProgram out;
  for (const Node &n : g.nodes())
    out.buffers.push_back(
        {n.id, n.id, types[size_t(n.id)].dtype, num_elements(types[size_t(n.id)].shape)});
  LoweringInputs inputs{g, types};
  std::unordered_map<size_t, std::vector<EmittedNode>> emitted; // by LoweringInputs::hash
  for (NodeId id : schedule) {
    const Node &node = g.node(id);
    std::vector<EmittedNode> *alike = share_alike ? &emitted[inputs.hash(node)] : nullptr;
    if (alike) {
      auto found = std::find_if(alike->begin(), alike->end(), [&](const EmittedNode &e) {
        return inputs.alike(g.node(e.id), node);
      });
      if (found != alike->end() && copy_emitted(g, *found, node, out)) continue;
    }
    EmittedNode record{id, out.kernels.size(), 0, out.buffers.size(), 0, std::nullopt};
    EmittedUnit unit;
    unit.context = std::make_unique<llvm::LLVMContext>();
    unit.module = std::make_unique<llvm::Module>("kiln", *unit.context);
    unit.module->setDataLayout(layout);
    unit.module->setTargetTriple(triple.str());
    ModuleEmitter emitter(unit, g, types, out, id);
    if (node.op->scalar)
      emit_elementwise(emitter);
    else
      node.op->lower(emitter);
    if (!unit.kernels.empty()) {
      record.unit = out.units.size();
      out.units.push_back(std::move(unit));
    }
    record.kernels_end = out.kernels.size();
    record.buffers_end = out.buffers.size();
    if (alike) alike->push_back(record);
  }
  return out;
}

} // namespace kiln::compiler
