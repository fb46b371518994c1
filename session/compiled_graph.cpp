#include "session/compiled_graph.h"

#include <chrono>

namespace kiln {

CompiledGraph compile_graph(compiler::Compiler &compiler, RootedGraph optimized, int64_t batch_size,
                            bool plan_memory) {
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

std::vector<BufferPlace> place_buffers(const CompiledGraph &c) {
  using Kind = BufferPlace::Kind;
  const Graph &g = c.graph.graph;
  std::vector<BufferPlace> places;
  for (size_t i = 0; i < c.program.buffers.size(); ++i) {
    const compiler::BufferInfo &b = c.program.buffers[i];
    const Node *n = b.node >= 0 ? &g.node(b.node) : nullptr;
    Source source = n ? n->op->source : Source::none;
    if (c.memory && c.memory->buffers[i].in_arena)
      places.push_back({.kind = Kind::arena, .offset = c.memory->buffers[i].offset});
    else if (source == Source::variable)
      places.push_back({.kind = Kind::variable, .node = n->id});
    else if (n && n->op->updates_variable)
      places.push_back({.kind = Kind::in_place, .buffer = int32_t(n->inputs[0])});
    else if (source == Source::constant)
      places.push_back({.kind = Kind::constant, .node = n->id});
    else if (source == Source::placeholder)
      places.push_back({.kind = Kind::placeholder, .node = n->id});
    else
      places.push_back({.kind = Kind::own});
  }
  return places;
}

} // namespace kiln
