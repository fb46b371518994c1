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

} // namespace kiln
