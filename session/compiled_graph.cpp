#include "session/compiled_graph.h"

#include <chrono>
#include <map>

namespace kiln {

CompiledGraph compile_graph(compiler::ProgramCompiler &compiler, RootedGraph optimized,
                            int64_t batch_size, bool plan_memory) {
  CompiledGraph c{std::move(optimized), {}, {}, std::nullopt, 0};
  const Graph &g = c.graph.graph;
  c.types = bind_types(g, batch_size);
  std::vector<NodeId> schedule;
  for (const Node &n : g.nodes())
    if (n.op->source == Source::none) schedule.push_back(n.id);
  c.program = compiler.compile(g, c.types, schedule);
  if (plan_memory) {
    auto start = std::chrono::steady_clock::now();
    c.memory = compiler::plan_memory(g, c.types, c.graph.roots, c.program);
    // Cheap next to compiling, and a wrong plan corrupts results silently.
    compiler::verify(*c.memory, c.program);
    c.memory_plan_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  }
  return c;
}

namespace {

// A copy (compiler::Kernel::copy) whose source the memory plan put at its
// destination's bytes: it runs no task.
bool copies_onto_itself(const CompiledGraph &c, const compiler::Kernel &kernel) {
  if (!kernel.copy || !c.memory || kernel.buffers.size() != 2) return false;
  const compiler::PlannedBuffer &to = c.memory->buffers[size_t(kernel.buffers.at(0))];
  const compiler::PlannedBuffer &from = c.memory->buffers[size_t(kernel.buffers.at(1))];
  return to.in_arena && from.in_arena && to.offset == from.offset;
}

} // namespace

Plan make_plan(const CompiledGraph &c, std::string name, size_t outputs,
               const PlanNumbering &numbering) {
  const Graph &g = c.graph.graph;
  auto spec = [&](NodeId id) {
    const TensorType &t = c.types[size_t(id)];
    return TensorSpec{g.node(id).name, t.dtype, t.shape};
  };
  Plan plan{.name = std::move(name), .arena_bytes = c.memory ? c.memory->arena_bytes : 0};
  std::map<NodeId, int64_t> input_index;
  for (const Node &n : g.nodes())
    if (n.op->source == Source::placeholder) {
      input_index[n.id] = int64_t(plan.inputs.size());
      plan.inputs.push_back(spec(n.id));
    }
  for (size_t i = 0; i < c.program.buffers.size(); ++i) {
    const compiler::BufferInfo &info = c.program.buffers[i];
    PlanBuffer b{.dtype = info.dtype, .elements = info.elements};
    const Node *n = info.node >= 0 ? &g.node(info.node) : nullptr;
    Source source = n ? n->op->source : Source::none;
    if (c.memory && c.memory->buffers[i].in_arena)
      b.place = Place::arena, b.where = int64_t(c.memory->buffers[i].offset);
    else if (source == Source::variable)
      b.place = Place::variable, b.where = numbering.variable(*n);
    else if (n && n->op->updates_variable)
      b.place = Place::in_place, b.where = n->inputs[0];
    else if (source == Source::constant)
      b.place = Place::constant, b.where = numbering.constant(*n);
    else if (source == Source::placeholder)
      b.place = Place::input, b.where = input_index.at(n->id);
    plan.buffers.push_back(b);
  }
  for (size_t k = 0; k < c.program.kernels.size(); ++k) {
    const compiler::Kernel &kernel = c.program.kernels[k];
    uint32_t function = kernel.collective == CollectiveStep::none ? numbering.function(k) : 0;
    std::optional<IndexCheck> index_check;
    if (const auto &check = kernel.index_check) {
      NodeId indices = g.node(kernel.node).inputs.at(check->input);
      index_check = {check->record,
                     indices,
                     check->limit,
                     c.types[size_t(indices)].shape,
                     g.node(kernel.node).describe(),
                     g.node(indices).name};
    }
    uint32_t writes = 0;
    for (size_t a = 0; a < kernel.buffers.size() && a < 32; ++a) {
      const compiler::BufferInfo &info = c.program.buffers[size_t(kernel.buffers[a])];
      if (info.node == kernel.node || (info.node < 0 && info.owner == kernel.node))
        writes |= 1u << a;
    }
    plan.kernels.push_back({function, copies_onto_itself(c, kernel) ? 0 : kernel.num_tasks,
                            kernel.task_cost, kernel.buffers, writes, kernel.collective,
                            std::move(index_check)});
  }
  for (size_t f = 0; f < outputs; ++f) {
    NodeId id = c.graph.roots[f];
    plan.outputs.push_back(spec(id));
    plan.output_buffers.push_back(int32_t(id));
  }
  return plan;
}

} // namespace kiln
